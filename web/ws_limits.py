"""Resource limits of ``/ws`` sessions (issue 10, "Resource consumption"; README, Settings).

* **Idle close** (``WS_IDLE_SECONDS``, 30): a session with no user (no ``auth``, no bearer
  token) and no subscription for that long is closed with 1008. Anonymous viewers that
  subscribed stay; ``ping`` alone does not keep a session open.
* **Sockets per client address** (``WS_MAX_SOCKETS_PER_ADDRESS``, 200): one more upgrade is
  refused before the handshake with HTTP 429 ``RATE_LIMITED`` (``Retry-After``). The address
  is the TCP peer, or what a trusted proxy reported (``FORWARDED_ALLOW_IPS``).
* **Sockets per user** (``WS_MAX_SOCKETS_PER_USER``, 10): the session whose authentication
  would pass the cap gets an ``error`` reply ``RATE_LIMITED`` and is closed with 1008.
* **Subscriptions per session** (``WS_MAX_SUBSCRIPTIONS``, 100): a ``subscribe`` to one more
  event gets ``VALIDATION_ERROR`` (``details.limit``); re-subscribing to a watched event is
  always allowed.
* **``subscribe`` rate** (``RATE_LIMIT_WS_SUBSCRIBE``, ``30/second;300/minute``) per session,
  counted in Redis by the ``limits`` library like the REST limits (:mod:`web.ratelimit`):
  over it the reply is ``RATE_LIMITED`` with ``details.retry_after`` and no snapshot is read.

The socket caps are counted per hub process (``--workers N`` allows N times as many), and with
``RATE_LIMIT_ENABLED=false`` they are lifted together with the ``subscribe`` rate (load tests
come from one address); a cap of 0 is no cap.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Hashable

from starlette.websockets import WebSocket

from hub.errors import RateLimited, ValidationFailed
from web import metrics
from web.errors import error_response

__all__ = ["CLOSE_POLICY", "SocketCaps", "admit_address", "check_subscription_cap",
           "client_address", "too_many_sockets"]

log = logging.getLogger(__name__)

CLOSE_POLICY = 1008  # RFC 6455 §7.4.1: idle, or over the per-user socket cap


class SocketCaps:
    """Open sockets of one hub process, counted per client address and per user.

    Args:
        per_address: most sockets one address may hold open (0: no cap).
        per_user: most authenticated sockets one user may hold open (0: no cap).
        enabled: False counts nothing and admits everything (``RATE_LIMIT_ENABLED``).
    """

    def __init__(self, per_address: int, per_user: int, enabled: bool = True) -> None:
        self.per_address = per_address if enabled else 0
        self.per_user = per_user if enabled else 0
        self._open: Counter[Hashable] = Counter()

    def _take(self, key: Hashable, cap: int) -> bool:
        if cap and self._open[key] >= cap:
            return False
        self._open[key] += 1
        return True

    def _give_back(self, key: Hashable) -> None:
        self._open[key] -= 1
        if self._open[key] <= 0:
            del self._open[key]

    def open_address(self, address: str) -> bool:
        """Count one more socket of ``address``; False (nothing counted) when at the cap."""
        return self._take(("address", address), self.per_address)

    def close_address(self, address: str) -> None:
        """A socket counted by :meth:`open_address` ended."""
        self._give_back(("address", address))

    def add_user(self, user_id: int) -> bool:
        """Count one more socket of ``user_id``; False (nothing counted) when at the cap."""
        return self._take(("user", user_id), self.per_user)

    def remove_user(self, user_id: int) -> None:
        """A socket counted by :meth:`add_user` ended."""
        self._give_back(("user", user_id))

    def count(self, *, address: str | None = None, user_id: int | None = None) -> int:
        """Open sockets of an address or a user (for tests and metrics)."""
        return self._open[("address", address) if address is not None else ("user", user_id)]


def client_address(ws: WebSocket) -> str:
    """The client's address (after trusted-proxy handling), ``"unknown"`` without one."""
    return ws.client.host if ws.client else "unknown"


async def admit_address(ws: WebSocket, caps: SocketCaps) -> str | None:
    """Count the upgrade against its client address, before the handshake. Returns the
    address (give it back with :meth:`SocketCaps.close_address` when the socket ends), or
    None after refusing the upgrade with HTTP 429 ``RATE_LIMITED``: the caller must then return
    without touching ``ws``."""
    address = client_address(ws)
    if caps.open_address(address):
        return address
    log.info("refused a WebSocket upgrade from %s: %d sockets open", address, caps.per_address)
    metrics.ws_limited("address")
    err = RateLimited(1, f"At most {caps.per_address} WebSockets per client address.")
    await ws.send_denial_response(error_response(err))
    return None


def too_many_sockets(per_user: int) -> RateLimited:
    """The ``error`` reply of an authentication past the per-user socket cap."""
    metrics.ws_limited("user")
    return RateLimited(1, f"At most {per_user} WebSockets per user; close another first.")


def check_subscription_cap(watched: int, cap: int, event_id: int) -> None:
    """Allow a ``subscribe`` to an event not yet watched when fewer than ``cap`` are.

    Raises:
        ValidationFailed: ``cap`` events are already watched (``details.limit``, ``fields``).
    """
    if watched >= cap:
        metrics.ws_limited("subscriptions")
        raise ValidationFailed(
            f"A session watches at most {cap} events; unsubscribe from one first.",
            limit=cap, event_id=event_id,
            fields=[{"field": "event_id", "message": f"at most {cap} subscriptions"}])
