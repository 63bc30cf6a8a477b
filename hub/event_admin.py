"""Event administration (CONTRACT §2 ``/admin/events/{id}``): listing, changing, deactivating
and deleting events, their seats and guest lists. Capacity rules: :mod:`hub.capacity`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from hub.audit import AuditService
from hub.bookings import to_ms
from hub.capacity import added_seats
from hub.errors import CapacityBelowSold, ValidationFailed
from hub.events import EventDraft, EventService
from hub.model import Actor, Attendee, Booking, Event, EventStatus
from hub.policy import require_admin, require_event_creator, require_event_manager
from hub.ports import BookingStore, EventQuery, EventStore, SeatView
from hub.seatmap import Section, seats_for_capacity, seats_for_map

__all__ = ["EventAdmin", "EventChanges", "Invalidate", "Rebuild", "SeatsFreed"]


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
    timezone: str | None = None  #: an IANA zone name

    def fields(self) -> dict[str, object]:
        """The plain columns to write (everything but ``capacity``)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out.pop("capacity")
        return {k: v for k, v in out.items() if v is not None}


EXPORT_PAGE = 1000  # bookings per read of the guest-list export

SeatsFreed = Callable[[int, list[int], datetime], Awaitable[None]]
Rebuild = Callable[[int, datetime], Awaitable[None]]
Invalidate = Callable[[], Awaitable[None]]


class EventAdmin:
    """Listing, changing, deactivating and deleting events, their seats and guest lists.

    Args:
        events: creation and single reads (:class:`EventService`).
        catalog: events and seats (PostgreSQL). bookings: the guest lists (PostgreSQL).
        view: the Redis seat view.
        seats_freed: ``(event_id, seat_ids, now)`` — new seats are offered to the waitlist.
        rebuild: ``(event_id, now)`` — rebuild a dropped view from PostgreSQL (new epoch).
        invalidate: drops the cached analytics after every change.
        audit: records every change (``event.*`` actions of :mod:`hub.audit`).
    """

    def __init__(self, events: EventService, catalog: EventStore, bookings: BookingStore,
                 view: SeatView, seats_freed: SeatsFreed, rebuild: Rebuild,
                 invalidate: Invalidate, audit: AuditService | None = None) -> None:
        self.events = events
        self.audit = audit
        self.catalog = catalog
        self.booking_store = bookings
        self.view = view
        self.seats_freed = seats_freed
        self.rebuild = rebuild
        self.invalidate = invalidate

    async def search(self, query: EventQuery, now: datetime) -> tuple[list[Event], int]:
        """A page of events with live counts, and the total matching."""
        events, total = await self.catalog.list_events(query, now)
        return [await self.events.with_live_counts(e) for e in events], total

    async def mine(self, actor: Actor, query: EventQuery,
                   now: datetime) -> tuple[list[Event], int]:
        """``GET /me/events``: a page of the events ``actor`` organizes, with live counts.

        Raises: Forbidden (neither an organizer nor an admin).
        """
        require_event_creator(actor)
        return await self.search(dataclasses.replace(query, organizer_id=actor.id), now)

    async def create(self, actor: Actor, draft: EventDraft, now: datetime) -> Event:
        """:meth:`EventService.create`, with live counts; its live view is built at once, so
        the seat map and the admins' stream show it from the start. Raises what it raises."""
        event = await self.events.create(actor, draft, now)
        await self._audit(actor, "event.create", now, event.id, name=event.name,
                          capacity=event.capacity)
        await self.invalidate()
        await self.rebuild(event.id, now)
        return await self.events.with_live_counts(event)

    async def _audit(self, actor: Actor, action: str, now: datetime | None, event_id: int,
                     **details: Any) -> None:
        if self.audit is not None:
            await self.audit.record(actor, action, now, event_id=event_id, **details)

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
        event = await self._update(actor, event_id, changes, now)
        changed = {k: v if isinstance(v, int | bool) else str(v)
                   for k, v in dataclasses.asdict(changes).items() if v is not None}
        await self._audit(actor, "event.update", now, event_id, changes=changed)
        return event

    async def _update(self, actor: Actor, event_id: int, changes: EventChanges,
                      now: datetime) -> Event:
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
            await self.view.set_active(event_id, changes.status is EventStatus.ACTIVE, to_ms(now))
        if changes.hold_ttl_seconds is not None:
            await self.view.set_hold_ttl(event_id, changes.hold_ttl_seconds * 1000)
        await self.invalidate()
        return await self.events.get(event_id)

    async def _grow(self, event_id: int, capacity: int, now: datetime) -> None:
        seats = await self.catalog.add_seats(event_id, lambda old: added_seats(old, capacity))
        if seats:
            await self.view.add_seats(event_id, seats, to_ms(now))
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
        event = await self._update(actor, event_id,
                                   EventChanges(status=EventStatus.INACTIVE), now)
        await self._audit(actor, "event.deactivate", now, event_id)
        return event

    async def delete(self, actor: Actor, event_id: int) -> None:
        """Delete an event with its seats, waitlist and cancelled bookings.

        Raises: NotFound, Forbidden, EventHasBookings (confirmed bookings exist).
        """
        await self._managed(actor, event_id)
        await self.catalog.delete_event(event_id)
        await self.view.drop(event_id)
        await self._audit(actor, "event.delete", None, event_id)
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
        await self._audit(actor, "event.seats_generate", now, event_id, seats=len(specs))
        await self.invalidate()
        return await self.events.get(event_id)

    async def attendees(self, actor: Actor, event_id: int, offset: int,
                        limit: int) -> tuple[list[Attendee], int]:
        """The guest list: CONFIRMED bookings, oldest first, with their accounts.

        Raises: NotFound, Forbidden.
        """
        await self._managed(actor, event_id)
        return await self.booking_store.attendees(event_id, offset, limit)

    async def all_attendees(self, actor: Actor, event_id: int) -> list[Attendee]:
        """The whole guest list (the CSV export), read :data:`EXPORT_PAGE` bookings at a
        time. Raises: NotFound, Forbidden."""
        await self._managed(actor, event_id)
        out: list[Attendee] = []
        while True:
            page, total = await self.booking_store.attendees(event_id, len(out), EXPORT_PAGE)
            out.extend(page)
            if not page or len(out) >= total:
                return out

    async def bookings(self, actor: Actor, event_id: int | None, status: str | None,
                       offset: int, limit: int) -> tuple[list[Booking], int]:
        """Every booking (newest first), optionally of one event / status. Admins only.

        Raises: Forbidden, NotFound (``event_id`` given and unknown).
        """
        require_admin(actor)
        if event_id is not None:
            await self.catalog.get_event(event_id)
        return await self.booking_store.list_bookings(event_id, status, offset, limit)
