"""How a page of a listing leads to the query of the next page, by the endpoint's paging style."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._spec import EndpointSpec

__all__ = ["next_page"]


def next_page(
    spec: EndpointSpec, query: Mapping[str, object], page: object, seen: int | None = None
) -> dict[str, Any] | None:
    """The query of the page after ``page`` (a response model or its JSON), or None at the end.

    Offset paging follows the seed: ``offset`` is the page number (分页页码), so it moves on by one. When
    the answer has a ``total_count``, that decides: it goes on until ``seen`` items (those of every page so
    far, this one's included; without it, estimated from the page number) reach it, as a page may come
    back shorter than ``limit`` with more to follow. Without a total it stops on a short page. An empty
    page always ends it. Token paging sends ``next_page_token`` back as ``page_token`` and stops without one.
    """
    if spec.paging is None or spec.items_field is None:
        return None
    items = _get(page, spec.items_field) or []
    if spec.paging == "token":
        token = _get(page, "next_page_token")
        if not token:
            return None
        return {**query, "page_token": token}
    number = _as_int(_get(page, "offset"), _as_int(query.get("offset"), 0))
    limit = _as_int(_get(page, "limit"), _as_int(query.get("limit"), len(items)))
    total = _as_int(_get(page, "total_count"), None)
    if not items or limit <= 0:
        return None
    if total is None:
        if len(items) < limit:
            return None
    elif (number * limit + len(items) if seen is None else seen) >= total:
        return None
    return {**query, "offset": number + 1, "limit": limit}


def _get(page: object, name: str) -> Any:
    if isinstance(page, Mapping):
        return page.get(name)
    return getattr(page, name, None)


@typing.overload
def _as_int(value: object, default: int) -> int: ...
@typing.overload
def _as_int(value: object, default: None) -> int | None: ...
def _as_int(value: object, default: int | None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
