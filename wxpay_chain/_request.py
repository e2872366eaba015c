"""What a request is before it is signed, and what a client adds to every one it prepares.

``PreparedRequest`` is the value the pipeline carries from prepare to sign to send; ``RequestDefaults``
(with ``V2Settings`` for APIv2) is the part of a client's configuration that preparing reads. Both
preparers, APIv3's (``_prepare``) and APIv2's (``_v2_pipeline``), build on what is here.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from types import ModuleType
from typing import Any, Literal, NamedTuple

import aiohttp
import attrs

from ._converter import UnsendableTimeError, time_problem
from ._errors import ConfigurationError, InvalidRequestError
from ._http import Headers, Request, Timeout, check_header
from ._typed._check import Validate
from ._uri import split_base_url
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "UPLOAD_OWNS",
    "USER_AGENT",
    "EncryptedField",
    "PreparedRequest",
    "RequestDefaults",
    "V2Settings",
    "client_timeout",
    "headers_for",
    "parse_base_url",
    "request_for",
    "timeout_and_origin",
    "to_wire",
    "typed",
    "with_caller_headers",
]


DEFAULT_BASE_URL = "https://api.mch.weixin.qq.com/"


USER_AGENT = (
    f"wxpay-chain/{__version__} (aiohttp/{aiohttp.__version__}; "
    f"Python/{platform.python_version()}; {platform.system() or 'unknown'})"
)


def parse_base_url(base_url: object, option: bool = False, name: str = "base_url") -> tuple[str, str]:
    """Split a base URL into its origin and its path prefix (always ending with ``/``).

    A bad client setting (named ``name``) is a ConfigurationError; a bad per-call ``base_url=`` an
    InvalidRequestError."""
    try:
        if not isinstance(base_url, str):
            raise ConfigurationError(f"{name} must be a str like {DEFAULT_BASE_URL!r}")
        return split_base_url(base_url, name)
    except ConfigurationError as exc:
        if not option:
            raise
        raise InvalidRequestError("Bad base_url option", [("base_url", str(exc))]) from None


def client_timeout(value: float | Timeout | None) -> Timeout:
    try:
        return Timeout.of(value)
    except InvalidRequestError as exc:
        raise ConfigurationError(str(exc)) from None


@lru_cache(maxsize=1)
def typed() -> ModuleType:
    """The typed layer, imported on first use so that ``import wxpay_chain`` stays light."""
    from . import models

    return models


def to_wire(value: object, where: str = "json") -> Any:
    """Request models become plain dicts without None fields; everything else passes through.

    ``where`` names the option (``json``, ``query``, ``xml``) in the error for a time that cannot be sent."""
    if value is None or type(value) is dict or not attrs.has(type(value)):
        return value
    try:
        return typed().request_to_wire(value)
    except UnsendableTimeError as exc:
        raise InvalidRequestError("A time cannot be sent as it is", [_unsendable_time(value, where, exc)]) from None


def _unsendable_time(value: object, where: str, error: Exception) -> tuple[str, str]:
    """The field path of the first time in a request model that cannot be sent, and why (for an error)."""
    stack: list[tuple[object, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, datetime):
            problem = time_problem(item)
            if problem is not None:
                return path, problem
        elif attrs.has(kind := type(item)):
            stack.extend((getattr(item, f.name), f"{path}.{f.name}") for f in reversed(attrs.fields(kind)))
        elif isinstance(item, Mapping):
            stack.extend((v, f"{path}.{k}") for k, v in reversed(list(item.items())))
        elif isinstance(item, (list, tuple)):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(item))))
    return where, str(error)


class PreparedRequest(NamedTuple):
    """A call checked and encoded but not signed: everything that stays the same between attempts.

    ``target`` is the exact path and query sent, ``body`` the exact bytes sent, and ``signed_body`` the
    bytes the signature covers in the body's place (the same bytes, but for uploads, where it is the
    meta JSON). A tuple, not an attrs class: one is made per call, and a tuple costs a third as much.
    """

    method: str
    template: str
    origin: str
    target: str
    body: bytes
    headers: tuple[tuple[str, str], ...]
    timeout: Timeout
    signed_body: bytes
    protocol: str = "v3"  # or "v2": which CallProtocol sends it
    security: bool = False  # APIv2: present the merchant API certificate

    def __repr__(self) -> str:
        return f"PreparedRequest(method={self.method!r}, target={self.target!r}, body=<{len(self.body)} bytes>)"


@attrs.frozen
class V2Settings:
    """What a client adds to its APIv2 calls: its merchant id, the APIv2 key, whether it has a certificate."""

    mch_id: str | None
    key: str | None = attrs.field(repr=False)
    certificate: bool
    nonce: Callable[[], str] = attrs.field(repr=False, eq=False)


@attrs.frozen
class RequestDefaults:
    """What a client adds to every call it prepares; ``with_options()`` derives new ones with evolve()."""

    mode: Literal["merchant", "brand"]
    pub_key_id: str | None
    origin_prefix: tuple[str, str]
    timeout: Timeout
    apiv2: V2Settings | None = None
    validate: Validate = "strict"  # the validation policy (_typed/_check.py)
    # What every call without a body, headers= or encrypted fields sends: built once.
    plain_headers: tuple[tuple[str, str], ...] = attrs.field(
        init=False, default=attrs.Factory(lambda self: headers_for(self, None, None), takes_self=True)
    )


# An upload's Content-Type carries the boundary that frames its parts: a caller's would break them
# (``multipart/form-data`` alone, as examples in other languages set it, has none).
UPLOAD_OWNS = {"content-type": "An upload's Content-Type carries its multipart boundary: the SDK sets it"}


def headers_for(
    defaults: RequestDefaults,
    content_type: str | None,
    extra: object,
    encrypted_for: str | None = None,
    owned: Mapping[str, str] | None = None,
) -> tuple[tuple[str, str], ...]:
    """The headers of a call (Authorization aside): the SDK's own, then the caller's, checked."""
    headers: dict[str, str] = {"Accept": "application/json", "User-Agent": USER_AGENT}
    if content_type:
        headers["Content-Type"] = content_type
    serial = encrypted_for or defaults.pub_key_id
    if serial:
        headers["Wechatpay-Serial"] = serial
    return with_caller_headers(headers, extra, owned)


def with_caller_headers(
    own: dict[str, str], extra: object, owned: Mapping[str, str] | None = None
) -> tuple[tuple[str, str], ...]:
    """``own`` headers with the caller's ``headers=`` checked and put over them (names compared in any case),
    but for those ``owned`` (lower-case name: why the caller may not set it) for this call."""
    if extra is None:
        return tuple(own.items())
    if not isinstance(extra, Mapping):
        raise InvalidRequestError("headers must be a dict of str to str", [("headers", type(extra).__name__)])
    headers = dict(own)
    lower = {k.lower(): k for k in headers}
    for item in extra.items():
        name, value = check_header(*item)
        if owned and name.lower() in owned:
            raise InvalidRequestError(owned[name.lower()], [(f"headers.{name!r}"[:60], "remove it")])
        headers.pop(lower.get(name.lower(), name), None)
        headers[name] = value
    return tuple(headers.items())


def timeout_and_origin(defaults: RequestDefaults, options: Mapping[str, Any]) -> tuple[Timeout, str, str]:
    """A call's ``timeout=`` and ``base_url=`` (its origin and path prefix), or the client's."""
    timeout = Timeout.of(options["timeout"]) if "timeout" in options else defaults.timeout
    base_url = options.get("base_url")
    origin, prefix = parse_base_url(base_url, option=True) if base_url is not None else defaults.origin_prefix
    return timeout, origin, prefix


def request_for(prepared: PreparedRequest, origin: str, extra: tuple[tuple[str, str], ...] = ()) -> Request:
    """The Request that goes on the wire for a prepared call, sent to ``origin`` with ``extra`` headers."""
    target = prepared.target
    # Positional: a class called with keywords gathers them into a dict first (one Request per attempt).
    return Request(
        prepared.method,
        origin + target,
        target,
        prepared.template,
        Headers((*prepared.headers, *extra)),
        prepared.body,
        prepared.timeout,
        prepared.security,
    )


class EncryptedField(str):
    """A sensitive field's ciphertext, remembering the Wechatpay-Serial of the key it was made with."""

    __slots__ = ("serial",)
    serial: str

    def __new__(cls, value: str, serial: str) -> EncryptedField:
        self = super().__new__(cls, value)
        self.serial = serial
        return self
