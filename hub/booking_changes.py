"""Changing a booking (CONTRACT §2 ``PATCH /bookings/{id}``, WebSocket ``booking.update``):
new guest details and/or some seats given back — a partial cancel.

The change is one PostgreSQL transaction (``BookingStore.change``); only after its commit do
the given-back seats turn ``available`` in the Redis view (a delta goes out, DESIGN invariant
4) and the waitlist is offered them, as for a cancel. Giving back every seat is a cancel.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hub.bookings import BookingService, to_ms
from hub.errors import ValidationFailed
from hub.holds import MAX_SEATS_PER_REQUEST
from hub.model import Actor, Booking
from hub.policy import require_booking_canceller
from hub.ports import BookingChange, ViewMissing

__all__ = ["BookingChanges"]


class BookingChanges:
    """Carries out booking changes with the stores, view and notifier of ``bookings``."""

    def __init__(self, bookings: BookingService) -> None:
        self.bookings = bookings

    async def change(self, user: Actor, booking_id: int, now: datetime, *,
                     guest: dict[str, str] | None = None,
                     release_seat_ids: Sequence[int] | None = None) -> Booking:
        """Change the guest and/or give seats back (owner or admin); the same booking id.

        Returns the booking after the change (``CANCELLED`` when every seat was given back).

        Raises:
            ValidationFailed: nothing to change, repeated seat ids, a seat not in the booking,
                or a cancelled booking.
            NotFound, Forbidden (not the owner or an admin).
        """
        release = list(release_seat_ids or [])
        if guest is None and not release:
            raise ValidationFailed("Give guest and/or release_seat_ids.", fields=[
                {"field": "body", "message": "give guest and/or release_seat_ids"}])
        if len(set(release)) != len(release) or len(release) > MAX_SEATS_PER_REQUEST:
            raise ValidationFailed(fields=[{"field": "release_seat_ids",
                                            "message": "distinct seat ids, at most "
                                                       f"{MAX_SEATS_PER_REQUEST}"}])
        svc = self.bookings
        current = await svc.bookings.get_booking(booking_id)
        require_booking_canceller(user, current)
        done = await svc.bookings.change(BookingChange(booking_id, now, guest, tuple(release)))
        booking = done.booking
        freed: list[int] = []
        if done.released:
            try:
                freed = await svc.view.free(booking.event_id, done.released, to_ms(now))
            except ViewMissing:
                await svc.ensure_view(booking.event_id, now)
                freed = list(done.released)
        await svc.drop_reports()
        if done.cancelled:
            await svc.notifier.notify(booking.user_id, "booking.cancelled", booking)
        if booking.notice is not None:
            await svc.notifier.notify(booking.user_id, "notification", booking.notice)
        if freed:
            await svc.seats_freed(booking.event_id, freed, now)
        return booking
