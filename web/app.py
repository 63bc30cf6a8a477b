"""The Starlette app factory; its lifespan owns every resource (STYLE.md §7)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount, WebSocketRoute
from starlette.staticfiles import StaticFiles

from storage.settings import Settings
from web import (
    asyncapi,
    metrics,
    openapi,
    redoc,
    routes_admin,
    routes_auth,
    routes_bookings,
    routes_events,
    routes_ops,
    routes_organizer,
    routes_oversight,
    routes_waitlist,
)
from web.body_limit import BodyLimitMiddleware
from web.bootstrap import build
from web.errors import exception_handlers
from web.headers import SecurityHeadersMiddleware
from web.ratelimit import RateLimitMiddleware
from web.request_log import RequestLogMiddleware, configure_logging
from web.ws_session import ws_endpoint

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the ASGI app. Settings default to the environment; ``DATABASE_URL`` and
    ``REDIS_URL`` must be set (``evently serve`` sets them for the embedded default)."""
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_format)

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
        *routes_oversight.routes,
        *routes_waitlist.routes,
        *metrics.routes,
        *openapi.routes,
        *redoc.routes,
        *asyncapi.routes,
        WebSocketRoute("/ws", ws_endpoint),
        Mount("/static", StaticFiles(directory=routes_ops.STATIC_DIR, check_dir=False),
              name="static"),
    ]
    # The request id and log outermost, so every response carries the id and is logged; then
    # metrics, so a refused request is counted too; CORS before anything that may refuse, so
    # a refusal still carries its CORS headers (the browser shows the error, not a CORS
    # failure); the body limit outside the rate limiter, whose login peek reads through it.
    middleware = [Middleware(RequestLogMiddleware), Middleware(metrics.MetricsMiddleware),
                  Middleware(SecurityHeadersMiddleware), *_cors(settings),
                  Middleware(BodyLimitMiddleware), Middleware(RateLimitMiddleware)]
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers=exception_handlers,
                     middleware=middleware)


def _cors(settings: Settings) -> list[Middleware]:
    """Starlette's CORS middleware for ``CORS_ORIGINS`` (none when empty): the REST methods,
    the request headers clients send, the response headers they may read, and preflights
    cached for ``CORS_MAX_AGE_SECONDS``. No cookies are used, so no credentials."""
    origins = settings.cors_origin_list
    if not origins:
        return []
    return [Middleware(
        CORSMiddleware, allow_origins=origins,
        allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Retry-After", "Location"],
        max_age=settings.cors_max_age_seconds)]


def asgi() -> Starlette:
    """Factory for ``uvicorn --factory web.app:asgi`` (each worker builds its own app)."""
    return create_app()
