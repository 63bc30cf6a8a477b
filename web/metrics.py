"""Prometheus metrics: an ASGI middleware for HTTP, hooks for WebSocket and fan-out, and
``GET /metrics``.

With several workers, ``evently serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` before any worker
imports prometheus_client; every process then writes its samples to files there and
``/metrics`` (answered by any one worker) sums them (prometheus_client's multiprocess mode).
Without that variable, the default in-process registry is used.

Metrics (durations in seconds):

    evently_http_requests_total{method,route,status}      counter; route is the template
                                                           ("/events/{event_id}"), or
                                                           "unmatched"
    evently_http_request_duration_seconds{method,route}   histogram
    evently_ws_sessions                                    gauge, open /ws sessions (livesum)
    evently_ops_total{op,via,outcome}                      counter; op hold|book|confirm|…,
                                                           via rest|ws, outcome "ok" or the
                                                           contract error code
    evently_holds_expired_total                            counter, holds the sweeper expired
    evently_fanout_lag_seconds                             histogram, change (server ``ts``)
                                                           to local dispatch
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prom_multiprocess
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.fanout import Broadcaster
from web.errors import ERROR_CODE_KEY
from web.metrics_auth import require_metrics_token

__all__ = [
    "MetricsMiddleware",
    "fanout_lag",
    "holds_expired",
    "install",
    "metrics_endpoint",
    "route_template",
    "routes",
    "ws_limited",
    "ws_op",
    "ws_session_closed",
    "ws_session_opened",
]

log = logging.getLogger(__name__)

#: Set (by ``evently serve``) before prometheus_client was first imported in this process.
MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None

HTTP_REQUESTS = Counter("evently_http_requests", "HTTP requests answered.",
                        ["method", "route", "status"])
HTTP_LATENCY = Histogram("evently_http_request_duration_seconds",
                         "Time from request to the end of the response, seconds.",
                         ["method", "route"])
WS_SESSIONS = Gauge("evently_ws_sessions", "Open WebSocket sessions.",
                    multiprocess_mode="livesum")
OPS = Counter("evently_ops", "Holds, bookings and confirms by outcome.",
              ["op", "via", "outcome"])
HOLDS_EXPIRED = Counter("evently_holds_expired", "Holds expired by the sweeper.")
WS_LIMITED = Counter("evently_ws_limited",
                     "/ws upgrades refused, sessions closed and subscribes refused by a "
                     "resource limit (web.ws_limits).", ["limit"])
FANOUT_LAG = Histogram("evently_fanout_lag_seconds",
                       "Seconds from a seat change (its server ts) to its local dispatch.",
                       buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))

#: (method, route template) of REST requests also counted in evently_ops_total
_REST_OPS = {("POST", "/events/{event_id}/holds"): "hold",
             ("POST", "/events/{event_id}/book"): "book",
             ("POST", "/holds/{hold_id}/confirm"): "confirm"}


def ws_session_opened() -> None:
    """A /ws session was accepted."""
    WS_SESSIONS.inc()


def ws_session_closed() -> None:
    """A /ws session ended (call once per opened session, whatever the reason)."""
    WS_SESSIONS.dec()


def ws_op(op: str, outcome: str) -> None:
    """A WebSocket op finished. ``op``: ``hold``, ``confirm``, …; ``outcome``: ``"ok"`` or the
    contract error code (``"SEAT_UNAVAILABLE"``)."""
    OPS.labels(op, "ws", outcome).inc()


def ws_limited(limit: str) -> None:
    """A ``/ws`` resource limit was hit. ``limit``: ``address`` (upgrade refused), ``user``
    (closed at auth), ``idle`` (closed), ``subscriptions`` or ``subscribe_rate`` (a
    ``subscribe`` refused)."""
    WS_LIMITED.labels(limit).inc()


def holds_expired(n: int) -> None:
    """The sweeper expired ``n`` holds."""
    if n > 0:
        HOLDS_EXPIRED.inc(n)


def fanout_lag(seconds: float) -> None:
    """A delta reached this process ``seconds`` after the change (clamped at 0: clocks of
    two hosts may disagree by a little)."""
    FANOUT_LAG.observe(max(seconds, 0.0))


def _on_delta(msg: dict[str, Any]) -> None:
    ts = msg.get("ts")
    if isinstance(ts, int | float):
        fanout_lag(time.time() - ts / 1000)


def install(broadcaster: Broadcaster) -> None:
    """Observe fan-out lag of every delta ``broadcaster`` dispatches (``ts`` is epoch ms)."""
    broadcaster.on_delta = _on_delta


def route_template(routes: list[BaseRoute], scope: Scope) -> str:
    """The path template of the route that serves ``scope`` (a 405 still names its route),
    or ``"unmatched"``; raw paths are never used as labels (unbounded cardinality)."""
    partial: str | None = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.NONE:
            continue
        template = str(getattr(route, "path_format", None) or getattr(route, "path", "unmatched"))
        if match is Match.FULL:
            return template
        partial = partial or template
    return partial or "unmatched"


class MetricsMiddleware:
    """Pure ASGI middleware counting and timing every HTTP request by route template; on
    lifespan shutdown it marks this process dead for multiprocess live gauges."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._lifespan_send(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        method = scope["method"]
        routes = getattr(scope.get("app"), "routes", [])
        route = route_template(routes, scope)
        op = _REST_OPS.get((method, route))
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - start)
            if op is not None:
                # The error handler left the contract code in the scope (web.errors); an
                # exception that escaped every handler is a 500 INTERNAL.
                outcome = "ok" if status < 400 else str(scope.get(ERROR_CODE_KEY, "INTERNAL"))
                OPS.labels(op, "rest", outcome).inc()

    def _lifespan_send(self, send: Send) -> Send:
        async def wrapper(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete" and MULTIPROC_DIR:
                try:
                    prom_multiprocess.mark_process_dead(  # type: ignore[no-untyped-call]
                        os.getpid(), MULTIPROC_DIR)
                except OSError:
                    log.warning("could not mark process %d dead for metrics", os.getpid())
            await send(message)

        return wrapper


async def metrics_endpoint(request: Request) -> Response:
    """``GET /metrics``: Prometheus text format (summed over workers in multiprocess mode).
    With ``METRICS_TOKEN`` set, only ``Authorization: Bearer <METRICS_TOKEN>`` gets it
    (401 ``UNAUTHENTICATED`` otherwise)."""
    require_metrics_token(request)
    if MULTIPROC_DIR:
        registry = CollectorRegistry()
        prom_multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]
            registry, path=MULTIPROC_DIR)
        data = generate_latest(registry)
    else:
        data = generate_latest(REGISTRY)
    return Response(data, media_type=CONTENT_TYPE_LATEST)


routes = [Route("/metrics", metrics_endpoint, methods=["GET"])]
