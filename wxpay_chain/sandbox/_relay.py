"""What the served aiohttp app holds: forwarders to the sandbox's middleware and handlers, let go on close.

aiohttp keeps built middleware chains in a module-wide cache (up to 1,024 entries, keyed by handler and
app) that outlives the app's runner; whatever the served app reaches stays alive with it. So the app reaches
only a :class:`Relay`, and :meth:`Relay.drop` (on ``Sandbox.close()``) cuts it from the sandbox's state.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware


class Relay:
    def __init__(self, middleware: Middleware) -> None:
        self._middleware: Middleware | None = middleware
        self._handlers: list[Handler] = []

    def serve(self, routes: web.UrlDispatcher, into: web.UrlDispatcher) -> None:
        """Add every route of ``routes`` (a scratch app's, never served) to ``into``, through this relay.
        Their paths must not use regular expressions (``{name:regex}``): ``canonical`` drops them."""
        for resource in routes.resources():
            for route in resource:
                into.add_route(route.method, resource.canonical, self.forward(route.handler))

    def forward(self, handler: Handler) -> Handler:
        index = len(self._handlers)
        self._handlers.append(handler)

        async def forwarded(request: web.Request) -> web.StreamResponse:
            return await self._handler(index)(request)

        return forwarded

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self._middleware is None:
            raise web.HTTPServiceUnavailable(text="this sandbox is closed")
        return await self._middleware(request, handler)

    def drop(self) -> None:
        """Let go of the sandbox: from now on the app answers 503 (its runner is gone by then anyway)."""
        self._middleware = None
        self._handlers.clear()

    def _handler(self, index: int) -> Handler:
        if not self._handlers:
            raise web.HTTPServiceUnavailable(text="this sandbox is closed")
        return self._handlers[index]
