"""Settling a confirm that outlived its grace, and telling a buyer what became of a hold
(DESIGN invariant 8: a confirm's outcome is settled within seconds, whatever dies).

A hub killed mid-confirm leaves its hold in the *confirming* state. The confirm transaction
gives up waiting for row locks after half the grace, so once the grace has passed PostgreSQL's
answer is final: the sweeper asks it (:meth:`BookingStore.settle_hold`, which also makes sure
that confirm can never commit later) and marks the seats sold, or frees them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from hub.errors import Forbidden, NotFound, Unavailable
from hub.holds import to_ms
from hub.model import Actor, Booking, Hold, HoldStatus
from hub.ports import BookingStore, Notifier, SeatView, SweptHold, WaitlistHooks

__all__ = ["HoldOutcome", "hold_status", "settle_confirming"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HoldOutcome:
    """How an ended hold ended: CONFIRMED (with its ``booking``), RELEASED or EXPIRED."""

    hold_id: str
    status: HoldStatus
    booking: Booking | None = None


async def hold_status(view: SeatView, bookings: BookingStore, user: Actor, event_id: int,
                      token: str) -> tuple[Hold | None, HoldOutcome | None]:
    """``(hold, None)`` while the hold lives (``hold.state`` "active" or "confirming"), else
    ``(None, outcome)``: "confirmed" with its booking (PostgreSQL says so, for as long as the
    booking exists), or "released" / "expired" within an hour of its end.

    Raises: NotFound (unknown, or ended over an hour ago), Forbidden (another user's).
    """
    hold_id = f"{event_id}.{token}"
    hold, ended = await view.lookup_hold(event_id, token)
    owner = hold.user_id if hold is not None else None
    outcome: HoldOutcome | None = None
    if hold is None:
        booking = await bookings.booking_for_hold(event_id, hold_id)
        if booking is not None:
            owner, outcome = booking.user_id, HoldOutcome(hold_id, HoldStatus.CONFIRMED, booking)
        elif ended is not None:
            owner, outcome = ended[0], HoldOutcome(hold_id, ended[1])
    if owner is None:
        raise NotFound("No such hold; it may have expired or been released.")
    if owner != user.id:
        raise Forbidden("That hold belongs to another user.")
    return hold, outcome


async def settle_confirming(view: SeatView, bookings: BookingStore, notifier: Notifier,
                            s: SweptHold, now: datetime,
                            waitlist: WaitlistHooks | None) -> tuple[list[int], Booking | None]:
    """Settle a hold whose confirm outlived its grace: sold if its booking committed, else
    ended for good. Returns ``(seats freed, the booking or None)``. A waitlist offer's entry
    is told either way. A PostgreSQL outage is logged and left for the next sweep (the view
    offers the hold again a second later)."""
    event_id, token = s.event_id, s.hold_id.partition(".")[2]
    hold = await view.get_hold(event_id, token)
    if hold is None or hold.state is not HoldStatus.CONFIRMING:
        return [], None  # another sweeper settled it, or its confirm just ended
    try:
        booking = await bookings.settle_hold(event_id, s.hold_id, hold.seat_ids, hold.fence)
    except Unavailable as exc:
        log.warning("could not settle hold %s yet: %s", s.hold_id, exc)
        return [], None
    if booking is not None:
        log.warning("settled hold %s as booking %d from PostgreSQL", s.hold_id, booking.id)
        await view.confirm_finish(event_id, token, booking.seat_ids, to_ms(now))
        await notifier.notify(s.user_id, "booking.confirmed", booking)
        if hold.entry_id and waitlist is not None:
            await waitlist.offer_ended(hold, booking.id, now)
        return [], booking
    log.warning("settled hold %s as not booked; its seats are free", s.hold_id)
    try:
        freed = await view.release(event_id, token, 0, to_ms(now), outcome=HoldStatus.EXPIRED)
    except NotFound:
        return [], None
    await notifier.notify(s.user_id, "hold.expired", replace(s, seat_ids=freed))
    if hold.entry_id and waitlist is not None:
        await waitlist.offer_ended(hold, None, now)
    return freed, None
