"""Events: creation with generated seats, and reads merged with the live seat view.

The admin side (:class:`EventAdmin`, CONTRACT §2 ``/admin/events/{id}``) changes events and
their seats; capacity rules:

* Raising ``capacity`` adds seats. A capacity-style event (seats ``A1..A10, B1..`` of section
  ``General``) continues its rows of 10, filling gaps left by earlier decreases first; an
  event made from a seat map gets the new seats in a section named ``Extra`` after the others
  (rows of 10, continued on a later raise). New seats go to the waitlist first.
* Lowering ``capacity`` below the seats sold is ``CAPACITY_BELOW_SOLD``. Otherwise the worst
  (highest ``rank``) seats that were never booked are removed. The live view is then rebuilt
  under a new epoch, which would lose live holds, so a decrease is refused (also
  ``CAPACITY_BELOW_SOLD``, ``details.held``) while any seat of the event is held.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Literal, Protocol

from hub.errors import CapacityBelowSold, ValidationFailed
from hub.model import Actor, Booking, Event, EventStatus, Seat, User
from hub.policy import require_admin, require_event_creator, require_event_manager
from hub.ports import EventCounts, NewEvent, SeatView, Snapshot, Store
from hub.seatmap import (
    CAPACITY_ROW_LENGTH,
    MAX_SEATS_PER_EVENT,
    SeatSpec,
    Section,
    row_name,
    seat_rank,
    seats_for_capacity,
    seats_for_map,
    section_of,
)

__all__ = [
    "EXTRA_SECTION",
    "Attendee",
    "EventAdmin",
    "EventCatalog",
    "EventChanges",
    "EventDraft",
    "EventQuery",
    "EventService",
    "LiveSeats",
    "added_seats",
]

EXTRA_SECTION = "Extra"


@dataclasses.dataclass(frozen=True, slots=True)
class EventDraft:
    """What an organizer sends to create an event; exactly one of capacity / sections."""

    name: str
    venue: str
    start_time: datetime
    end_time: datetime
    capacity: int | None = None
    sections: list[Section] | None = None
    hold_ttl_seconds: int | None = None
    waitlist_offer_seconds: int | None = None
    auto_promote: bool = False


class EventService:
    """Create and read events. ``default_hold_ttl`` / ``default_offer`` are seconds."""

    def __init__(self, store: Store, view: SeatView, default_hold_ttl: int,
                 default_offer: int) -> None:
        self.store = store
        self.view = view
        self.default_hold_ttl = default_hold_ttl
        self.default_offer = default_offer

    async def create(self, actor: Actor, draft: EventDraft, now: datetime) -> Event:
        """Raises: Forbidden (not organizer/admin), ValidationFailed."""
        require_event_creator(actor)
        if draft.end_time < draft.start_time:
            raise ValidationFailed(fields=[{"field": "end_time",
                                            "message": "must not be before start_time"}])
        if (draft.capacity is None) == (draft.sections is None):
            raise ValidationFailed(fields=[{"field": "capacity",
                                            "message": "give exactly one of capacity, seat_map"}])
        seats = (seats_for_capacity(draft.capacity) if draft.capacity is not None
                 else seats_for_map(draft.sections or []))
        return await self.store.create_event(NewEvent(
            name=draft.name.strip(), venue=draft.venue.strip(), start_time=draft.start_time,
            end_time=draft.end_time,
            hold_ttl_seconds=draft.hold_ttl_seconds or self.default_hold_ttl,
            waitlist_offer_seconds=draft.waitlist_offer_seconds or self.default_offer,
            auto_promote=draft.auto_promote, organizer_id=actor.id, seats=seats, now=now))

    async def get(self, event_id: int) -> Event:
        """The event with exact counts: booked/waitlisted from PostgreSQL, held from the live
        view (0 when no view is loaded). Raises: NotFound."""
        event = await self.store.get_event(event_id)
        return await self.with_live_counts(event)

    async def with_live_counts(self, event: Event) -> Event:
        counts = await self.view.counts(event.id)
        held = counts.held if counts is not None else 0
        return dataclasses.replace(
            event, held_count=held,
            available_count=max(event.capacity - event.booked_count - held, 0))


# -- listing and administration ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
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


@dataclasses.dataclass(frozen=True, slots=True)
class EventChanges:
    """``PATCH /admin/events/{id}``: None leaves a field as it is."""

    name: str | None = None
    venue: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    hold_ttl_seconds: int | None = None
    waitlist_offer_seconds: int | None = None
    auto_promote: bool | None = None
    status: EventStatus | None = None
    capacity: int | None = None

    def fields(self) -> dict[str, object]:
        """The plain columns to write (everything but ``capacity``)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out.pop("capacity")
        return {k: v for k, v in out.items() if v is not None}


@dataclasses.dataclass(frozen=True, slots=True)
class Attendee:
    """A CONFIRMED booking of the guest list with the account that made it."""

    booking: Booking
    user: User


SeatPlan = Callable[[list[Seat]], list[SeatSpec]]


class EventCatalog(Protocol):
    """Events and seats in PostgreSQL, for listing and administration. Each method is one
    transaction; the ones that change seats lock the event row first."""

    async def get_event(self, event_id: int) -> Event: ...
    async def list_events(self, query: EventQuery, now: datetime) -> tuple[list[Event], int]: ...
    async def update_event(self, event_id: int, fields: dict[str, object]) -> None: ...
    async def add_seats(self, event_id: int, plan: SeatPlan) -> list[Seat]: ...
    async def remove_seats(self, event_id: int, capacity: int) -> list[int]: ...
    async def replace_seats(self, event_id: int, specs: list[SeatSpec]) -> None: ...
    async def delete_event(self, event_id: int) -> None: ...
    async def attendees(self, event_id: int, offset: int,
                        limit: int) -> tuple[list[Attendee], int]: ...
    async def list_bookings(self, event_id: int | None, status: str | None, offset: int,
                            limit: int) -> tuple[list[Booking], int]: ...


class LiveSeats(Protocol):
    """The parts of the Redis seat view that event administration uses (``*_ms``: epoch ms)."""

    async def counts(self, event_id: int) -> EventCounts | None: ...
    async def snapshot(self, event_id: int) -> Snapshot: ...
    async def add_seats(self, event_id: int, seats: list[Seat], now_ms: int) -> int: ...
    async def set_active(self, event_id: int, active: bool, now_ms: int) -> None: ...
    async def set_hold_ttl(self, event_id: int, ttl_ms: int) -> None: ...
    async def drop(self, event_id: int) -> None: ...


SeatsFreed = Callable[[int, list[int], datetime], Awaitable[None]]
Rebuild = Callable[[int, datetime], Awaitable[None]]
Invalidate = Callable[[], Awaitable[None]]


def _ms(now: datetime) -> int:
    return int(now.timestamp() * 1000)


def _capacity_style(seats: list[Seat]) -> bool:
    """True when the seats were made from ``capacity`` alone (labels ``A1``, section
    ``General``), so an increase continues the rows instead of adding a section."""
    return all(s.section == "General" and s.label == f"{s.row}{s.number}" for s in seats)


def added_seats(existing: list[Seat], capacity: int) -> list[SeatSpec]:
    """The seats a raise to ``capacity`` adds (none when there are that many already).

    Capacity-style events continue ``A1..A10, B1..`` (free positions first, so gaps left by a
    decrease are refilled); seat-map events grow a section ``Extra`` in rows of 10 after the
    existing sections. Ranks follow :mod:`hub.seatmap`.

    Raises:
        ValidationFailed: more than :data:`~hub.seatmap.MAX_SEATS_PER_EVENT` seats.
    """
    count = capacity - len(existing)
    if count <= 0:
        return []
    if capacity > MAX_SEATS_PER_EVENT:
        raise ValidationFailed(fields=[{"field": "capacity",
                                        "message": f"must be 1..{MAX_SEATS_PER_EVENT}"}])
    taken = {s.label for s in existing}
    if _capacity_style(existing):
        specs = seats_for_capacity(len(existing) + count)
        return [s for s in specs if s.label not in taken][:count]
    extra = [s for s in existing if s.section == EXTRA_SECTION]
    section_index = section_of(extra[0].rank if extra else max(s.rank for s in existing))
    if not extra:
        section_index += 1
    out: list[SeatSpec] = []
    position = 0
    while len(out) < count:
        row_index, seat_index = divmod(position, CAPACITY_ROW_LENGTH)
        row, number = row_name(row_index), seat_index + 1
        label = f"{EXTRA_SECTION} {row}{number}"
        if label not in taken:
            rank = seat_rank(section_index, row_index, CAPACITY_ROW_LENGTH, number)
            out.append(SeatSpec(EXTRA_SECTION, row, number, label, rank))
        position += 1
    return out


class EventAdmin:
    """Listing, changing, deactivating and deleting events, their seats and guest lists.

    Args:
        events: creation and single reads (:class:`EventService`).
        catalog: PostgreSQL. view: the Redis seat view.
        seats_freed: ``(event_id, seat_ids, now)`` — new seats are offered to the waitlist.
        rebuild: ``(event_id, now)`` — rebuild a dropped view from PostgreSQL (new epoch).
        invalidate: drops the cached analytics after every change.
    """

    def __init__(self, events: EventService, catalog: EventCatalog, view: LiveSeats,
                 seats_freed: SeatsFreed, rebuild: Rebuild, invalidate: Invalidate) -> None:
        self.events = events
        self.catalog = catalog
        self.view = view
        self.seats_freed = seats_freed
        self.rebuild = rebuild
        self.invalidate = invalidate

    async def search(self, query: EventQuery, now: datetime) -> tuple[list[Event], int]:
        """A page of events with live counts, and the total matching."""
        events, total = await self.catalog.list_events(query, now)
        return [await self.events.with_live_counts(e) for e in events], total

    async def create(self, actor: Actor, draft: EventDraft, now: datetime) -> Event:
        """:meth:`EventService.create`, with live counts; its live view is built at once, so
        the seat map and the admins' stream show it from the start. Raises what it raises."""
        event = await self.events.create(actor, draft, now)
        await self.invalidate()
        await self.rebuild(event.id, now)
        return await self.events.with_live_counts(event)

    async def _managed(self, actor: Actor, event_id: int) -> Event:
        """The event, if ``actor`` manages it. Raises: Forbidden (plain users before any
        lookup), NotFound."""
        require_event_creator(actor)
        event = await self.catalog.get_event(event_id)
        require_event_manager(actor, event)
        return event

    async def update(self, actor: Actor, event_id: int, changes: EventChanges,
                     now: datetime) -> Event:
        """Apply ``changes`` (see the module docstring for ``capacity``).

        Raises:
            NotFound, Forbidden (neither admin nor the owning organizer),
            ValidationFailed (times out of order), CapacityBelowSold.
        """
        event = await self._managed(actor, event_id)
        start = changes.start_time or event.start_time
        end = changes.end_time or event.end_time
        if end < start:
            raise ValidationFailed(fields=[{"field": "end_time",
                                            "message": "must not be before start_time"}])
        if changes.capacity is not None and changes.capacity > event.capacity:
            await self._grow(event_id, changes.capacity, now)
        elif changes.capacity is not None and changes.capacity < event.capacity:
            await self._shrink(event_id, changes.capacity, now)
        fields = changes.fields()
        if fields:
            await self.catalog.update_event(event_id, fields)
        if changes.status is not None:
            await self.view.set_active(event_id, changes.status is EventStatus.ACTIVE, _ms(now))
        if changes.hold_ttl_seconds is not None:
            await self.view.set_hold_ttl(event_id, changes.hold_ttl_seconds * 1000)
        await self.invalidate()
        return await self.events.get(event_id)

    async def _grow(self, event_id: int, capacity: int, now: datetime) -> None:
        seats = await self.catalog.add_seats(event_id, lambda old: added_seats(old, capacity))
        if seats:
            await self.view.add_seats(event_id, seats, _ms(now))
            await self.seats_freed(event_id, [s.id for s in seats], now)

    async def _shrink(self, event_id: int, capacity: int, now: datetime) -> None:
        counts = await self.view.counts(event_id)
        if counts is not None and counts.held:
            raise CapacityBelowSold(
                "Capacity can be lowered only while no seats are held; try again shortly.",
                held=counts.held, sold=counts.sold)
        removed = await self.catalog.remove_seats(event_id, capacity)
        if removed:
            await self.view.drop(event_id)
            await self.rebuild(event_id, now)

    async def deactivate(self, actor: Actor, event_id: int, now: datetime) -> Event:
        """Stop sales: new holds and bookings get ``EVENT_INACTIVE`` (open holds can no
        longer be confirmed either). Raises: NotFound, Forbidden."""
        return await self.update(actor, event_id, EventChanges(status=EventStatus.INACTIVE),
                                 now)

    async def delete(self, actor: Actor, event_id: int) -> None:
        """Delete an event with its seats, waitlist and cancelled bookings.

        Raises: NotFound, Forbidden, EventHasBookings (confirmed bookings exist).
        """
        await self._managed(actor, event_id)
        await self.catalog.delete_event(event_id)
        await self.view.drop(event_id)
        await self.invalidate()

    async def generate_seats(self, actor: Actor, event_id: int, capacity: int | None,
                             sections: list[Section] | None, now: datetime) -> Event:
        """Replace every seat of the event (exactly one of ``capacity`` / ``sections``).

        Allowed only while the event has no bookings at all (a cancelled booking still names
        its seats); live holds on the old seats end with the rebuilt view.

        Raises: NotFound, Forbidden, ValidationFailed, EventHasBookings.
        """
        await self._managed(actor, event_id)
        if (capacity is None) == (sections is None):
            raise ValidationFailed(fields=[{"field": "sections",
                                            "message": "give exactly one of sections, capacity"}])
        specs = (seats_for_capacity(capacity) if capacity is not None
                 else seats_for_map(sections or []))
        await self.catalog.replace_seats(event_id, specs)
        await self.view.drop(event_id)
        await self.rebuild(event_id, now)
        await self.invalidate()
        return await self.events.get(event_id)

    async def attendees(self, actor: Actor, event_id: int, offset: int,
                        limit: int) -> tuple[list[Attendee], int]:
        """The guest list: CONFIRMED bookings, oldest first, with their accounts.

        Raises: NotFound, Forbidden.
        """
        await self._managed(actor, event_id)
        return await self.catalog.attendees(event_id, offset, limit)

    async def bookings(self, actor: Actor, event_id: int | None, status: str | None,
                       offset: int, limit: int) -> tuple[list[Booking], int]:
        """Every booking (newest first), optionally of one event / status. Admins only.

        Raises: Forbidden, NotFound (``event_id`` given and unknown).
        """
        require_admin(actor)
        if event_id is not None:
            await self.catalog.get_event(event_id)
        return await self.catalog.list_bookings(event_id, status, offset, limit)

