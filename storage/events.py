"""Events and their seats in PostgreSQL: :class:`hub.ports.EventStore`.

Every statement that changes an event's seats runs in one transaction that first locks the
event row (``SELECT … FOR UPDATE``), so two capacity changes of one event never interleave.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String, any_, delete, exists, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import CapacityBelowSold, EventHasBookings, NotFound
from hub.model import Event, Seat
from hub.ports import EventQuery, NewEvent, SeatPlan, ViewSource
from hub.seatmap import SeatSpec
from storage.db import Database
from storage.models import BookingRow, BookingSeatRow, EventRow, SeatRow, WaitlistRow
from storage.rows import (
    SEAT_COLUMNS,
    booked_q,
    capacity_q,
    event_from_row,
    insert_seats,
    like_pattern,
    seat_from_row,
    waitlisted_q,
)

__all__ = ["PgEvents"]


class PgEvents:
    """:class:`hub.ports.EventStore` on a real PostgreSQL; one transaction per method."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create_event(self, new: NewEvent) -> Event:
        """Insert an active event and its seats; the event with ``capacity`` = seats."""
        async with self.db.transaction() as s:
            row = EventRow(name=new.name, venue=new.venue, start_time=new.start_time,
                           end_time=new.end_time, timezone=new.timezone, status="active",
                           hold_ttl_seconds=new.hold_ttl_seconds,
                           waitlist_offer_seconds=new.waitlist_offer_seconds,
                           auto_promote=new.auto_promote, organizer_id=new.organizer_id,
                           created_at=new.now, updated_at=new.now)
            s.add(row)
            await s.flush()
            await insert_seats(s, row.id, new.seats)
            return event_from_row(row, capacity=len(new.seats))

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
        """The event's seats, best ``rank`` first (none for an unknown event).

        Read from the replica when there is one: only labels and ranks come from here (each
        seat's status comes from the live view), so a lag hides a just-added seat briefly.
        """
        async with self.db.read() as s:
            rows = (await s.execute(
                select(*SEAT_COLUMNS).where(SeatRow.event_id == event_id)
                .order_by(SeatRow.rank))).all()
            return [seat_from_row(r) for r in rows]

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
                select(*SEAT_COLUMNS).where(SeatRow.event_id == event_id))).all()
            sold = await self._sold(s, event_id)
        return ViewSource(
            event_id=event_id, epoch=int(ev.view_epoch), active=ev.status == "active",
            hold_ttl_ms=int(ev.hold_ttl_seconds) * 1000,
            seats=[seat_from_row(r) for r in seats],
            sold_ids=sold,
        )

    @staticmethod
    async def _sold(s: AsyncSession, event_id: int) -> list[int]:
        return list((await s.scalars(
            select(BookingSeatRow.seat_id).where(BookingSeatRow.event_id == event_id,
                                                 BookingSeatRow.active))).all())

    async def sold_seat_ids(self, event_id: int) -> list[int]:
        """Seat ids of the event's CONFIRMED bookings."""
        async with self.db.transaction() as s:
            return await self._sold(s, event_id)

    async def list_events(self, query: EventQuery, now: datetime) -> tuple[list[Event], int]:
        """A page of events with capacity/booked/waitlisted counts, and the total.

        Read from the replica when there is one: the counts may trail the primary by its
        replay lag (the live view has the current ones).
        """
        conds: list[Any] = []
        if query.q:
            pattern = like_pattern(query.q)
            conds.append(or_(EventRow.name.ilike(pattern, escape="\\"),
                             EventRow.venue.ilike(pattern, escape="\\")))
        if query.upcoming_only:
            conds.append(EventRow.start_time >= now)
        if query.status is not None:
            conds.append(EventRow.status == query.status.value)
        if query.organizer_id is not None:
            conds.append(EventRow.organizer_id == query.organizer_id)
        sort: Any = {
            "start_time": EventRow.start_time,
            "name": func.lower(EventRow.name),
            "created_at": EventRow.created_at,
            "utilization": func.coalesce(booked_q() * 1.0 / func.nullif(capacity_q(), 0), 0),
        }[query.sort]
        keys = [sort.desc(), EventRow.id.desc()] if query.order == "desc" else [sort, EventRow.id]
        async with self.db.read() as s:
            total = await s.scalar(select(func.count()).select_from(EventRow).where(*conds))
            rows = (await s.execute(
                select(EventRow, capacity_q(), booked_q(), waitlisted_q()).where(*conds)
                .order_by(*keys).offset(query.offset).limit(query.limit))).all()
        return ([event_from_row(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows],
                int(total or 0))

    async def organized_event_ids(self, organizer_id: int) -> set[int]:
        """Ids of the events ``organizer_id`` organizes."""
        async with self.db.transaction() as s:
            return set((await s.scalars(select(EventRow.id).where(
                EventRow.organizer_id == organizer_id))).all())

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
            existing = [seat_from_row(r) for r in (await s.execute(
                select(*SEAT_COLUMNS).where(SeatRow.event_id == event_id)
                .order_by(SeatRow.rank))).all()]
            specs = plan(existing)
            if not specs:
                return []
            await insert_seats(s, event_id, specs)
            labels = [p.label for p in specs]
            rows = (await s.execute(select(*SEAT_COLUMNS).where(
                SeatRow.event_id == event_id,
                # one array parameter: IN (…) binds one per label, over 32,767 at 50,000 seats
                SeatRow.label == any_(literal(labels, ARRAY(String))))
                .order_by(SeatRow.rank))).all()
            return [seat_from_row(r) for r in rows]

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
            await insert_seats(s, event_id, specs)

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
