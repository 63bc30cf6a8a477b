"""Event listing and administration in PostgreSQL (:class:`hub.events.EventCatalog`), and the
seat-view operations it needs beyond :class:`storage.seatview.RedisSeatView`
(:class:`hub.events.LiveSeats`).

Every statement that changes an event's seats runs in one transaction that first locks the
event row (``SELECT … FOR UPDATE``), so two capacity changes of one event never interleave.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import BigInteger, String, any_, delete, exists, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import CapacityBelowSold, EventHasBookings, NotFound, Unavailable
from hub.events import Attendee, EventQuery, SeatPlan
from hub.model import Booking, Event, Seat
from hub.ports import EventCounts, Snapshot
from hub.seatmap import SeatSpec
from storage.accounts import like_pattern
from storage.models import BookingRow, BookingSeatRow, EventRow, SeatRow, UserRow, WaitlistRow
from storage.seatview import RedisSeatView, meta_key
from storage.store import (
    PgStore,
    booked_q,
    capacity_q,
    event_from_row,
    user_from_row,
    waitlisted_q,
)

__all__ = ["EventSeats", "PgEventCatalog"]

_SEAT_COLUMNS = (SeatRow.id, SeatRow.label, SeatRow.section, SeatRow.row, SeatRow.number,
                 SeatRow.rank)


def _seat(r: Any) -> Seat:
    return Seat(r.id, r.label, r.section, r.row, r.number, r.rank)


class PgEventCatalog(PgStore):
    """:class:`hub.events.EventCatalog` on PostgreSQL (a :class:`PgStore` with more queries)."""

    async def list_events(self, query: EventQuery, now: datetime) -> tuple[list[Event], int]:
        """A page of events with exact capacity/booked/waitlisted counts, and the total."""
        conds: list[Any] = []
        if query.q:
            pattern = like_pattern(query.q)
            conds.append(or_(EventRow.name.ilike(pattern, escape="\\"),
                             EventRow.venue.ilike(pattern, escape="\\")))
        if query.upcoming_only:
            conds.append(EventRow.start_time >= now)
        if query.status is not None:
            conds.append(EventRow.status == query.status.value)
        sort: Any = {
            "start_time": EventRow.start_time,
            "name": func.lower(EventRow.name),
            "created_at": EventRow.created_at,
            "utilization": func.coalesce(booked_q() * 1.0 / func.nullif(capacity_q(), 0), 0),
        }[query.sort]
        keys = [sort.desc(), EventRow.id.desc()] if query.order == "desc" else [sort, EventRow.id]
        async with self.db.transaction() as s:
            total = await s.scalar(select(func.count()).select_from(EventRow).where(*conds))
            rows = (await s.execute(
                select(EventRow, capacity_q(), booked_q(), waitlisted_q()).where(*conds)
                .order_by(*keys).offset(query.offset).limit(query.limit))).all()
        return ([event_from_row(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows],
                int(total or 0))

    async def update_event(self, event_id: int, fields: dict[str, object]) -> None:
        """Write plain columns (enums by value). Raises: NotFound."""
        values = {k: getattr(v, "value", v) for k, v in fields.items()}
        async with self.db.transaction() as s:
            res = await s.execute(update(EventRow).where(EventRow.id == event_id)
                                  .values(**values, updated_at=func.now())
                                  .returning(EventRow.id))
            if res.first() is None:
                raise NotFound("No such event.")

    @staticmethod
    async def _lock(s: AsyncSession, event_id: int) -> EventRow:
        row = await s.get(EventRow, event_id, with_for_update=True)
        if row is None:
            raise NotFound("No such event.")
        return row

    async def add_seats(self, event_id: int, plan: SeatPlan) -> list[Seat]:
        """Insert the seats ``plan(existing seats)`` returns, under the event lock.

        Returns the new seats with their ids. Raises: NotFound.
        """
        async with self.db.transaction() as s:
            await self._lock(s, event_id)
            existing = [_seat(r) for r in (await s.execute(
                select(*_SEAT_COLUMNS).where(SeatRow.event_id == event_id)
                .order_by(SeatRow.rank))).all()]
            specs = plan(existing)
            if not specs:
                return []
            await self._insert_seats(s, event_id, specs)
            labels = [p.label for p in specs]
            rows = (await s.execute(select(*_SEAT_COLUMNS).where(
                SeatRow.event_id == event_id,
                # one array parameter: IN (…) binds one per label, over 32,767 at 50,000 seats
                SeatRow.label == any_(literal(labels, ARRAY(String))))
                .order_by(SeatRow.rank))).all()
            return [_seat(r) for r in rows]

    async def remove_seats(self, event_id: int, capacity: int) -> list[int]:
        """Delete the worst seats that were never booked until ``capacity`` remain.

        Returns the deleted seat ids.

        Raises:
            NotFound.
            CapacityBelowSold: ``capacity`` is below the seats sold, or too few seats were
                never booked (a cancelled booking keeps naming its seats).
        """
        try:
            async with self.db.transaction() as s:
                await self._lock(s, event_id)
                count = int(await s.scalar(select(func.count()).where(
                    SeatRow.event_id == event_id)) or 0)
                if capacity >= count:
                    return []
                sold = int(await s.scalar(select(func.count()).where(
                    BookingSeatRow.event_id == event_id, BookingSeatRow.active)) or 0)
                if capacity < sold:
                    raise CapacityBelowSold(sold=sold, capacity=capacity)
                need = count - capacity
                ever_booked = exists().where(BookingSeatRow.seat_id == SeatRow.id)
                ids = list((await s.scalars(
                    select(SeatRow.id).where(SeatRow.event_id == event_id, ~ever_booked)
                    .order_by(SeatRow.rank.desc()).limit(need))).all())
                if len(ids) < need:
                    raise CapacityBelowSold(
                        "Seats of past bookings cannot be removed; choose a higher capacity.",
                        sold=sold, lowest=count - len(ids))
                await s.execute(delete(SeatRow).where(
                    SeatRow.id == any_(literal(ids, ARRAY(BigInteger)))))
                return ids
        except IntegrityError as exc:
            raise CapacityBelowSold("Seats were booked meanwhile; try again.") from exc

    async def replace_seats(self, event_id: int, specs: list[SeatSpec]) -> None:
        """Replace every seat. Raises: NotFound, EventHasBookings (any booking, even
        cancelled, names the old seats)."""
        async with self.db.transaction() as s:
            await self._lock(s, event_id)
            if await s.scalar(select(exists().where(BookingRow.event_id == event_id))):
                raise EventHasBookings("Seats can be regenerated only before anything is sold.")
            await s.execute(delete(SeatRow).where(SeatRow.event_id == event_id))
            await self._insert_seats(s, event_id, specs)

    async def delete_event(self, event_id: int) -> None:
        """Delete the event, its seats, waitlist and cancelled bookings.

        Raises: NotFound, EventHasBookings (CONFIRMED bookings exist).
        """
        async with self.db.transaction() as s:
            await self._lock(s, event_id)
            if await s.scalar(select(exists().where(BookingRow.event_id == event_id,
                                                    BookingRow.status == "CONFIRMED"))):
                raise EventHasBookings()
            await s.execute(delete(WaitlistRow).where(WaitlistRow.event_id == event_id))
            await s.execute(delete(BookingRow).where(BookingRow.event_id == event_id))
            await s.execute(delete(EventRow).where(EventRow.id == event_id))

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
            bookings = await self._bookings(s, [p[0] for p in pairs])
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
            return await self._bookings(s, rows), int(total or 0)


_SET_TTL = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'ttl', ARGV[1]) end
return 1
"""


class EventSeats:
    """:class:`hub.events.LiveSeats`: the process's :class:`RedisSeatView` plus
    :meth:`set_hold_ttl`. Redis failures become ``Unavailable``."""

    def __init__(self, view: RedisSeatView, client: aioredis.Redis) -> None:
        self.view = view
        self._set_ttl = client.register_script(_SET_TTL)

    async def counts(self, event_id: int) -> EventCounts | None:
        return await self.view.counts(event_id)

    async def snapshot(self, event_id: int) -> Snapshot:
        return await self.view.snapshot(event_id)

    async def add_seats(self, event_id: int, seats: list[Seat], now_ms: int) -> int:
        return await self.view.add_seats(event_id, seats, now_ms)

    async def set_active(self, event_id: int, active: bool, now_ms: int) -> None:
        await self.view.set_active(event_id, active, now_ms)

    async def drop(self, event_id: int) -> None:
        await self.view.drop(event_id)

    async def set_hold_ttl(self, event_id: int, ttl_ms: int) -> None:
        """New holds of a loaded view last ``ttl_ms``; an absent view is built with the
        event's TTL from PostgreSQL anyway. Atomic, so it never creates a partial view."""
        try:
            await self._set_ttl(keys=[meta_key(event_id)], args=[ttl_ms])
        except RedisError as exc:
            raise Unavailable("Redis failed.") from exc

