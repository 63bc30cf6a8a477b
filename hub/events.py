"""Events, the catalog side: creation with generated seats, and reads merged with the live
seat view (CONTRACT §2 ``POST /events``, ``GET /events/{id}``). Administration is
:mod:`hub.event_admin`; capacity rules are :mod:`hub.capacity`.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from hub.errors import ValidationFailed
from hub.model import Actor, Event
from hub.policy import require_event_creator
from hub.ports import EventStore, NewEvent, SeatView
from hub.seatmap import Section, seats_for_capacity, seats_for_map

__all__ = ["EventDraft", "EventService"]


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
    timezone: str = "UTC"  #: an IANA zone name, checked by the web layer


class EventService:
    """Create and read events. ``default_hold_ttl`` / ``default_offer`` are seconds."""

    def __init__(self, events: EventStore, view: SeatView, default_hold_ttl: int,
                 default_offer: int) -> None:
        self.events = events
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
        return await self.events.create_event(NewEvent(
            name=draft.name.strip(), venue=draft.venue.strip(), start_time=draft.start_time,
            end_time=draft.end_time,
            hold_ttl_seconds=draft.hold_ttl_seconds or self.default_hold_ttl,
            waitlist_offer_seconds=draft.waitlist_offer_seconds or self.default_offer,
            auto_promote=draft.auto_promote, organizer_id=actor.id, seats=seats, now=now,
            timezone=draft.timezone))

    async def get(self, event_id: int) -> Event:
        """The event with exact counts: booked/waitlisted from PostgreSQL, held from the live
        view (0 when no view is loaded). Raises: NotFound."""
        event = await self.events.get_event(event_id)
        return await self.with_live_counts(event)

    async def with_live_counts(self, event: Event) -> Event:
        counts = await self.view.counts(event.id)
        held = counts.held if counts is not None else 0
        return dataclasses.replace(
            event, held_count=held,
            available_count=max(event.capacity - event.booked_count - held, 0))
