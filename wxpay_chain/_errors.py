"""Every error wxpay_chain raises, in one tree.

::

    WxPayError                          catch-all for this SDK
    ├── ConfigurationError (ValueError) bad credentials or keys, raised when the client is built
    ├── InvalidRequestError (ValueError) bad input, raised before anything is sent
    ├── SignatureError                  a response or notification failed verification; no data handed back
    │   └── IntegrityError              a downloaded file did not match its hash or arrived cut short
    ├── StructureError (ValueError)     verified JSON did not fit the typed model; names the field path
    ├── TransportError                  no usable HTTP answer (connection refused, reset, closed client)
    │   ├── TransportTimeoutError (TimeoutError)
    │   ├── TLSError                    the TLS handshake failed: nothing was sent, and a retry cannot help
    │   └── ResponseTooLargeError       the answer was bigger than the SDK reads; nothing of it was used
    └── ApiError                        WeChat Pay answered with a non-2xx status, or APIv2 FAIL
        ├── RateLimitError              429: slow down, then retry
        └── ServerError                 5xx: safe to retry with the same request number

Messages say what happened and what to do next. None of them ever contains key material.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "MAX_ERROR_BODY",
    "ApiError",
    "ConfigurationError",
    "IntegrityError",
    "InvalidRequestError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ServerError",
    "SignatureError",
    "StructureError",
    "TLSError",
    "TransportError",
    "TransportTimeoutError",
    "WxPayError",
]

# APIv2 err_codes that WeChat Pay documents as "accepted, outcome unknown: query with the same number".
_IN_DOUBT = frozenset({"SYSTEMERROR", "PROCESSING"})

MAX_ERROR_BODY = 64 * 1024
"""How many bytes of an error answer's body ApiError keeps (``.body``) and parses; a longer body is not parsed."""
_MAX_SHOWN_MESSAGE = 500  # of a server's message in str(error)
_MAX_SHOWN_ID = 128  # of a Request-ID in str(error): real ones have about 40 characters


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def may_have_run(method: str, how: str) -> str:
    """What to tell a caller whose ``method`` call ended in doubt (``how``: "may have reached WeChat Pay",
    say), or nothing for a read, which changes nothing and is simply sent again."""
    if method in ("GET", "HEAD"):
        return ""
    return (
        f"; the request {how}, so query it or send it again with the same request number "
        "(send_request_no, out_trade_no, partner_trade_no, mch_billno...) before taking it as failed"
    )


def note_earlier_attempt(error: WxPayError, method: str) -> None:
    """A call's last attempt failed after an earlier one may have reached WeChat Pay: the last attempt's
    own words ("nothing was sent", a plain 4xx) must not speak for the whole call."""
    if isinstance(error, TransportError):
        if not error.connect_failed:
            return  # its own message says it may have arrived
        error.connect_failed = False
    elif isinstance(error, ApiError) and error.in_doubt:
        return  # its own message says it may have been carried out
    error.earlier = may_have_run(method, "may have reached WeChat Pay on an earlier attempt")


def not_json(error: ValueError) -> str:
    """The words for text that ``json.loads`` refused (a JSONDecodeError or UnicodeDecodeError), with where."""
    where = f" (line {error.lineno}, column {error.colno})" if isinstance(error, json.JSONDecodeError) else ""
    return f"is not valid JSON{where}"


class WxPayError(Exception):
    """Base class of every error raised by wxpay_chain.

    ``attempts`` lists why each attempt of a retried call failed, oldest first.
    """

    attempts: tuple[str, ...] = ()
    earlier = ""  # set by note_earlier_attempt: what an earlier attempt means for the call

    def __str__(self) -> str:
        text = super().__str__() + self.earlier
        if len(self.attempts) > 1:
            made = sum(1 for reason in self.attempts if reason.startswith("#"))  # not the notes between them
            text += f" [{made} attempt{'s' if made != 1 else ''}: " + "; ".join(self.attempts) + "]"
        return text


class ConfigurationError(WxPayError, ValueError):
    """The client was built with missing, malformed or mismatched credentials."""


class InvalidRequestError(WxPayError, ValueError):
    """The request breaks a rule the SDK can check locally; nothing was sent.

    ``problems`` lists ``(field, reason)`` pairs, one per wrong field.
    """

    def __init__(self, message: str, problems: Iterable[tuple[str, str]] = ()) -> None:
        self.problems: tuple[tuple[str, str], ...] = tuple(problems)
        if self.problems:
            details = "; ".join(f"{name}: {why}" for name, why in self.problems)
            message = f"{message}: {details}"
        super().__init__(message)


class SignatureError(WxPayError):
    """A response or notification could not be verified, so its content was not trusted.

    ``request_id`` is set when the answer carried one: quote it to WeChat Pay support.
    """

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        self.request_id = request_id
        if request_id:
            message = f"{message} (Request-ID {_clip(request_id, _MAX_SHOWN_ID)})"
        super().__init__(message)


class IntegrityError(SignatureError):
    """A downloaded file (a bill) did not match the hash WeChat Pay gave for it, failed to decrypt, or
    arrived cut short. Nothing of it was kept: download it again with a fresh download_url."""


class StructureError(WxPayError, ValueError):
    """A verified JSON document did not fit the model asked for.

    ``paths`` lists the failing field paths (``$.data[0].coupon_state``) with their reasons.
    ``request_id`` is the answer's Request-ID when known (``paginate()`` sets it, and its message names
    the page and the request that brought it), else None.
    """

    def __init__(self, message: str, paths: Iterable[str] = (), *, request_id: str | None = None) -> None:
        self.paths: tuple[str, ...] = tuple(paths)
        self.request_id = request_id
        self._summary = message
        if self.paths:
            message = f"{message}: " + "; ".join(self.paths)
        if request_id:
            message += f" (Request-ID {_clip(request_id, _MAX_SHOWN_ID)}; quote it to WeChat Pay support)"
        super().__init__(message)

    def on_page(self, number: int, request: str, request_id: str | None) -> StructureError:
        """The same error, placed on page ``number`` of a listing, the answer to ``request`` (method and target)."""
        where = f"page {number} of the listing ({_clip(request, _MAX_SHOWN_MESSAGE)}): {self._summary}"
        return StructureError(where, self.paths, request_id=request_id)


class TransportError(WxPayError):
    """No usable HTTP answer arrived. The request may or may not have reached WeChat Pay.

    ``connect_failed`` is true when no connection was made, so the request surely was not sent.
    ``request_id`` is the Request-ID of an answer cut off after its headers arrived (quote it to WeChat Pay
    support), else None.
    """

    request_id: str | None = None

    def __init__(self, message: str, *, connect_failed: bool = False, request_id: str | None = None) -> None:
        self.connect_failed = connect_failed
        self.request_id = request_id
        if request_id:
            message += f" (Request-ID {_clip(request_id, _MAX_SHOWN_ID)}; the answer had begun)"
        super().__init__(message)


class TransportTimeoutError(TransportError, TimeoutError):
    """The request did not complete within its timeout."""


class TLSError(TransportError):
    """The TLS handshake failed: the server's certificate is not trusted (see ``ssl_context=``), or it
    refused this client's certificate (``client_cert=``). Nothing was sent; the call is never retried."""

    def __init__(self, message: str) -> None:
        super().__init__(message, connect_failed=True)


class ResponseTooLargeError(TransportError):
    """The answer's body was longer than ``limit`` bytes, so it was neither read further nor trusted.

    The request did reach WeChat Pay; retry it with the same request number, or ask for smaller pages. A
    file from ``download()`` goes to disk with ``to=``, which has no such limit.
    """

    def __init__(self, limit: int, *, method: str = "", path: str = "", hint: str = "") -> None:
        self.limit = limit
        self.method = method
        self.path = path
        where = f" to {method} {path}" if method else ""
        doubt = may_have_run(method, "reached WeChat Pay") if method else ""
        super().__init__(
            f"The answer{where} is larger than {limit} bytes, the most the SDK reads; nothing was used{doubt}{hint}"
        )


class ApiError(WxPayError):
    """WeChat Pay answered with a non-2xx status, or an APIv2 answer said FAIL (``return_code`` or
    ``result_code``; then ``status`` is 200, ``code`` the err_code or FAIL, ``detail`` every field).

    ``code``, ``message`` and ``detail`` come from the JSON error body when there is one;
    ``request_id`` is the Request-ID header to quote to WeChat Pay support. ``body`` keeps at most
    MAX_ERROR_BODY bytes of the raw body; ``body_truncated`` says whether more arrived. ``in_doubt`` says
    whether the call may have been carried out all the same (a 5xx, an APIv2 SYSTEMERROR or PROCESSING).
    """

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str | None,
        *,
        detail: Any = None,
        request_id: str | None = None,
        body: bytes = b"",
        method: str = "",
        path: str = "",
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.request_id = request_id
        self.body = body[:MAX_ERROR_BODY]
        self.body_truncated = len(body) > MAX_ERROR_BODY
        self.method = method
        self.path = path
        where = f" for {method} {path}" if method else ""
        shown = _clip(message, _MAX_SHOWN_MESSAGE) if message else "(no message)"
        text = f"WeChat Pay answered {status} {_clip(code, 64) if code else '(no code)'}{where}: {shown}"
        # A server fault: the call may have been carried out all the same.
        self.in_doubt = status >= 500 or code in _IN_DOUBT
        if method and self.in_doubt:
            text += may_have_run(method, "may have been carried out")
        if request_id:
            text += f" (Request-ID {_clip(request_id, _MAX_SHOWN_ID)}; quote it to WeChat Pay support)"
        super().__init__(text)

    @classmethod
    def from_parts(
        cls,
        status: int,
        body: bytes,
        *,
        request_id: str | None = None,
        method: str = "",
        path: str = "",
    ) -> ApiError:
        """Build the right subclass from a status and a raw body, tolerating non-JSON and hostile bodies."""
        code: str | None = None
        message: str | None = None
        detail: Any = None
        parsed: Any = None
        if body and len(body) <= MAX_ERROR_BODY:  # a longer body is no error document: not worth parsing
            try:
                parsed = json.loads(body)
            except (ValueError, RecursionError):  # RecursionError: nesting like "[[[[…"
                parsed = None
        if isinstance(parsed, Mapping):
            code = _str_or_none(parsed.get("code"))
            message = _str_or_none(parsed.get("message"))
            detail = parsed.get("detail")
        elif body:
            message = _html_title(body) or body[:200].decode("utf-8", "replace")
        kind: type[ApiError] = ApiError
        if status == 429:
            kind = RateLimitError
        elif status >= 500:
            kind = ServerError
        return kind(status, code, message, detail=detail, request_id=request_id, body=body, method=method, path=path)


class RateLimitError(ApiError):
    """429: WeChat Pay asks the caller to slow down; retry later with the same request number."""


class ServerError(ApiError):
    """5xx: a WeChat Pay server fault; retry with the same parameters and request number."""


_TITLE = re.compile(rb"<title[^>]*>([^<]{1,120})</title>", re.IGNORECASE)


def _html_title(body: bytes) -> str | None:
    """What an HTML error page says, in place of its markup: a gateway's or proxy's answer, not WeChat Pay's."""
    found = _TITLE.search(body[:2048]) if body.lstrip()[:1] == b"<" else None
    if found is None:
        return None
    title = " ".join(found.group(1).decode("utf-8", "replace").split())
    return f"an HTML page titled {title!r} (a gateway's or proxy's answer, not WeChat Pay's JSON)"


def _str_or_none(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    try:
        return str(value)
    except (RecursionError, ValueError):  # a deeply nested value, or an int too long to print
        return f"<{type(value).__name__}>"
