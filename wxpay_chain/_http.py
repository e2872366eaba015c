"""HTTP values: Headers, Timeout, Request, Response and Attempt. No aiohttp type leaks into these."""

from __future__ import annotations

import json as _json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol, TypeVar, overload

import attrs

from ._errors import InvalidRequestError, SignatureError, StructureError
from ._roots import is_v2

__all__ = ["MAX_TIMEOUT", "Attempt", "Headers", "Request", "Response", "Timeout", "check_header"]

T = TypeVar("T")

_SECRET_HEADERS = frozenset({"authorization"})
_DEFAULT_CONNECT = 10.0
MAX_TIMEOUT = 24 * 3600.0  # a day: longer is a mistake, and far larger values overflow the event loop's timers

# RFC 9110 field names are tokens; values are visible text, spaces and tabs. Anything else (CR, LF, NUL,
# a trailing space in a name) would split or smuggle a header, or be refused by aiohttp mid-send.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(r"[^\x00-\x08\x0a-\x1f\x7f]*")
# Headers the SDK or the HTTP layer owns: they authenticate the request, frame its body or route it, so a
# caller's value would make what is sent differ from what was signed.
RESERVED_HEADERS = frozenset(
    {"authorization", "content-length", "transfer-encoding", "host", "connection", "keep-alive",
     "proxy-connection", "te", "trailer", "upgrade", "expect",
     # A proxy's credentials are proxy= settings: in headers= they would reach WeChat Pay, or the proxy twice.
     "proxy-authorization", "proxy-authenticate"}
)


def check_header(name: object, value: object) -> tuple[str, str]:
    """A caller's header as it will be sent; InvalidRequestError if it cannot be, or if the SDK owns it."""
    if not isinstance(name, str) or not isinstance(value, str):
        shown = name if isinstance(name, str) else type(name).__name__
        raise InvalidRequestError("headers must be a dict of str to str", [(f"headers.{shown!r}"[:60], "not a str")])
    field = f"headers.{name!r}"[:60]
    if not _TOKEN.fullmatch(name):
        raise InvalidRequestError(
            "Header name is not an HTTP token", [(field, "use letters, digits and -; no spaces or control characters")]
        )
    if name.lower() in RESERVED_HEADERS:
        what = "Authorization is computed by the SDK" if name.lower() == "authorization" else "The SDK sets this header"
        raise InvalidRequestError(what, [(field, "remove it")])
    if not _FIELD_VALUE.fullmatch(value):
        raise InvalidRequestError("Header value has a control character", [(field, "no CR, LF, NUL or other controls")])
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequestError("Header value is not valid text", [(field, "it holds a lone surrogate")]) from None
    return name, value


def _seconds(name: str) -> Any:
    def check(_: object, __: object, value: float | None) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TIMEOUT:
            raise InvalidRequestError(
                f"Timeout.{name} must be a positive number of seconds up to {MAX_TIMEOUT:.0f}, or None",
                [(f"timeout.{name}", repr(value)[:40])],
            )

    return check


class _CaseInsensitiveSource(Protocol):
    """What :meth:`Headers.view` wraps: a read-only, case-insensitive multi-mapping (first value wins)."""

    def get(self, name: str, /) -> str | None: ...

    def items(self) -> Iterable[tuple[str, str]]: ...


class Headers(Mapping[str, str]):
    """An immutable, case-insensitive view of HTTP headers that keeps the order and repeated names."""

    __slots__ = ("_index", "_items", "_source")

    def __init__(self, items: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        if type(items) is not tuple:
            items = tuple(items.items() if isinstance(items, Mapping) else items)
        pairs: tuple[tuple[str, str], ...] | None = items
        self._items = pairs
        self._index: dict[str, str] | None = None  # built on the first lookup: most request headers get none
        self._source: _CaseInsensitiveSource | None = None

    @classmethod
    def view(cls, source: _CaseInsensitiveSource) -> Headers:
        """Headers over an immutable case-insensitive mapping, without copying (the transport's answers)."""
        headers = cls.__new__(cls)
        headers._items = None
        headers._index = None
        headers._source = source
        return headers

    def _pairs(self) -> tuple[tuple[str, str], ...]:
        items = self._items
        if items is None:
            assert self._source is not None
            items = self._items = tuple(self._source.items())
        return items

    def _table(self) -> dict[str, str]:
        index = self._index
        if index is None:
            # Built back to front so that the first of repeated names wins, as in a lookup on the wire.
            index = self._index = {name.lower(): value for name, value in reversed(self._pairs())}
        return index

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    # Direct lookups: the Mapping mixin's get costs a try/except on every answer header read.
    @overload
    def get(self, name: str, /) -> str | None: ...
    @overload
    def get(self, name: str, /, default: str | T) -> str | T: ...
    def get(self, name: str, /, default: object = None) -> object:
        source = self._source
        found = source.get(name) if source is not None else self._table().get(name.lower())
        return default if found is None else found

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(name for name, _ in self._pairs())

    def __len__(self) -> int:
        return len(self._pairs())

    def items_list(self) -> tuple[tuple[str, str], ...]:
        items = self._items  # set for every request's headers: the transport reads them once per attempt
        return self._pairs() if items is None else items

    def getall(self, name: str) -> list[str]:
        key = name.lower()
        return [v for k, v in self._pairs() if k.lower() == key]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._pairs() == other._pairs()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._pairs())

    def __repr__(self) -> str:
        shown: dict[str, str] = {}
        seen: set[str] = set()
        for k, v in self._pairs():  # a repeated name (in any case) shows its first value, the one a lookup gives
            if k.lower() not in seen:
                seen.add(k.lower())
                shown[k] = "***" if k.lower() in _SECRET_HEADERS else v
        return f"Headers({shown!r})"


class _View(Headers):
    __slots__ = ("get",)


_set_get = _View.__dict__["get"].__set__


def multidict_view(source: _CaseInsensitiveSource) -> Headers:
    """:meth:`Headers.view` over a multidict proxy (the aiohttp transport's answers), whose own C ``get``
    then serves every lookup: an answer's headers are read five times a call. Only for a source whose
    ``get(name, default)`` returns ``default`` for a missing name and never None for a present one."""
    headers = _View.view(source)
    _set_get(headers, source.get)
    return headers


def plain_encoding(values: Iterable[str]) -> bool:
    """Whether ``Content-Encoding`` header values (every one of them, as aiohttp may inflate by any) leave
    the body as it came: none, or identity."""
    return all(coding.strip().lower() in ("", "identity") for value in values for coding in value.split(","))


@attrs.frozen
class Timeout:
    """Seconds a request may take in total, and to open a connection. ``None`` means no limit."""

    total: float | None = attrs.field(default=30.0, validator=_seconds("total"))
    connect: float | None = attrs.field(default=_DEFAULT_CONNECT, validator=_seconds("connect"))

    @classmethod
    def of(cls, value: float | Timeout | None) -> Timeout:
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls(total=None, connect=None)
        # nan compares false with everything, so "not 0 < value" also catches it; inf is over the bound.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TIMEOUT:
            raise InvalidRequestError(
                f"timeout must be a positive number of seconds up to {MAX_TIMEOUT:.0f}, a Timeout, or None",
                [("timeout", repr(value)[:40] if isinstance(value, (int, float)) else type(value).__name__)],
            )
        return cls(total=float(value), connect=min(float(value), _DEFAULT_CONNECT))


# Request and Response keep their fields in a __dict__ rather than slots: one of each is built per call,
# and a frozen attrs class with slots sets each field through object.__setattr__, where a __dict__ class
# stores dict items (callgrind: 18k instructions for the two before, 14k after).
@attrs.frozen(slots=False)
class Request:
    """One request exactly as it goes on the wire. ``target`` is the raw path+query that was signed."""

    method: str
    url: str
    target: str
    template: str
    headers: Headers
    # Only its size in a repr: hooks and error trackers print requests, and bodies carry personal data.
    body: bytes = attrs.field(default=b"", repr=lambda body: f"<{len(body)} bytes>")
    timeout: Timeout = Timeout()
    security: bool = False  # APIv2: the transport presents the merchant API certificate


@attrs.frozen(slots=False)
class Response:
    """A WeChat Pay answer whose signature has been verified (for 2xx)."""

    status: int
    headers: Headers
    body: bytes = attrs.field(repr=False)
    request: Request = attrs.field(repr=False)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        """The parsed JSON body (``None`` for an empty body)."""
        return _json.loads(self.body) if self.body else None

    def xml(self) -> dict[str, str]:
        """An APIv2 answer's fields as strings (parsed without entities or DTDs, like its check).
        StructureError for an answer that is no APIv2 document (JSON, or a v2 bill's file)."""
        from ._apiv2 import parse_xml

        try:
            return parse_xml(self.body)
        except SignatureError as exc:  # this answer was verified as what it is: it is only not XML
            why = str(exc).replace("The APIv2 answer", "the answer").replace("; it was not used", "")
            raise StructureError(f"{why}: a v3 answer is JSON (.json()), a v2 bill download the file (.body)") from None

    @property
    def request_id(self) -> str | None:
        return self.headers.get("Request-ID")

    def structure(self, cls: type[T]) -> T:
        """The JSON body (an APIv2 answer: its XML fields) as an instance of ``cls`` (an attrs model);
        StructureError names bad fields."""
        from ._converter import structure

        if is_v2(self.request.template):
            return structure(self.xml(), cls)
        try:
            document = self.json()
        except (ValueError, RecursionError):  # not UTF-8 JSON (an HTML page, say), or nested past any model
            raise StructureError(f"the answer is not JSON, so it cannot be a {getattr(cls, '__name__', cls)}") from None
        return structure(document, cls)

    @property
    def parsed(self) -> Any:
        """The typed object for endpoints that have a model; raises LookupError for those that do not."""
        from .models import lookup

        spec = lookup(self.request.method, self.request.template)
        if spec is None or spec.response is None:
            raise LookupError(
                f"No model is registered for {self.request.method} {self.request.template}; "
                "use .json() or .structure(YourModel)"
            )
        return self.structure(spec.response)


@attrs.frozen
class Attempt:
    """What the ``on_response`` hook receives after every attempt (for metrics)."""

    request: Request
    number: int
    status: int | None
    request_id: str | None
    elapsed: float
    error: Exception | None
