"""Settling a confirm that outlived its grace, and telling a buyer what became of a hold
(DESIGN invariant 8: a confirm's outcome is settled within seconds, whatever dies).

A hub killed mid-confirm leaves its hold in the *confirming* state. The confirm transaction
gives up waiting for row locks after half the grace, so once the grace has passed PostgreSQL's
answer is final: the sweeper asks it (:meth:`Store.settle_hold`, which also makes sure that
confirm can never commit later) and marks the seats sold, or frees them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from hub.errors import Forbidden, NotFound, Unavailable
from hub.model import Actor, Booking, Hold, HoldStatus
from hub.ports import Notifier, SeatView, Store, SweptHold

__all__ = ["HoldOutcome", "hold_status", "settle_confirming"]

log = logging.getLogger(__name__)
OfferEnded = Callable[[Hold, "int | None", datetime], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class HoldOutcome:
    """How an ended hold ended: CONFIRMED (with its ``booking``), RELEASED or EXPIRED."""

    hold_id: str
    status: HoldStatus
    booking: Booking | None = None


async def hold_status(view: SeatView, store: Store, user: Actor, event_id: int,
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
        booking = await store.booking_for_hold(event_id, hold_id)
        if booking is not None:
            owner, outcome = booking.user_id, HoldOutcome(hold_id, HoldStatus.CONFIRMED, booking)
        elif ended is not None:
            owner, outcome = ended[0], HoldOutcome(hold_id, ended[1])
    if owner is None:
        raise NotFound("No such hold; it may have expired or been released.")
    if owner != user.id:
        raise Forbidden("That hold belongs to another user.")
    return hold, outcome


async def settle_confirming(view: SeatView, store: Store, notifier: Notifier, s: SweptHold,
                            now: datetime, on_offer_ended: OfferEnded | None) -> list[int]:
    """Settle a hold whose confirm outlived its grace: sold if its booking committed, else
    ended for good. Returns the seats freed. A PostgreSQL outage is logged and left for the
    next sweep (the view retries the hold a second later)."""
    event_id, token = s.event_id, s.hold_id.partition(".")[2]
    now_ms = int(now.timestamp() * 1000)
    hold = await view.get_hold(event_id, token)
    if hold is None or hold.state is not HoldStatus.CONFIRMING:
        return []  # another sweeper settled it, or its confirm just ended
    try:
        booking = await store.settle_hold(event_id, s.hold_id, hold.seat_ids, hold.fence)
    except Unavailable as exc:
        log.warning("could not settle hold %s yet: %s", s.hold_id, exc)
        return []
    if booking is not None:
        log.warning("settled hold %s as booking %d from PostgreSQL", s.hold_id, booking.id)
        await view.confirm_finish(event_id, token, booking.seat_ids, now_ms)
        await notifier.notify(s.user_id, "booking.confirmed", booking)
        return []
    log.warning("settled hold %s as not booked; its seats are free", s.hold_id)
    try:
        freed = await view.release(event_id, token, 0, now_ms, outcome=HoldStatus.EXPIRED)
    except NotFound:
        return []
    await notifier.notify(s.user_id, "hold.expired", replace(s, seat_ids=freed))
    if s.entry_id and on_offer_ended is not None:
        await on_offer_ended(hold, None, now)
    return freed
