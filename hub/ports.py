"""The small interfaces ``hub`` talks to its stores through (STYLE.md §8).

``storage/`` implements them on real PostgreSQL (:class:`Store`) and real Redis
(:class:`SeatView`, :class:`Bus`). Times given to them are ``now`` read once per request by the
caller (STYLE.md §3); ``*_ms`` values are epoch milliseconds.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from hub.model import (
    Booking,
    Event,
    Hold,
    HoldStatus,
    Notification,
    Seat,
    User,
    WaitlistEntry,
)

__all__ = [
    "ConfirmCommand",
    "EventCounts",
    "HoldRequest",
    "NewEvent",
    "Notifier",
    "PasswordHasher",
    "PromotionTx",
    "SeatView",
    "Snapshot",
    "Store",
    "SweptHold",
    "ViewMissing",
    "ViewSource",
    "WaitlistStore",
]


class ViewMissing(Exception):
    """The Redis seat view of an event is absent (first use, eviction, FLUSHDB): load it."""

    def __init__(self, event_id: int) -> None:
        super().__init__(f"no seat view for event {event_id}")
        self.event_id = event_id


@dataclass(frozen=True, slots=True)
class HoldRequest:
    """A hold to take: exactly one of ``seat_ids`` or ``qty`` is set.

    ``ttl_ms`` is the lease; ``max_held`` the per-user cap of held seats in this event.
    """

    event_id: int
    user_id: int
    token: str
    now_ms: int
    ttl_ms: int
    max_held: int
    seat_ids: tuple[int, ...] = ()
    qty: int = 0
    lifetime_ms: int = 0
    reserved_for: int = 0


@dataclass(frozen=True, slots=True)
class ViewSource:
    """What PostgreSQL says of an event, to (re)build its Redis view under a new ``epoch``."""

    event_id: int
    epoch: int
    active: bool
    hold_ttl_ms: int
    seats: list[Seat]
    sold_ids: list[int]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The live seat view: seat ids by status, at ``(epoch, seq)``."""

    event_id: int
    epoch: int
    seq: int
    available: list[int]
    held: list[int]
    sold: list[int]
    held_by: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EventCounts:
    """Live seat counts of an event's view (seats)."""

    available: int
    held: int
    sold: int


@dataclass(frozen=True, slots=True)
class SweptHold:
    """A hold the expiry sweeper ended: its seats are available again (or left for repair)."""

    hold_id: str
    event_id: int
    user_id: int
    seat_ids: list[int]
    needs_repair: bool = False
    needs_settle: bool = False  # a confirm outlived its grace: settle it from PostgreSQL;
    # its seats (``seat_ids``) are still held
    entry_id: int = 0


@dataclass(frozen=True, slots=True)
class ConfirmCommand:
    """Turn a hold into a booking: one PostgreSQL transaction (DESIGN invariant 3)."""

    event_id: int
    user_id: int
    hold_id: str
    seat_ids: list[int]
    fence: int
    now: datetime
    guest: dict[str, str] | None = None
    lock_timeout_ms: int = 0  # give up waiting for row locks after this long (0: no limit)


@dataclass(frozen=True, slots=True)
class NewEvent:
    name: str
    venue: str
    start_time: datetime
    end_time: datetime
    hold_ttl_seconds: int
    waitlist_offer_seconds: int
    auto_promote: bool
    organizer_id: int | None
    seats: list[Any]  # list[hub.seatmap.SeatSpec]
    now: datetime


class SeatView(Protocol):
    """The live seat view of events, with holds as leases (Redis, DESIGN flows "Hold").

    Every method that changes seats bumps the event's ``seq`` and publishes a ``delta``
    atomically with the change. Methods raise :class:`ViewMissing` when the view is absent and
    contract errors (``hub.errors``) for refusals.
    """

    async def hold(self, req: HoldRequest) -> Hold: ...
    async def get_hold(self, event_id: int, token: str) -> Hold | None: ...
    async def lookup_hold(self, event_id: int,
                          token: str) -> tuple[Hold | None, tuple[int, HoldStatus] | None]: ...
    async def extend(self, event_id: int, token: str, user_id: int, now_ms: int, ttl_ms: int,
                     lifetime_ms: int) -> Hold: ...
    async def release(self, event_id: int, token: str, user_id: int, now_ms: int,
                      outcome: HoldStatus = HoldStatus.RELEASED) -> list[int]: ...
    async def confirm_begin(self, event_id: int, token: str, user_id: int, now_ms: int,
                            grace_ms: int) -> Hold: ...
    async def confirm_finish(self, event_id: int, token: str, seat_ids: list[int],
                             now_ms: int) -> None: ...
    async def confirm_abort(self, event_id: int, token: str, now_ms: int) -> None: ...
    async def free(self, event_id: int, seat_ids: list[int], now_ms: int) -> list[int]: ...
    async def load(self, source: ViewSource, now_ms: int) -> bool: ...
    async def reconcile(self, event_id: int, sold_ids: list[int], now_ms: int) -> int: ...
    async def sweep(self, event_id: int, now_ms: int) -> list[SweptHold]: ...
    async def live_events(self) -> list[int]: ...
    async def snapshot(self, event_id: int) -> Snapshot: ...
    async def history(self, event_id: int, epoch: int,
                      after_seq: int) -> tuple[int, int, list[str]] | None: ...
    async def counts(self, event_id: int) -> EventCounts | None: ...
    async def set_active(self, event_id: int, active: bool, now_ms: int) -> None: ...
    async def drop(self, event_id: int) -> None: ...
    async def offer(self, event_id: int, user_id: int, token: str, now_ms: int, ttl_ms: int,
                    qty: int, entry_id: int) -> Hold: ...
    async def set_waiting(self, event_id: int, waiting: int, now_ms: int) -> int: ...
    async def free_count(self, event_id: int) -> int: ...


class PromotionTx(Protocol):
    """One event's waitlist promotion inside a PostgreSQL transaction that holds the event's
    promotion lock. Entries are storage rows exposing ``id``, ``user_id``, ``qty``."""

    async def settings(self) -> tuple[bool, int, bool]:
        """``(active, waitlist_offer_seconds, auto_promote)``. Raises: NotFound."""
        ...
    async def waiting(self) -> list[Any]: ...
    async def offered(self, row: Any, hold_id: str, expires_at: datetime,
                      now: datetime) -> WaitlistEntry: ...
    async def accepted(self, row: Any, booking_id: int, now: datetime) -> WaitlistEntry: ...
    async def notify(self, row: Any, kind: str, payload: dict[str, Any],
                     now: datetime) -> None: ...
    async def count_waiting(self) -> int: ...
    notices: list[Notification]


class WaitlistStore(Protocol):
    """Waitlist entries in PostgreSQL (see ``storage.waitlist``)."""

    def promotion(self, event_id: int) -> AbstractAsyncContextManager[PromotionTx]: ...
    async def join(self, event_id: int, user_id: int, qty: int,
                   now: datetime) -> tuple[WaitlistEntry, int]: ...
    async def get(self, entry_id: int) -> WaitlistEntry: ...
    async def for_user(self, user_id: int) -> list[WaitlistEntry]: ...
    async def leave(self, entry_id: int,
                    now: datetime) -> tuple[WaitlistEntry, str | None, int]: ...
    async def offer_ended(self, entry_id: int, hold_id: str, now: datetime, *,
                          booking_id: int | None) -> tuple[WaitlistEntry, Notification] | None:
        ...


class Notifier(Protocol):
    """Personal pushes to every session of a user, on every hub process.

    ``kind`` is the push type (``booking.confirmed``, ``booking.cancelled``, ``hold.expired``,
    ...); ``record`` the domain record it is about. The implementation renders the wire form.
    """

    async def notify(self, user_id: int, kind: str, record: object) -> None: ...


class PasswordHasher(Protocol):
    """bcrypt, run off the event loop by the implementation."""

    async def hash(self, password: str) -> str: ...
    async def verify(self, password: str, hashed: str) -> bool: ...


class Store(Protocol):
    """PostgreSQL, the source of truth. Errors: ``NotFound``, ``SeatUnavailable``,
    ``HoldExpired`` (stale fence), ``EventInactive``, ``Unavailable``."""

    async def get_event(self, event_id: int) -> Event: ...
    async def create_event(self, new: NewEvent) -> Event: ...
    async def list_seats(self, event_id: int) -> list[Seat]: ...
    async def view_source(self, event_id: int) -> ViewSource: ...
    async def sold_seat_ids(self, event_id: int) -> list[int]: ...
    async def confirm(self, cmd: ConfirmCommand) -> Booking: ...
    async def booking_for_hold(self, event_id: int, hold_id: str) -> Booking | None: ...
    async def settle_hold(self, event_id: int, hold_id: str, seat_ids: list[int],
                          fence: int) -> Booking | None: ...
    async def cancel(self, booking_id: int, now: datetime) -> Booking: ...
    async def get_booking(self, booking_id: int) -> Booking: ...
    async def user_bookings(self, user_id: int) -> list[Booking]: ...
    async def add_user(self, name: str, email: str, password_hash: str, role: str,
                       now: datetime) -> User: ...
    async def upsert_user(self, name: str, email: str, password_hash: str, role: str,
                          now: datetime) -> User: ...
    async def user_by_email(self, email: str) -> tuple[User, str] | None: ...
    async def get_user(self, user_id: int) -> User: ...
