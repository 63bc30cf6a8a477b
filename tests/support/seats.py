"""Seat views for integration tests: a row of seats loaded straight into Redis."""

from __future__ import annotations

import os

from hub.model import Seat
from hub.ports import HoldRequest, ViewSource

__all__ = ["EPOCH", "EVENT", "NOW", "TTL_MS", "hold_request", "row_of", "source"]

# Pub/sub channels are shared by every database of a Redis server, so other test sessions on
# the same server publish on ``ev:{e:1}`` too: this session's event id is its own.
EVENT = 800_000_000 + os.getpid()
EPOCH = 3
TTL_MS = 60_000  # the event's hold TTL (ms) in these views
NOW = 1_800_000_000_000  # a fixed "now", epoch ms: time is an argument, never read here


def row_of(n: int, first_id: int = 1) -> list[Seat]:
    """``n`` side-by-side seats of row A, ids ``first_id…``, ranks 1…n (best first)."""
    return [Seat(id=first_id + i, label=f"A-{i + 1}", section="Floor", row="A", number=i + 1,
                 rank=i + 1) for i in range(n)]


def source(n: int = 10, sold: list[int] | None = None, event_id: int = EVENT,
           active: bool = True) -> ViewSource:
    """What PostgreSQL would say of an event of ``n`` seats (``sold`` ids already sold)."""
    return ViewSource(event_id=event_id, epoch=EPOCH, active=active, hold_ttl_ms=TTL_MS,
                      seats=row_of(n), sold_ids=sold or [])


def hold_request(user_id: int, token: str, *, seat_ids: tuple[int, ...] = (), qty: int = 0,
                 now_ms: int = NOW, ttl_ms: int = TTL_MS, max_held: int = 8,
                 event_id: int = EVENT, reserved_for: int = 0,
                 lifetime_ms: int = 15 * 60_000) -> HoldRequest:
    """A hold of ``seat_ids`` (or ``qty`` best seats) with a lifetime cap (15 minutes);
    ``reserved_for`` is the waitlist entry the hold is offered to (0: none)."""
    return HoldRequest(event_id=event_id, user_id=user_id, token=token, now_ms=now_ms,
                       ttl_ms=ttl_ms, max_held=max_held, seat_ids=seat_ids, qty=qty,
                       lifetime_ms=lifetime_ms, reserved_for=reserved_for)
