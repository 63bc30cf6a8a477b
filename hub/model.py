"""Domain records and lifecycles: plain dataclasses and enums, no I/O.

Storage rows are turned into these inside ``storage/``; the web layer renders them. Every
lifecycle is an enum with an explicit transition table: an illegal transition raises
:class:`IllegalTransition` (STYLE.md §2), it is never silently ignored.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

__all__ = [
    "Actor",
    "Attendee",
    "Booking",
    "BookingStatus",
    "Event",
    "EventStatus",
    "Hold",
    "HoldStatus",
    "IllegalTransition",
    "Notification",
    "Role",
    "Seat",
    "SeatStatus",
    "User",
    "WaitlistEntry",
    "WaitlistStatus",
]


class IllegalTransition(RuntimeError):
    """A lifecycle was asked to move along an edge its table does not have (a bug, not input)."""


class Role(enum.StrEnum):
    """Account roles. Organizers create events and manage their own; admins manage all."""

    USER = "user"
    ORGANIZER = "organizer"
    ADMIN = "admin"


class SeatStatus(enum.StrEnum):
    """What the live seat view says of one seat (CONTRACT §2 ``/events/{id}/seats``)."""

    AVAILABLE = "available"
    HELD = "held"
    SOLD = "sold"


class HoldStatus(enum.StrEnum):
    """A hold's life: ACTIVE ⇄ CONFIRMING (the confirm transaction runs; back to ACTIVE if it
    fails for a passing reason), then one end: CONFIRMED, RELEASED or EXPIRED (DESIGN
    invariant 8: a confirming hold is settled from PostgreSQL once its grace has passed)."""

    ACTIVE = "active"
    CONFIRMING = "confirming"
    CONFIRMED = "confirmed"
    RELEASED = "released"
    EXPIRED = "expired"


class EventStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class BookingStatus(enum.StrEnum):
    """CONFIRMED → CANCELLED, once; a cancelled booking never comes back."""

    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"

    def to(self, new: BookingStatus) -> BookingStatus:
        """Return ``new`` if the move is legal; raise :class:`IllegalTransition` otherwise."""
        if (self, new) != (BookingStatus.CONFIRMED, BookingStatus.CANCELLED):
            raise IllegalTransition(f"booking {self} -> {new}")
        return new


_WAITLIST_EDGES: dict[str, frozenset[str]] = {
    "WAITING": frozenset({"OFFERED", "ACCEPTED", "LEFT"}),
    "OFFERED": frozenset({"ACCEPTED", "EXPIRED", "LEFT"}),
    "ACCEPTED": frozenset(),
    "EXPIRED": frozenset(),
    "LEFT": frozenset(),
}


class WaitlistStatus(enum.StrEnum):
    """WAITING → OFFERED → ACCEPTED | EXPIRED; WAITING/OFFERED → LEFT; WAITING → ACCEPTED
    (``auto_promote`` books straight away)."""

    WAITING = "WAITING"
    OFFERED = "OFFERED"
    ACCEPTED = "ACCEPTED"
    EXPIRED = "EXPIRED"
    LEFT = "LEFT"

    def to(self, new: WaitlistStatus) -> WaitlistStatus:
        """Return ``new`` if the move is legal; raise :class:`IllegalTransition` otherwise."""
        if new.value not in _WAITLIST_EDGES[self.value]:
            raise IllegalTransition(f"waitlist entry {self} -> {new}")
        return new


class Actor(Protocol):
    """Whoever sends a command: an id and a role (a :class:`User`, or a token's principal)."""

    @property
    def id(self) -> int: ...
    @property
    def role(self) -> Role: ...


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    email: str
    role: Role
    created_at: datetime
    banned: bool = False
    last_login_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """An event on sale. Counts are seats; ``hold_ttl_seconds`` is the lease length of a hold.

    ``timezone`` is the IANA zone name the event takes place in (``"Europe/Paris"``); times
    are stored as UTC instants and shown in this zone (e-mails, calendar files).
    """

    id: int
    name: str
    venue: str
    start_time: datetime
    end_time: datetime
    status: EventStatus
    capacity: int
    hold_ttl_seconds: int
    waitlist_offer_seconds: int
    auto_promote: bool
    organizer_id: int | None
    created_at: datetime
    booked_count: int = 0
    held_count: int = 0
    available_count: int = 0
    waitlisted_count: int = 0
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class Seat:
    """A seat of an event. ``rank`` orders seats best-first; side-by-side seats of one row
    have consecutive ranks (see :mod:`hub.seatmap`)."""

    id: int
    label: str
    section: str
    row: str
    number: int
    rank: int
    status: SeatStatus = SeatStatus.AVAILABLE


@dataclass(frozen=True, slots=True)
class Hold:
    """A lease on seats, kept in Redis. ``hold_id`` is ``"<event_id>.<token>"``.

    ``fence`` is the fencing number the confirm transaction checks (DESIGN invariant 2).
    """

    hold_id: str
    event_id: int
    user_id: int
    seat_ids: list[int]
    labels: list[str]
    created_at: datetime
    expires_at: datetime
    fence: int = 0
    entry_id: int = 0  # the waitlist entry this hold was offered to (0: a buyer's own hold)
    state: HoldStatus = HoldStatus.ACTIVE  # or CONFIRMING while its confirm transaction runs


@dataclass(frozen=True, slots=True)
class Booking:
    id: int
    event_id: int
    user_id: int
    seat_ids: list[int]
    seats: list[str]
    status: BookingStatus
    created_at: datetime
    cancelled_at: datetime | None = None
    guest: dict[str, str] | None = None
    notice: Notification | None = None  # the notification written with this change, if any

    @property
    def qty(self) -> int:
        return len(self.seat_ids)


@dataclass(frozen=True, slots=True)
class WaitlistEntry:
    id: int
    event_id: int
    user_id: int
    qty: int
    position: int | None
    status: WaitlistStatus
    created_at: datetime
    offer: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    user_id: int
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    read_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Attendee:
    """A CONFIRMED booking of an event's guest list with the account that made it."""

    booking: Booking
    user: User
