"""The base of the hub's pure ASGI middlewares (body limits, security headers, rate limits,
the request log): each acts on HTTP requests only and passes every other scope (WebSocket,
lifespan) through untouched."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["HTTPMiddleware"]


class HTTPMiddleware:
    """Pure ASGI middleware for HTTP scopes: subclasses implement :meth:`handle`, which runs
    for ``scope["type"] == "http"`` and must call (or answer instead of) ``self.app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request (``scope`` as ASGI gives it)."""
        raise NotImplementedError
