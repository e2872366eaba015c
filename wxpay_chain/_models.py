"""Request and Response values. No aiohttp type leaks out of the transport into these."""

from __future__ import annotations

import json as _json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol, TypeVar, overload

import attrs

__all__ = ["Headers", "Request", "Response", "Timeout"]

T = TypeVar("T")

_SECRET_HEADERS = frozenset({"authorization"})
_DEFAULT_CONNECT = 10.0


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
        return self._pairs()

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
        shown = {k: ("***" if k.lower() in _SECRET_HEADERS else v) for k, v in self._pairs()}
        return f"Headers({shown!r})"


@attrs.frozen
class Timeout:
    """Seconds a request may take in total, and to open a connection. ``None`` means no limit."""

    total: float | None = 30.0
    connect: float | None = _DEFAULT_CONNECT

    @classmethod
    def of(cls, value: float | Timeout | None) -> Timeout:
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls(total=None, connect=None)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            from ._errors import InvalidRequestError

            raise InvalidRequestError("timeout must be a positive number of seconds or a Timeout")
        return cls(total=float(value), connect=min(float(value), _DEFAULT_CONNECT))


@attrs.frozen
class Request:
    """One request exactly as it goes on the wire. ``target`` is the raw path+query that was signed."""

    method: str
    url: str
    target: str
    template: str
    headers: Headers
    body: bytes = b""
    timeout: Timeout = Timeout()


@attrs.frozen
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

    @property
    def request_id(self) -> str | None:
        return self.headers.get("Request-ID")

    def structure(self, cls: type[T]) -> T:
        """The JSON body as an instance of ``cls`` (an attrs model); StructureError names bad fields."""
        from ._converter import structure

        return structure(self.json(), cls)

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
