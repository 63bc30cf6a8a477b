"""The Starlette app factory; its lifespan owns every resource (STYLE.md §7)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, WebSocketRoute
from starlette.staticfiles import StaticFiles

from storage.settings import Settings
from web import (
    asyncapi,
    metrics,
    openapi,
    routes_admin,
    routes_auth,
    routes_bookings,
    routes_events,
    routes_ops,
    routes_organizer,
    routes_waitlist,
)
from web.body_limit import BodyLimitMiddleware
from web.bootstrap import build
from web.errors import exception_handlers
from web.headers import SecurityHeadersMiddleware
from web.ratelimit import RateLimitMiddleware
from web.ws_session import ws_endpoint

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the ASGI app. Settings default to the environment; ``DATABASE_URL`` and
    ``REDIS_URL`` must be set (``evently serve`` sets them for the embedded default)."""
    settings = settings or Settings()
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = await build(settings)  # the composition root (web.bootstrap)
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.background.stop()

    routes = [
        *routes_ops.routes,
        *routes_auth.routes,
        *routes_events.routes,
        *routes_bookings.routes,
        *routes_admin.routes,
        *routes_organizer.routes,
        *routes_waitlist.routes,
        *metrics.routes,
        *openapi.routes,
        *asyncapi.routes,
        WebSocketRoute("/ws", ws_endpoint),
        Mount("/static", StaticFiles(directory=routes_ops.STATIC_DIR, check_dir=False),
              name="static"),
    ]
    # Metrics outermost, so a refused request is counted too; the body limit outside the rate
    # limiter, whose login peek must read through it.
    middleware = [Middleware(metrics.MetricsMiddleware), Middleware(SecurityHeadersMiddleware),
                  Middleware(BodyLimitMiddleware), Middleware(RateLimitMiddleware)]
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers=exception_handlers,
                     middleware=middleware)


def asgi() -> Starlette:
    """Factory for ``uvicorn --factory web.app:asgi`` (each worker builds its own app)."""
    return create_app()
