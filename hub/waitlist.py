"""The waitlist: join, leave, and promotion the moment seats free up (DESIGN "Waitlist").

Fairness: first come, first served among the entries that fit. When seats free up, the WAITING
entries are visited oldest first and each one whose ``qty`` fits the free seats (and the
user's held-seat cap) is offered them; an entry that does not fit is skipped, never blocking
those behind it, and keeps its place for the next time seats free up (issue 10: one waiter
must not freeze an event). Seats freed while anyone waits are reserved for the waitlist (a
pool in the Redis view, shown as ``held``) for at most the event's ``waitlist_offer_seconds``;
then they return to public sale, so no seat stays out of sale because of the waitlist longer
than that. Nobody waiting: pooled seats return to sale at once.

``qty`` is at most ``MAX_HELD_SEATS_PER_USER`` (an offer is a hold and counts toward that cap,
checked in the Redis script that makes it) and at most the event's capacity (422 above either).

An offer is a hold for the waiter, reserved for the event's ``waitlist_offer_seconds``; when it
lapses, or the waiter declines (releases it or leaves), the seats pass to the next in line.
``auto_promote`` events book the seats at once instead of offering them.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from hub.errors import (
    EventInactive,
    HoldExpired,
    HoldLimit,
    NotEnoughSeats,
    NotFound,
    SeatUnavailable,
    ValidationFailed,
)
from hub.holds import MAX_SEATS_PER_REQUEST, ms, parse_hold_id, to_ms
from hub.model import Actor, Booking, Hold, Role, WaitlistEntry
from hub.policy import require_owner
from hub.ports import Notifier, SeatView, ViewMissing, WaitlistStore
from hub.ports.runtime import PromotionBooker

__all__ = ["MAX_WAITLIST_QTY", "Offer", "Promoted", "WaitlistService", "check_qty"]

log = logging.getLogger(__name__)
MAX_WAITLIST_QTY = MAX_SEATS_PER_REQUEST


def check_qty(qty: int, max_held: int = MAX_WAITLIST_QTY,
              capacity: int | None = None) -> None:
    """Check a waitlist ``qty`` (seats): 1..:data:`MAX_WAITLIST_QTY`, at most ``max_held``
    (``MAX_HELD_SEATS_PER_USER``: an offer counts toward it) and at most ``capacity`` (the
    event's seats; None: not checked). Source: issue 10, "Seat hoarding and waitlist abuse".

    Raises: ValidationFailed (field ``qty``).
    """
    most = min(MAX_WAITLIST_QTY, max_held)
    if not 1 <= qty <= most:
        raise ValidationFailed(fields=[{"field": "qty", "message": f"must be 1..{most}"}])
    if capacity is not None and qty > capacity:
        raise ValidationFailed(fields=[{"field": "qty", "message":
                                        f"more than the event's {capacity} seats"}])


@dataclass(frozen=True, slots=True)
class Offer:
    """The ``waitlist.offered`` push: seats held for ``entry_id``'s user."""

    entry_id: int
    event_id: int
    hold: Hold


@dataclass(frozen=True, slots=True)
class Promoted:
    """The ``waitlist.promoted`` push (``auto_promote`` events): the booking made."""

    entry_id: int
    booking: Booking


@dataclass(frozen=True, slots=True)
class _Waiter:
    id: int
    role: Role


class WaitlistService:
    """Waitlist entries and promotions; :class:`hub.bookings.WaitlistHooks` for the booking
    service, which is built with it (joining and leaving go through
    :class:`hub.box_office.BoxOffice`, which also promotes). Pushes go through the
    :class:`Notifier` after the promotion's transaction commits."""

    def __init__(self, store: WaitlistStore, view: SeatView, notifier: Notifier,
                 max_held: int = 10) -> None:
        """``max_held``: ``MAX_HELD_SEATS_PER_USER``, the per-user, per-event held-seat cap
        that offers count toward."""
        self.store = store
        self.view = view
        self.notifier = notifier
        self.max_held = max_held

    async def enter(self, actor: Actor, event_id: int, qty: int,
                    now: datetime) -> WaitlistEntry:
        """Add a WAITING entry for ``qty`` seats (not yet promoted).

        Raises: ValidationFailed (qty), NotFound, EventInactive, AlreadyExists.
        """
        check_qty(qty, self.max_held)
        entry, _ = await self.store.join(event_id, actor.id, qty, now)
        return entry

    async def get(self, actor: Actor, entry_id: int) -> WaitlistEntry:
        """Raises: NotFound, Forbidden."""
        entry = await self.store.get(entry_id)
        require_owner(actor, entry.user_id)
        return entry

    async def mine(self, actor: Actor) -> list[WaitlistEntry]:
        """The actor's entries, newest first, with live positions."""
        return await self.store.for_user(actor.id)

    async def leave(self, actor: Actor, entry_id: int, now: datetime) -> tuple[int, list[int]]:
        """Leave the waitlist; an open offer's hold is released. Returns ``(event_id,
        seat_ids freed)``, for the caller to promote the next in line.

        Raises: NotFound, Forbidden.
        """
        entry = await self.get(actor, entry_id)
        _, hold_id, _ = await self.store.leave(entry.id, now)
        if hold_id is None:
            return entry.event_id, []
        event_id, token = parse_hold_id(hold_id)
        try:
            return event_id, await self.view.release(event_id, token, 0, to_ms(now))
        except NotFound:
            return event_id, []

    async def offer_ended(self, hold: Hold, booking_id: int | None, now: datetime) -> None:
        """An offer hold was confirmed (``booking_id``), expired, or released."""
        ended = await self.store.offer_ended(hold.entry_id, hold.hold_id, now,
                                             booking_id=booking_id)
        if ended is not None:
            entry, note = ended
            await self.notifier.notify(entry.user_id, "notification", note)

    async def promote(self, event_id: int, seat_ids: list[int], now: datetime,
                      book: PromotionBooker) -> None:
        """Offer free seats to waiting entries, oldest first, skipping those that do not fit
        (module docstring); ``auto_promote`` events ``book`` the offer at once.

        Runs under the event's promotion lock, so concurrent promotions on several processes
        offer each entry once; the Redis ``offer`` script hands out each seat once.
        """
        pushes: list[tuple[int, str, object]] = []
        try:
            async with self.store.promotion(event_id) as p:
                active, offer_seconds, auto_promote = await p.settings()
                waiting = await p.waiting()
                free = await self.view.free_count(event_id) if waiting and active else 0
                for row in waiting:
                    if free <= 0:
                        break
                    if row.qty > free:
                        continue  # does not fit: skipped, keeps its place (module docstring)
                    try:
                        hold = await self.view.offer(event_id, row.user_id,
                                                     secrets.token_urlsafe(12), to_ms(now),
                                                     ms(offer_seconds), row.qty, row.id,
                                                     self.max_held)
                    except (NotEnoughSeats, HoldLimit):
                        continue  # over the user's cap, or seats went meanwhile: skipped
                    except EventInactive:
                        break
                    free -= row.qty
                    if auto_promote:
                        try:
                            booking = await book(_Waiter(row.user_id, Role.USER),
                                                 hold.hold_id, now)
                        except (HoldExpired, SeatUnavailable) as err:
                            # The offer lapsed before its booking (a very short offer time
                            # on a slow pass): the entry keeps its place, the sweeper frees
                            # the seats and the next pass serves it again.
                            log.info("auto-promotion of entry %d not booked: %s", row.id,
                                     err.code)
                            continue
                        await p.accepted(row, booking.id, now)
                        await p.notify(row, "waitlist.promoted",
                                       {"entry_id": row.id, "event_id": event_id,
                                        "booking_id": booking.id, "seats": booking.seats}, now)
                        pushes.append((row.user_id, "waitlist.promoted",
                                       Promoted(row.id, booking)))
                    else:
                        await p.offered(row, hold.hold_id, hold.expires_at, now)
                        await p.notify(row, "waitlist.offered",
                                       {"entry_id": row.id, "event_id": event_id,
                                        "hold_id": hold.hold_id, "seats": hold.labels,
                                        "expires_at": hold.expires_at.isoformat()}, now)
                        pushes.append((row.user_id, "waitlist.offered",
                                       Offer(row.id, event_id, hold)))
                remaining = await p.count_waiting()
                await self.view.set_waiting(event_id, remaining, to_ms(now), ms(offer_seconds))
                notices = list(p.notices)
        except ViewMissing:
            return  # the view is being rebuilt; its builder promotes afterwards
        except NotFound:
            return  # the event was deleted meanwhile
        for user_id, kind, record in pushes:
            await self.notifier.notify(user_id, kind, record)
        for note in notices:
            await self.notifier.notify(note.user_id, "notification", note)
