"""PostgreSQL side of :class:`hub.ports.Store`: events, seats, bookings, users.

ORM rows never leave this module; callers get ``hub.model`` dataclasses. Driver errors are
translated here, chained (STYLE.md §5): an ``IntegrityError`` on the active-seat index becomes
``SeatUnavailable``, a lost connection ``Unavailable``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import and_, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import (
    AlreadyExists,
    EventInactive,
    HoldExpired,
    NotFound,
    SeatUnavailable,
    Unavailable,
)
from hub.model import (
    Booking,
    BookingStatus,
    Event,
    EventStatus,
    Notification,
    Role,
    Seat,
    User,
)
from hub.ports import ConfirmCommand, NewEvent, ViewSource
from storage.db import Database, unavailable_errors
from storage.models import (
    BookingRow,
    BookingSeatRow,
    EventRow,
    SeatRow,
    UserRow,
    WaitlistRow,
)
from storage.notifications import add_notification

__all__ = ["PgStore", "event_from_row", "user_from_row"]

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


def _lock_timeout(exc: DBAPIError) -> bool:
    """The statement gave up waiting for a row lock (``lock_not_available``)."""
    return getattr(exc.orig, "sqlstate", None) == "55P03"


def user_from_row(row: UserRow) -> User:
    return User(id=row.id, name=row.name, email=row.email, role=Role(row.role),
                created_at=row.created_at, banned=row.banned_at is not None)


def event_from_row(row: EventRow, capacity: int = 0, booked: int = 0,
                   waitlisted: int = 0) -> Event:
    return Event(
        id=row.id, name=row.name, venue=row.venue, start_time=row.start_time,
        end_time=row.end_time, status=EventStatus(row.status), capacity=capacity,
        hold_ttl_seconds=row.hold_ttl_seconds, waitlist_offer_seconds=row.waitlist_offer_seconds,
        auto_promote=row.auto_promote, organizer_id=row.organizer_id, created_at=row.created_at,
        booked_count=booked, available_count=max(capacity - booked, 0),
        waitlisted_count=waitlisted,
    )


def capacity_q() -> Any:
    return (select(func.count()).where(SeatRow.event_id == EventRow.id)
            .correlate(EventRow).scalar_subquery())


def booked_q() -> Any:
    return (select(func.count()).where(BookingSeatRow.event_id == EventRow.id,
                                       BookingSeatRow.active)
            .correlate(EventRow).scalar_subquery())


def waitlisted_q() -> Any:
    return (select(func.coalesce(func.sum(WaitlistRow.qty), 0))
            .where(WaitlistRow.event_id == EventRow.id,
                   WaitlistRow.status.in_(("WAITING", "OFFERED")))
            .correlate(EventRow).scalar_subquery())


class PgStore:
    """:class:`hub.ports.Store` on a real PostgreSQL."""

    def __init__(self, db: Database, email: bool = False) -> None:
        self.db = db
        self.email = email  # write an e-mail outbox row with each notification

    # -- users ---------------------------------------------------------------------------

    async def add_user(self, name: str, email: str, password_hash: str, role: str,
                       now: datetime) -> User:
        """Raises: AlreadyExists (the email, case-insensitive, is taken)."""
        try:
            async with self.db.transaction() as s:
                row = UserRow(name=name, email=email, password_hash=password_hash, role=role,
                              created_at=now)
                s.add(row)
                await s.flush()
                return user_from_row(row)
        except IntegrityError as exc:
            raise AlreadyExists("An account with this email exists.") from exc

    async def upsert_user(self, name: str, email: str, password_hash: str, role: str,
                          now: datetime) -> User:
        """Create the account, or update password, role and name of the existing one."""
        async with self.db.transaction() as s:
            row = await s.scalar(select(UserRow).where(func.lower(UserRow.email) ==
                                                       email.lower()).with_for_update())
            if row is None:
                row = UserRow(name=name, email=email, password_hash=password_hash, role=role,
                              created_at=now)
                s.add(row)
            else:
                row.password_hash, row.role, row.banned_at = password_hash, role, None
                if name:
                    row.name = name
            await s.flush()
            return user_from_row(row)

    async def user_by_email(self, email: str) -> tuple[User, str] | None:
        async with self.db.transaction() as s:
            row = await s.scalar(select(UserRow).where(func.lower(UserRow.email) ==
                                                       email.lower()))
            return None if row is None else (user_from_row(row), row.password_hash)

    async def get_user(self, user_id: int) -> User:
        """Raises: NotFound."""
        async with self.db.transaction() as s:
            row = await s.get(UserRow, user_id)
            if row is None:
                raise NotFound("No such user.")
            return user_from_row(row)

    # -- events and seats ----------------------------------------------------------------

    async def create_event(self, new: NewEvent) -> Event:
        async with self.db.transaction() as s:
            row = EventRow(name=new.name, venue=new.venue, start_time=new.start_time,
                           end_time=new.end_time, status="active",
                           hold_ttl_seconds=new.hold_ttl_seconds,
                           waitlist_offer_seconds=new.waitlist_offer_seconds,
                           auto_promote=new.auto_promote, organizer_id=new.organizer_id,
                           created_at=new.now, updated_at=new.now)
            s.add(row)
            await s.flush()
            await self._insert_seats(s, row.id, new.seats)
            return event_from_row(row, capacity=len(new.seats))

    @staticmethod
    async def _insert_seats(s: AsyncSession, event_id: int, specs: Sequence[Any]) -> None:
        rows = [{"event_id": event_id, "section": p.section, "row": p.row, "number": p.number,
                 "label": p.label, "rank": p.rank, "fence": 0} for p in specs]
        for i in range(0, len(rows), 5000):
            await s.execute(insert(SeatRow), rows[i:i + 5000])

    async def get_event(self, event_id: int) -> Event:
        """The event with exact ``capacity``, ``booked_count`` and ``waitlisted_count``.

        Raises: NotFound.
        """
        async with self.db.transaction() as s:
            res = (await s.execute(
                select(EventRow, capacity_q(), booked_q(), waitlisted_q())
                .where(EventRow.id == event_id))).first()
            if res is None:
                raise NotFound("No such event.")
            return event_from_row(res[0], int(res[1]), int(res[2]), int(res[3]))

    async def list_seats(self, event_id: int) -> list[Seat]:
        async with self.db.transaction() as s:
            rows = (await s.execute(
                select(SeatRow.id, SeatRow.label, SeatRow.section, SeatRow.row, SeatRow.number,
                       SeatRow.rank).where(SeatRow.event_id == event_id)
                .order_by(SeatRow.rank))).all()
            return [Seat(r.id, r.label, r.section, r.row, r.number, r.rank) for r in rows]

    async def view_source(self, event_id: int) -> ViewSource:
        """Seats, sold seats and a fresh epoch (``events.view_epoch`` + 1) to build a view.

        Raises: NotFound.
        """
        async with self.db.transaction() as s:
            ev = (await s.execute(
                update(EventRow).where(EventRow.id == event_id)
                .values(view_epoch=EventRow.view_epoch + 1)
                .returning(EventRow.view_epoch, EventRow.status,
                           EventRow.hold_ttl_seconds))).first()
            if ev is None:
                raise NotFound("No such event.")
            seats = (await s.execute(
                select(SeatRow.id, SeatRow.label, SeatRow.section, SeatRow.row, SeatRow.number,
                       SeatRow.rank).where(SeatRow.event_id == event_id))).all()
            sold = await self._sold(s, event_id)
        return ViewSource(
            event_id=event_id, epoch=int(ev.view_epoch), active=ev.status == "active",
            hold_ttl_ms=int(ev.hold_ttl_seconds) * 1000,
            seats=[Seat(r.id, r.label, r.section, r.row, r.number, r.rank) for r in seats],
            sold_ids=sold,
        )

    @staticmethod
    async def _sold(s: AsyncSession, event_id: int) -> list[int]:
        return list((await s.scalars(
            select(BookingSeatRow.seat_id).where(BookingSeatRow.event_id == event_id,
                                                 BookingSeatRow.active))).all())

    async def sold_seat_ids(self, event_id: int) -> list[int]:
        async with self.db.transaction() as s:
            return await self._sold(s, event_id)

    # -- bookings ------------------------------------------------------------------------

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
        """
        ids = sorted(cmd.seat_ids)
        guest = cmd.guest or {}
        try:
            async with self.db.engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                out = (await conn.execute(CONFIRM_SQL, {
                    "event": cmd.event_id, "user": cmd.user_id, "seats": ids,
                    "fence": cmd.fence, "hold": cmd.hold_id,
                    "guest_name": guest.get("name"), "guest_email": guest.get("email"),
                    "now": cmd.now, "email": self.email,
                    "lock_timeout": str(cmd.lock_timeout_ms)})).scalar_one()
        except IntegrityError as exc:
            raise SeatUnavailable(ids) from exc
        except DBAPIError as exc:
            if not _lock_timeout(exc):
                raise
            raise Unavailable("The seats are busy; nothing was changed, try again.") from exc
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
            booking = (await self._bookings(s, [row]))[0]
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
            return (await self._bookings(s, [row]))[0]

    async def booking_for_hold(self, event_id: int, hold_id: str) -> Booking | None:
        """The booking a hold was confirmed into (any status), or None."""
        async with self.db.transaction() as s:
            row = await s.scalar(select(BookingRow).where(
                BookingRow.event_id == event_id, BookingRow.hold_id == hold_id).limit(1))
            return None if row is None else (await self._bookings(s, [row]))[0]

    async def settle_hold(self, event_id: int, hold_id: str, seat_ids: list[int],
                          fence: int) -> Booking | None:
        """Decide a confirm that outlived its grace, for good (DESIGN invariant 8): the booking
        it committed, or None after making sure it never can (the seats' fences pass the
        hold's). Safe to run concurrently and repeatedly. Raises: Unavailable."""
        ids = sorted(seat_ids)
        args = {"event": event_id, "seats": ids, "fence": fence}
        try:
            return await self._settle(args, event_id, hold_id)
        except DBAPIError as exc:
            if not _lock_timeout(exc):
                raise
            raise Unavailable("The seats are busy; settle again later.") from exc

    async def _settle(self, args: dict[str, Any], event_id: int,
                      hold_id: str) -> Booking | None:
        async with self.db.transaction() as s:
            await s.execute(text("SELECT set_config('lock_timeout', '2000', true)"))
            await s.execute(SETTLE_LOCK_SQL, args)
            row = await s.scalar(select(BookingRow).where(
                BookingRow.event_id == event_id, BookingRow.hold_id == hold_id).limit(1))
            if row is not None:
                return (await self._bookings(s, [row]))[0]
            await s.execute(SETTLE_FENCE_SQL, args)
            return None

    async def user_bookings(self, user_id: int) -> list[Booking]:
        """The user's bookings, newest first."""
        async with self.db.transaction() as s:
            rows = list((await s.scalars(
                select(BookingRow).where(BookingRow.user_id == user_id)
                .order_by(BookingRow.created_at.desc(), BookingRow.id.desc()))).all())
            return await self._bookings(s, rows)

    @staticmethod
    async def _bookings(s: AsyncSession, rows: list[BookingRow]) -> list[Booking]:
        if not rows:
            return []
        seats = (await s.execute(
            select(BookingSeatRow.booking_id, SeatRow.id, SeatRow.label)
            .join(SeatRow, and_(SeatRow.id == BookingSeatRow.seat_id))
            .where(BookingSeatRow.booking_id.in_([r.id for r in rows]))
            .order_by(SeatRow.id))).all()
        by: dict[int, list[tuple[int, str]]] = {}
        for b, sid, label in seats:
            by.setdefault(b, []).append((sid, label))
        out = []
        for r in rows:
            pairs = by.get(r.id, [])
            guest = ({"name": r.guest_name or "", "email": r.guest_email or ""}
                     if (r.guest_name or r.guest_email) else None)
            out.append(Booking(id=r.id, event_id=r.event_id, user_id=r.user_id,
                               seat_ids=[p[0] for p in pairs], seats=[p[1] for p in pairs],
                               status=BookingStatus(r.status), created_at=r.created_at,
                               cancelled_at=r.cancelled_at, guest=guest))
        return out
