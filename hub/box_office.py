"""The commands that span bookings and the waitlist (CONTRACT §2 ``POST /events/{id}/book``
with ``waitlist: true``, ``/events/{id}/waitlist``, ``/waitlists/*``; the ``waitlist.*`` ops).

People join a waitlist only when what they ask for cannot be held now (DESIGN "Waitlist";
issue 10: fewer public seats than ``qty`` are available, else 409 ``SEATS_AVAILABLE``), one
open entry per user and event (409 ``ALREADY_EXISTS``), and every change of the queue promotes
it at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hub.bookings import BookingService
from hub.errors import NotEnoughSeats, SeatsAvailable, SeatUnavailable, SoldOut
from hub.model import Actor, Booking, WaitlistEntry
from hub.waitlist import WaitlistService, check_qty

__all__ = ["BoxOffice"]


class BoxOffice:
    """Book, or wait; join and leave waitlists."""

    def __init__(self, bookings: BookingService, waitlist: WaitlistService) -> None:
        self.bookings = bookings
        self.waitlist = waitlist

    async def book_or_wait(self, user: Actor, event_id: int, now: datetime, *,
                           seat_ids: Sequence[int] | None = None, qty: int | None = None,
                           guest: dict[str, str] | None = None,
                           wait: bool = False) -> Booking | WaitlistEntry:
        """Hold and confirm in one step; when the seats cannot be had (sold out, not enough,
        taken) and ``wait`` is set, join the waitlist for as many seats instead.

        Returns the :class:`Booking`, or the :class:`WaitlistEntry` (the REST answer is 202).
        Raises what :meth:`BookingService.book` and :meth:`join` raise.
        """
        try:
            return await self.bookings.book(user, event_id, now, seat_ids=seat_ids, qty=qty,
                                            guest=guest)
        except (SoldOut, NotEnoughSeats, SeatUnavailable):
            if not wait:
                raise
        return await self.join(user, event_id, qty or len(seat_ids or ()), now)

    async def join(self, user: Actor, event_id: int, qty: int, now: datetime) -> WaitlistEntry:
        """Join the event's waitlist for ``qty`` seats. Only when ``qty`` seats cannot be held
        now: with at least ``qty`` seats on public sale the answer is SeatsAvailable. Seats
        kept for the waitlist are offered to the entry at once if it fits.

        Raises: ValidationFailed (qty: over ``MAX_HELD_SEATS_PER_USER`` or the event's
        capacity), SeatsAvailable, NotFound, EventInactive, AlreadyExists (one open entry per
        user and event).
        """
        check_qty(qty, self.waitlist.max_held)
        snap = await self.bookings.snapshot(event_id, now)  # the view exists (and the event)
        check_qty(qty, self.waitlist.max_held,
                  capacity=len(snap.available) + len(snap.held) + len(snap.sold))
        if len(snap.available) >= qty:
            raise SeatsAvailable(f"{len(snap.available)} seats are on sale now; hold them.")
        entry = await self.waitlist.enter(user, event_id, qty, now)
        await self.bookings.seats_freed(event_id, [], now)
        return await self.waitlist.get(user, entry.id)

    async def leave(self, user: Actor, entry_id: int, now: datetime) -> None:
        """Leave a waitlist; an open offer goes to the next in line. Raises: NotFound,
        Forbidden."""
        event_id, freed = await self.waitlist.leave(user, entry_id, now)
        await self.bookings.seats_freed(event_id, freed, now)

    async def mine(self, user: Actor) -> list[WaitlistEntry]:
        """The user's entries, newest first, with live positions."""
        return await self.waitlist.mine(user)
