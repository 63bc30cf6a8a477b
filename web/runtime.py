"""What one hub process keeps on ``app.state.runtime``: the hub services and the web layer's own
pieces. Built only by :func:`web.bootstrap.build` (the composition root)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hub.services import Services
from web.security import TokenCodec
from web.ws_limits import SocketCaps

if TYPE_CHECKING:  # typing only: route modules reach no storage module through this one
    from web.background import Background
    from web.ratelimit import Limiter

__all__ = ["Runtime", "WsLimits"]


@dataclass(frozen=True, slots=True)
class WsLimits:
    """``/ws`` settings: ``max_message_bytes`` (64 KiB), ``outbox_limit`` (queued messages
    before a slow session is closed with 1013), ``origins`` (``ALLOWED_ORIGINS``), and the
    resource limits of :mod:`web.ws_limits`: ``idle_seconds``, ``max_subscriptions`` per
    session, and ``caps`` (this process's open sockets per address and per user)."""

    max_message_bytes: int
    outbox_limit: int
    origins: frozenset[str]
    idle_seconds: float = 30.0
    max_subscriptions: int = 100
    caps: SocketCaps = field(default_factory=lambda: SocketCaps(0, 0))


@dataclass(frozen=True, slots=True)
class Runtime:
    """The process's services, token codec, rate limiter, ``/ws`` limits, background, and
    the bearer token ``GET /metrics`` asks for (``METRICS_TOKEN``; None: open)."""

    services: Services
    tokens: TokenCodec
    limiter: Limiter
    ws: WsLimits
    background: Background
    metrics_token: str | None = None
