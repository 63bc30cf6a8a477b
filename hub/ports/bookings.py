"""The booking store port: bookings in PostgreSQL (``storage.bookings``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hub.model import Attendee, Booking

__all__ = ["BookingChange", "BookingStore", "ChangedBooking", "ConfirmCommand"]


@dataclass(frozen=True, slots=True)
class ConfirmCommand:
    """Turn a hold into a booking: one PostgreSQL transaction (DESIGN invariant 3).

    ``seat_ids`` are the hold's seats; ``fence`` its fencing number (invariant 2); ``guest``
    ``{"name", "email"}`` for a booking made for someone else, else None;
    ``lock_timeout_ms`` how long the transaction waits for seat row locks before it gives up
    with ``Unavailable`` (0: no limit; half the confirm grace, DESIGN invariant 8).
    """

    event_id: int
    user_id: int
    hold_id: str
    seat_ids: list[int]
    fence: int
    now: datetime
    guest: dict[str, str] | None = None
    lock_timeout_ms: int = 0


@dataclass(frozen=True, slots=True)
class BookingChange:
    """``PATCH /bookings/{id}``: new guest details and/or seats given back (seat ids).

    ``guest`` None keeps the guest; ``release_seat_ids`` empty gives back nothing. Giving back
    every seat cancels the booking.
    """

    booking_id: int
    now: datetime
    guest: dict[str, str] | None = None
    release_seat_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ChangedBooking:
    """What a :class:`BookingChange` did: the booking after it (its ``notice`` set), the seat
    ids given back (now free), and whether that cancelled it."""

    booking: Booking
    released: list[int]
    cancelled: bool


class BookingStore(Protocol):
    """Bookings (PostgreSQL, the source of truth). Booked seats are listed by seat id, with
    their labels in the same order."""

    async def confirm(self, cmd: ConfirmCommand) -> Booking:
        """Write a CONFIRMED booking for the held seats in one transaction that locks the seat
        rows in id order and checks the fence; the booking carries its ``notice``.

        Raises: NotFound (event), EventInactive, SeatUnavailable (a seat is sold),
        HoldExpired (a newer lease was confirmed: stale fence), Unavailable (PostgreSQL down,
        or the seat rows stayed locked past ``cmd.lock_timeout_ms``)."""
        ...

    async def booking_for_hold(self, event_id: int, hold_id: str) -> Booking | None:
        """The booking a hold was confirmed into (any status), or None."""
        ...

    async def settle_hold(self, event_id: int, hold_id: str, seat_ids: list[int],
                          fence: int) -> Booking | None:
        """Decide, for good, a confirm that outlived its grace (DESIGN invariant 8): lock the
        hold's seat rows (waiting out a confirm still running), then return the booking it
        committed, or None after moving the seats' fences past ``fence`` so that confirm can
        never commit later. Safe to run concurrently and repeatedly.
        Raises: Unavailable (PostgreSQL down, or the rows stayed locked)."""
        ...

    async def cancel(self, booking_id: int, now: datetime) -> Booking:
        """CONFIRMED → CANCELLED (its seats leave the active index), with ``notice`` set when
        it changed now; an already cancelled booking is returned as it is. Raises: NotFound."""
        ...

    async def get_booking(self, booking_id: int) -> Booking:
        """Raises: NotFound."""
        ...

    async def change(self, cmd: BookingChange) -> ChangedBooking:
        """Apply ``cmd`` in one transaction under the booking's row lock; writes a
        ``booking.changed`` notification (``booking.cancelled`` when every seat is given back).

        Raises: NotFound, ValidationFailed (a seat not in the booking, or a cancelled
        booking)."""
        ...

    async def user_bookings(self, user_id: int, status: str | None = None, offset: int = 0,
                            limit: int | None = None) -> list[Booking]:
        """The user's bookings, newest first, optionally only ``CONFIRMED`` / ``CANCELLED``."""
        ...

    async def attendees(self, event_id: int, offset: int,
                        limit: int) -> tuple[list[Attendee], int]:
        """A page of the event's CONFIRMED bookings, oldest first, with their accounts, and
        the total."""
        ...

    async def list_bookings(self, event_id: int | None, status: str | None, offset: int,
                            limit: int) -> tuple[list[Booking], int]:
        """A page of bookings, newest first, optionally of one event and/or status
        (``CONFIRMED`` / ``CANCELLED``), and the total."""
        ...
