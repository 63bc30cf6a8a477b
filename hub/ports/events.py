"""The event store port: events and their seats in PostgreSQL (``storage.events``).

Counts on :class:`~hub.model.Event` are seats. Each method is one transaction; those that
change seats lock the event row first, so two capacity changes of one event never interleave.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from hub.model import Event, EventStatus, Seat
from hub.ports.seats import ViewSource
from hub.seatmap import SeatSpec

__all__ = ["EventQuery", "EventStore", "NewEvent", "SeatPlan"]

#: ``plan(existing seats, best rank first) -> seats to add``, run under the event's lock.
SeatPlan = Callable[[list[Seat]], list[SeatSpec]]


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to insert with its generated seats; ``*_seconds`` are seconds, ``now`` the
    creation time, ``organizer_id`` the creating account."""

    name: str
    venue: str
    start_time: datetime
    end_time: datetime
    hold_ttl_seconds: int
    waitlist_offer_seconds: int
    auto_promote: bool
    organizer_id: int | None
    seats: list[SeatSpec]
    now: datetime
    timezone: str = "UTC"  #: IANA zone name the event's times are shown in


@dataclass(frozen=True, slots=True)
class EventQuery:
    """``GET /events`` filters. ``offset``/``limit`` count events; ``q`` matches name or venue
    case-insensitively; ``upcoming_only`` keeps events starting at or after ``now``."""

    offset: int = 0
    limit: int = 20
    q: str | None = None
    sort: Literal["start_time", "name", "utilization", "created_at"] = "start_time"
    order: Literal["asc", "desc"] = "asc"
    upcoming_only: bool = False
    status: EventStatus | None = None
    organizer_id: int | None = None  #: only this organizer's events (``GET /me/events``)


class EventStore(Protocol):
    """Events and seats (PostgreSQL, the source of truth)."""

    async def get_event(self, event_id: int) -> Event:
        """The event with exact ``capacity``, ``booked_count`` and ``waitlisted_count``
        (``held_count`` 0: the live view adds it). Raises: NotFound."""
        ...

    async def create_event(self, new: NewEvent) -> Event:
        """Insert an active event with ``new.seats``; returns it (``capacity`` = seats)."""
        ...

    async def list_seats(self, event_id: int) -> list[Seat]:
        """The event's seats, best ``rank`` first (empty for an unknown event)."""
        ...

    async def view_source(self, event_id: int) -> ViewSource:
        """Seats, sold seat ids and a fresh epoch (the stored one + 1) to build the live view,
        with ``hold_ttl_ms`` = ``hold_ttl_seconds`` × 1000. Raises: NotFound."""
        ...

    async def sold_seat_ids(self, event_id: int) -> list[int]:
        """Seat ids of the event's CONFIRMED bookings."""
        ...

    async def list_events(self, query: EventQuery, now: datetime) -> tuple[list[Event], int]:
        """A page of events (counts as :meth:`get_event`) and the total matching."""
        ...

    async def update_event(self, event_id: int, fields: dict[str, object]) -> None:
        """Write plain columns by name (enums by value), e.g. ``{"name": "…"}``.
        Raises: NotFound."""
        ...

    async def add_seats(self, event_id: int, plan: SeatPlan) -> list[Seat]:
        """Insert the seats ``plan(existing)`` returns, under the event lock; returns the new
        seats with their ids, best rank first. Raises: NotFound."""
        ...

    async def remove_seats(self, event_id: int, capacity: int) -> list[int]:
        """Delete the worst (highest rank) never-booked seats until ``capacity`` remain;
        returns the deleted seat ids. Raises: NotFound, CapacityBelowSold."""
        ...

    async def replace_seats(self, event_id: int, specs: list[SeatSpec]) -> None:
        """Replace every seat. Raises: NotFound, EventHasBookings (any booking, even a
        cancelled one, names the old seats)."""
        ...

    async def delete_event(self, event_id: int) -> None:
        """Delete the event, its seats, waitlist and cancelled bookings.
        Raises: NotFound, EventHasBookings (CONFIRMED bookings exist)."""
        ...
