"""The error answers the sandbox gives, shaped like WeChat Pay's ``{"code", "message", "detail"}``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

Location = Literal["body", "query", "path", "header"]


class ApiFailure(Exception):
    """Raised anywhere while answering a request; becomes the JSON error answer."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        detail: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.detail = dict(detail) if detail is not None else None
        self.headers = dict(headers) if headers is not None else {}

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.detail is not None:
            body["detail"] = self.detail
        return body


def clean_text(value: object, limit: int = 64) -> str:
    """A short, always-encodable copy of whatever the caller sent (lone surrogates escaped)."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > limit:
        text = text[:limit] + "..."
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def shown(value: object, limit: int = 64) -> str:
    """A value quoted for an error message."""
    return json.dumps(clean_text(value, limit), ensure_ascii=False)


def param_error(field: str, issue: str, *, location: Location, value: object = None) -> ApiFailure:
    detail: dict[str, Any] = {"field": field, "location": location, "issue": issue}
    if isinstance(value, str):
        detail["value"] = clean_text(value)
    elif isinstance(value, (int, float, bool)):
        detail["value"] = value
    return ApiFailure(400, "PARAM_ERROR", f"参数错误: {field} {issue}", detail=detail)


def sign_error(message: str) -> ApiFailure:
    return ApiFailure(401, "SIGN_ERROR", f"签名错误: {message}")


def invalid_request(message: str, *, detail: Mapping[str, Any] | None = None) -> ApiFailure:
    return ApiFailure(400, "INVALID_REQUEST", message, detail=detail)


def not_found(message: str) -> ApiFailure:
    return ApiFailure(404, "NOT_FOUND", message)


def no_auth(message: str) -> ApiFailure:
    return ApiFailure(403, "NO_AUTH", message)


def json_bytes(payload: Mapping[str, Any]) -> bytes:
    """An answer's JSON as the sandbox sends it; a lone surrogate in caller-given text becomes an escape."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "backslashreplace")
