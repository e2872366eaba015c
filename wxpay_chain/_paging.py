"""Paging: every item of every page of a GET that pages, fetched lazily (page_token and offset/limit)."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncGenerator, Callable, Coroutine, Iterator
from typing import Any

from ._errors import InvalidRequestError, StructureError
from ._http import Response
from ._prepare import merge_arguments
from ._request import to_wire, typed
from ._uri import encode_query

__all__ = ["blocking_pages", "paginate"]

log = logging.getLogger("wxpay_chain")

Dispatch = Callable[[str, str, tuple[Any, ...], dict[str, Any]], Coroutine[Any, Any, Response]]


async def paginate(
    dispatch: Dispatch, template: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> AsyncGenerator[Any, None]:
    """The items of each page ``dispatch("GET", template, ...)`` answers, following the endpoint's paging
    until a page is the last one or ``max_pages`` pages were read. A page that repeats the one before, an
    empty page that names a next one, or a next page already read ends it with a warning in the log; a page
    that does not fit its model raises StructureError naming the page and its Request-ID."""
    options = merge_arguments(args, kwargs)
    max_pages = options.pop("max_pages", None)
    if max_pages is not None and (isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1):
        raise InvalidRequestError("max_pages must be a positive int", [("max_pages", repr(max_pages))])
    spec = typed().lookup("GET", template)
    if spec is None or spec.paging is None:
        raise InvalidRequestError(f"GET {template} has no known paging; loop over .get() yourself")
    next_page = typed().next_page
    query: dict[str, Any] | None = dict(to_wire(options.pop("query", None), "query") or {})
    pages, seen, asked = 0, 0, set()
    previous: list[Any] = []
    while query is not None:
        asked.add(encode_query(query))
        response = await dispatch("GET", template, (), {**options, "query": query})
        pages += 1
        page = _parsed(response, pages)
        items = list(getattr(page, spec.items_field) or ())
        # A server that ignores offset, or hands out fresh tokens for the same page, would loop for ever.
        if items and items == previous:
            log.warning("GET %s: page %d repeats the items of page %d; stopping there", template, pages, pages - 1)
            break
        for item in items:
            yield item
        seen += len(items)
        following = next_page(spec, query, page, seen)
        if max_pages is not None and pages >= max_pages:
            break
        if following is not None and not items:  # only token paging gets here: an empty page is no progress
            log.warning("GET %s: page %d is empty yet names a next page; stopping there", template, pages)
            break
        if following is not None and encode_query(following) in asked:  # a token or offset seen before: a loop
            log.warning("GET %s: page %d points back at a page already read; stopping there", template, pages)
            break
        previous, query = items, following


def _parsed(response: Response, number: int) -> Any:
    try:
        return response.parsed
    except StructureError as exc:  # the caller needs the page and the Request-ID to report it, or resume
        raise exc.on_page(number, f"{response.request.method} {response.request.target}", response.request_id) from exc


def blocking_pages(
    pages: AsyncGenerator[Any, None], run: Callable[[Coroutine[Any, Any, Any]], Any], closed: Callable[[], bool]
) -> Iterator[Any]:
    """The blocking Client's paginate(): each item of ``pages`` fetched by ``run`` on the client's loop."""
    try:
        while True:
            try:
                yield run(_next_item(pages))
            except StopAsyncIteration:
                return
    finally:
        if not closed() and not sys.is_finalizing():  # at exit the loop thread is gone
            run(pages.aclose())


async def _next_item(pages: AsyncGenerator[Any, None]) -> Any:
    return await pages.__anext__()
