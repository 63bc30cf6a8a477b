"""Interfaces of the process's runtime services: tokens, idempotency keys, notifications,
live counters, readiness, and the waitlist hooks of the booking service.

Implementations: ``web.security.TokenCodec`` (JWT), ``storage.idempotency.IdempotencyStore``,
``storage.notifications.NotificationStore``, ``storage.live_stats.LiveStats``,
``web.bootstrap.StoreProbe``, :class:`hub.waitlist.WaitlistService`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from hub.model import Actor, Booking, Hold, Notification, Role

__all__ = [
    "IdempotencyKeys",
    "LiveStats",
    "Notifications",
    "Principal",
    "PromotionBooker",
    "Readiness",
    "StoredAnswer",
    "TokenCodec",
    "WaitlistHooks",
]


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated actor of a request or session, from a verified access token;
    ``family`` is its login family (the ``fam`` claim; None on tokens issued before access
    tokens named it)."""

    id: int
    role: Role
    jti: str
    issued_at: datetime
    expires_at: datetime
    family: str | None = None


class TokenCodec(Protocol):
    """Signs and verifies tokens (``web.security.TokenCodec``: JWT HS256).

    ``access_ttl`` is the access token's lifetime in seconds.
    """

    access_ttl: int

    def issue(self, user_id: int, role: Role, now: datetime, *, kind: str = "access",
              family: str | None = None, jti: str | None = None) -> tuple[str, dict[str, Any]]:
        """``(token, claims)``; claims ``sub, role, typ, jti, iat, exp`` (+ ``fam``); ``exp``
        is epoch seconds."""
        ...

    def decode(self, token: str, kind: str = "access") -> dict[str, Any]:
        """The verified claims. Raises: TokenExpired, Unauthenticated."""
        ...

    def principal(self, token: str) -> Principal:
        """An access token's principal (signature and expiry only). Raises: TokenExpired,
        Unauthenticated."""
        ...


class StoredAnswer(Protocol):
    """A stored answer of an idempotent command: an HTTP ``status`` (201) and a JSON body."""

    status: int
    body: Any


class IdempotencyKeys(Protocol):
    """``Idempotency-Key`` claims in PostgreSQL, per user, kept 24 hours."""

    async def begin(self, user_id: int, key: str, fingerprint: str,
                    now: datetime) -> StoredAnswer | None:
        """Claim ``key``; the stored answer when it already ran, None when the caller runs.
        Raises: IdempotencyKeyReused (another fingerprint), IdempotencyKeyInUse (in flight)."""
        ...

    async def finish(self, user_id: int, key: str, status: int, body: Any) -> None:
        """Store the answer of a claimed key."""
        ...

    async def release(self, user_id: int, key: str) -> None:
        """Drop a claim whose command failed (nothing was changed; the key may be retried)."""
        ...

    async def purge(self, now: datetime) -> int:
        """Delete keys older than their 24 h retention at ``now``; returns how many."""
        ...


class Notifications(Protocol):
    """Stored notifications in PostgreSQL."""

    async def list(self, user_id: int, unread_only: bool = False,
                   limit: int = 100) -> list[Notification]:
        """The user's notifications, newest first, at most ``limit``."""
        ...

    async def mark_read(self, user_id: int, notification_id: int, now: datetime) -> None:
        """Raises: NotFound, Forbidden (another user's)."""
        ...


class LiveStats(Protocol):
    """Live counters shared by every hub process (Redis)."""

    async def publish_local(self, subscribers: dict[int, int], connections: int) -> None:
        """Write this process's subscriber count per event id and its open sessions."""
        ...

    async def snapshot(self, now_ms: int) -> dict[str, Any]:
        """The ``analytics`` message over every process: ``{type, at, events: [{id, sold,
        held, available, waitlisted, holds_per_min, bookings_per_min, subscribers}],
        connections}`` (``now_ms``, ``at``: epoch ms)."""
        ...


class Readiness(Protocol):
    """Whether the backing stores answer (``GET /readyz``)."""

    async def check(self) -> dict[str, bool]:
        """``{"postgres": bool, "redis": bool}``; never raises."""
        ...


#: ``(waiter, hold_id, now) -> Booking``: books a waitlist offer at once (``auto_promote``).
PromotionBooker = Callable[[Actor, str, datetime], Awaitable[Booking]]


class WaitlistHooks(Protocol):
    """What the booking service tells the waitlist; passed to it when it is built."""

    async def promote(self, event_id: int, seat_ids: list[int], now: datetime,
                      book: PromotionBooker) -> None:
        """Seats of the event became free (``seat_ids``, possibly none: a rebuilt view or a
        queue change): offer them to waiting entries; ``book`` books an offer of an
        ``auto_promote`` event."""
        ...

    async def offer_ended(self, hold: Hold, booking_id: int | None, now: datetime) -> None:
        """A waitlist offer (``hold.entry_id``) was booked (``booking_id``), released or
        expired."""
        ...
