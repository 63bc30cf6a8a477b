"""Bookings in PostgreSQL: :class:`hub.ports.BookingStore`.

Driver errors are translated here, chained (STYLE.md §5): an ``IntegrityError`` on the
active-seat index becomes ``SeatUnavailable``, a lost connection or a lock timeout
``Unavailable``.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from hub.errors import (
    EventInactive,
    HoldExpired,
    NotFound,
    SeatUnavailable,
    Unavailable,
    ValidationFailed,
)
from hub.model import Attendee, Booking, BookingStatus, Notification
from hub.ports import BookingChange, ChangedBooking, ConfirmCommand
from storage.db import Database, unavailable_errors
from storage.models import BookingRow, BookingSeatRow, UserRow
from storage.notifications import add_notification
from storage.rows import bookings_from_rows, user_from_row

__all__ = ["PgBookings"]

# The lock timeout is set for this statement only (is_local: the statement is its own
# transaction) before the function runs, so a confirm blocked on a seat row gives up well inside
# the hold's confirm grace (DESIGN invariant 8). '0' means no limit.
CONFIRM_SQL = text(
    "SELECT evently_confirm(:event, :user, CAST(:seats AS bigint[]), :fence, :hold, "
    ":guest_name, :guest_email, :now, :email) "
    "FROM (SELECT set_config('lock_timeout', :lock_timeout, true)) AS timeout")
# After a confirm outlived its grace: lock the hold's seats (waiting out a confirm still
# running), then either its booking exists or the seats' fences move past the hold's so that
# confirm can never commit later (evently_confirm refuses a fence below a seat's).
SETTLE_LOCK_SQL = text(
    "SELECT id FROM seats WHERE event_id = :event AND id = ANY(CAST(:seats AS bigint[])) "
    "ORDER BY id FOR UPDATE")
SETTLE_FENCE_SQL = text(
    "UPDATE seats SET fence = GREATEST(fence, CAST(:fence AS bigint) + 1) "
    "WHERE event_id = :event AND id = ANY(CAST(:seats AS bigint[]))")
SETTLE_LOCK_TIMEOUT_SQL = text("SELECT set_config('lock_timeout', '2000', true)")


def _lock_timeout(exc: DBAPIError) -> bool:
    """The statement gave up waiting for a row lock (``lock_not_available``)."""
    return getattr(exc.orig, "sqlstate", None) == "55P03"


class PgBookings:
    """:class:`hub.ports.BookingStore` on a real PostgreSQL.

    Args:
        db: the process's database.
        email: write an e-mail outbox row with each booking notification.
    """

    def __init__(self, db: Database, email: bool = False) -> None:
        self.db = db
        self.email = email

    async def confirm(self, cmd: ConfirmCommand) -> Booking:
        """Write a CONFIRMED booking for the held seats, in one transaction (invariant 3).

        One call of the ``evently_confirm`` function (migration 0002), one round trip: it
        locks the seat rows in id order (``SELECT … FOR UPDATE``), rejects a stale lease (a
        seat's stored fence above the hold's), re-checks the seats are unsold, inserts the
        booking with its seats and notification, and advances each seat's fence. The partial
        unique index on active booking seats backs the check.

        Raises:
            NotFound: no such event. EventInactive: deactivated.
            SeatUnavailable: a seat is sold (or is not a seat of the event).
            HoldExpired: a newer lease than this hold's has been confirmed on a seat.
            Unavailable: PostgreSQL is down, or the seat rows stayed locked past
                ``cmd.lock_timeout_ms`` (nothing was changed).
        """
        ids = sorted(cmd.seat_ids)
        guest = cmd.guest or {}
        try:
            async with self.db.statement() as conn:
                out = (await conn.execute(CONFIRM_SQL, {
                    "event": cmd.event_id, "user": cmd.user_id, "seats": ids,
                    "fence": cmd.fence, "hold": cmd.hold_id,
                    "guest_name": guest.get("name"), "guest_email": guest.get("email"),
                    "now": cmd.now, "email": self.email,
                    "lock_timeout": str(cmd.lock_timeout_ms)})).scalar_one()
        except IntegrityError as exc:
            raise SeatUnavailable(ids) from exc
        except DBAPIError as exc:
            if _lock_timeout(exc):
                raise Unavailable("The seats are busy; nothing was changed, try again.") from exc
            if isinstance(exc, unavailable_errors) or exc.connection_invalidated:
                raise Unavailable("PostgreSQL is unavailable; nothing was changed.") from exc
            raise
        except unavailable_errors as exc:
            raise Unavailable("PostgreSQL is unavailable; nothing was changed.") from exc
        if isinstance(out, str):
            out = orjson.loads(out)
        if "error" in out:
            code = out["error"]
            if code == "SEAT_UNAVAILABLE":
                raise SeatUnavailable(list(out.get("seat_ids", ids)))
            if code == "HOLD_EXPIRED":
                raise HoldExpired("A newer hold on these seats has been confirmed.")
            if code == "EVENT_INACTIVE":
                raise EventInactive()
            raise NotFound("No such event.")
        created = datetime.fromisoformat(out["created_at"])
        labels = list(out["labels"])
        notice = Notification(
            id=int(out["notice_id"]), user_id=cmd.user_id, kind="booking.confirmed",
            payload={"booking_id": int(out["booking_id"]), "event_id": cmd.event_id,
                     "seat_ids": ids, "seats": labels},
            created_at=datetime.fromisoformat(out["notice_created_at"]))
        return Booking(id=int(out["booking_id"]), event_id=cmd.event_id, user_id=cmd.user_id,
                       seat_ids=ids, seats=labels, status=BookingStatus.CONFIRMED,
                       created_at=created, guest=cmd.guest, notice=notice)

    async def cancel(self, booking_id: int, now: datetime) -> Booking:
        """CONFIRMED → CANCELLED under a row lock; the seats leave the active index.

        Raises: NotFound.
        """
        async with self.db.transaction() as s:
            row = await s.get(BookingRow, booking_id, with_for_update=True)
            if row is None:
                raise NotFound("No such booking.")
            cancelled_now = row.status == BookingStatus.CONFIRMED
            if cancelled_now:
                row.status = BookingStatus(row.status).to(BookingStatus.CANCELLED).value
                row.cancelled_at = now
                await s.execute(update(BookingSeatRow)
                                .where(BookingSeatRow.booking_id == booking_id)
                                .values(active=False))
            await s.flush()
            booking = (await bookings_from_rows(s, [row]))[0]
            if not cancelled_now:
                return booking
            notice = await add_notification(
                s, row.user_id, "booking.cancelled",
                {"booking_id": booking.id, "event_id": booking.event_id,
                 "seat_ids": booking.seat_ids, "seats": booking.seats}, now, email=self.email)
            return dataclasses.replace(booking, notice=notice)

    async def get_booking(self, booking_id: int) -> Booking:
        """Raises: NotFound."""
        async with self.db.transaction() as s:
            row = await s.get(BookingRow, booking_id)
            if row is None:
                raise NotFound("No such booking.")
            return (await bookings_from_rows(s, [row]))[0]

    async def booking_for_hold(self, event_id: int, hold_id: str) -> Booking | None:
        """The booking a hold was confirmed into (any status), or None."""
        async with self.db.transaction() as s:
            row = await s.scalar(select(BookingRow).where(
                BookingRow.event_id == event_id, BookingRow.hold_id == hold_id).limit(1))
            return None if row is None else (await bookings_from_rows(s, [row]))[0]

    async def settle_hold(self, event_id: int, hold_id: str, seat_ids: list[int],
                          fence: int) -> Booking | None:
        """Decide a confirm that outlived its grace, for good (DESIGN invariant 8): the booking
        it committed, or None after making sure it never can (the seats' fences pass the
        hold's). Safe to run concurrently and repeatedly. Raises: Unavailable."""
        args = {"event": event_id, "seats": sorted(seat_ids), "fence": fence}
        try:
            async with self.db.transaction() as s:
                await s.execute(SETTLE_LOCK_TIMEOUT_SQL)
                await s.execute(SETTLE_LOCK_SQL, args)
                row = await s.scalar(select(BookingRow).where(
                    BookingRow.event_id == event_id, BookingRow.hold_id == hold_id).limit(1))
                if row is not None:
                    return (await bookings_from_rows(s, [row]))[0]
                await s.execute(SETTLE_FENCE_SQL, args)
                return None
        except DBAPIError as exc:
            if not _lock_timeout(exc):
                raise
            raise Unavailable("The seats are busy; settle again later.") from exc

    async def change(self, cmd: BookingChange) -> ChangedBooking:
        """Change guest details and/or give seats back, in one transaction under the
        booking's row lock. A given-back seat leaves the booking (its ``booking_seats`` row
        is deleted, so the seat is free for the unique active-seat index at commit); giving
        back every seat cancels the booking instead, keeping its seats as a record.

        Raises: NotFound; ValidationFailed (a cancelled booking, or a seat not in it:
        ``details.fields`` names ``release_seat_ids``).
        """
        async with self.db.transaction() as s:
            row = await s.get(BookingRow, cmd.booking_id, with_for_update=True)
            if row is None:
                raise NotFound("No such booking.")
            if row.status != BookingStatus.CONFIRMED:
                raise ValidationFailed("A cancelled booking cannot be changed.", fields=[
                    {"field": "booking_id", "message": "the booking is cancelled"}])
            before = (await bookings_from_rows(s, [row]))[0]
            wanted = set(cmd.release_seat_ids)
            strangers = sorted(wanted - set(before.seat_ids))
            if strangers:
                raise ValidationFailed("Some seats are not in this booking.", fields=[
                    {"field": "release_seat_ids",
                     "message": f"not seats of this booking: {strangers}"}])
            cancelled = bool(wanted) and wanted == set(before.seat_ids)
            if cmd.guest is not None:
                row.guest_name, row.guest_email = cmd.guest["name"], cmd.guest["email"]
            if cancelled:
                row.status = BookingStatus(row.status).to(BookingStatus.CANCELLED).value
                row.cancelled_at = cmd.now
                await s.execute(update(BookingSeatRow)
                                .where(BookingSeatRow.booking_id == row.id).values(active=False))
            elif wanted:
                await s.execute(delete(BookingSeatRow).where(
                    BookingSeatRow.booking_id == row.id,
                    BookingSeatRow.seat_id.in_(sorted(wanted))))
            await s.flush()
            booking = (await bookings_from_rows(s, [row]))[0]
            released = sorted(wanted)
            labels = {i: label for i, label in zip(before.seat_ids, before.seats, strict=True)}
            payload: dict[str, Any] = {
                "booking_id": row.id, "event_id": row.event_id, "seat_ids": booking.seat_ids,
                "seats": booking.seats, "released_seat_ids": released,
                "released_seats": [labels[i] for i in released],
                "guest_changed": cmd.guest is not None, "guest": booking.guest}
            kind = "booking.cancelled" if cancelled else "booking.changed"
            notice = await add_notification(s, row.user_id, kind, payload, cmd.now,
                                            email=self.email)
            return ChangedBooking(dataclasses.replace(booking, notice=notice), released,
                                  cancelled)

    async def user_bookings(self, user_id: int, status: str | None = None, offset: int = 0,
                            limit: int | None = None) -> list[Booking]:
        """The user's bookings, newest first, optionally of one status."""
        conds: list[Any] = [BookingRow.user_id == user_id]
        if status is not None:
            conds.append(BookingRow.status == status)
        async with self.db.transaction() as s:
            rows = list((await s.scalars(
                select(BookingRow).where(*conds)
                .order_by(BookingRow.created_at.desc(), BookingRow.id.desc())
                .offset(offset).limit(limit))).all())
            return await bookings_from_rows(s, rows)

    async def attendees(self, event_id: int, offset: int,
                        limit: int) -> tuple[list[Attendee], int]:
        """CONFIRMED bookings of the event, oldest first, with their accounts."""
        conds = (BookingRow.event_id == event_id, BookingRow.status == "CONFIRMED")
        async with self.db.transaction() as s:
            total = await s.scalar(select(func.count()).select_from(BookingRow).where(*conds))
            pairs = (await s.execute(
                select(BookingRow, UserRow).join(UserRow, UserRow.id == BookingRow.user_id)
                .where(*conds).order_by(BookingRow.created_at, BookingRow.id)
                .offset(offset).limit(limit))).all()
            bookings = await bookings_from_rows(s, [p[0] for p in pairs])
        return ([Attendee(b, user_from_row(p[1])) for b, p in zip(bookings, pairs, strict=True)],
                int(total or 0))

    async def list_bookings(self, event_id: int | None, status: str | None, offset: int,
                            limit: int) -> tuple[list[Booking], int]:
        """Bookings newest first, optionally of one event and/or status, and the total."""
        conds: list[Any] = []
        if event_id is not None:
            conds.append(BookingRow.event_id == event_id)
        if status is not None:
            conds.append(BookingRow.status == status)
        async with self.db.transaction() as s:
            total = await s.scalar(select(func.count()).select_from(BookingRow).where(*conds))
            rows = list((await s.scalars(
                select(BookingRow).where(*conds)
                .order_by(BookingRow.created_at.desc(), BookingRow.id.desc())
                .offset(offset).limit(limit))).all())
            return await bookings_from_rows(s, rows), int(total or 0)
