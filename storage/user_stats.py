"""Accounts with their activity counts: :class:`hub.ports.people.PeopleSource`.

Every count is a correlated subquery on ``users``, so one statement returns a page sorted
by any of them. ``last_login_at`` is the ``users`` column every log-in sets (migration 0003a).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, literal, or_, select

from hub.errors import NotFound
from hub.ports.people import Person, PersonQuery, UserStats
from storage.db import Database
from storage.models import BookingRow, BookingSeatRow, EventRow, UserRow
from storage.rows import like_pattern, user_from_row

__all__ = ["PgPeople"]


def _columns() -> dict[str, Any]:
    """The stats columns, labelled by their :data:`hub.ports.people.SORT_KEYS` names."""
    mine = BookingRow.user_id == UserRow.id
    return {
        "bookings": select(func.count()).where(mine).correlate(UserRow).scalar_subquery(),
        "cancellations": select(func.count()).where(mine, BookingRow.status == "CANCELLED")
        .correlate(UserRow).scalar_subquery(),
        "seats": select(func.count()).select_from(BookingSeatRow)
        .join(BookingRow, BookingRow.id == BookingSeatRow.booking_id)
        .where(mine, BookingSeatRow.active).correlate(UserRow).scalar_subquery(),
        "events_organized": select(func.count()).where(EventRow.organizer_id == UserRow.id)
        .correlate(UserRow).scalar_subquery(),
        "last_login_at": UserRow.last_login_at,
    }


def _statement() -> tuple[Select[Any], dict[str, Any]]:
    cols = _columns()
    return select(UserRow, *(c.label(k) for k, c in cols.items())), cols


def _person(r: Any) -> Person:
    return Person(user_from_row(r[0]), UserStats(
        bookings=int(r.bookings or 0), seats=int(r.seats or 0),
        cancellations=int(r.cancellations or 0),
        events_organized=int(r.events_organized or 0), last_login_at=r.last_login_at))


class PgPeople:
    """:class:`hub.ports.people.PeopleSource` on a real PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def people(self, query: PersonQuery) -> tuple[list[Person], int]:
        """A page of accounts with stats and the number matching (see the port)."""
        conds: list[Any] = []
        if query.q:
            pattern = like_pattern(query.q)
            conds.append(or_(UserRow.name.ilike(pattern, escape="\\"),
                             UserRow.email.ilike(pattern, escape="\\")))
        if query.role is not None:
            conds.append(UserRow.role == query.role.value)
        stmt, cols = _statement()
        plain = {"id": UserRow.id, "name": UserRow.name, "created_at": UserRow.created_at}
        key = plain.get(query.sort, cols.get(query.sort, literal(0)))
        ordered = key.desc().nulls_last() if query.order == "desc" else key.asc().nulls_last()
        tie = UserRow.id.desc() if query.order == "desc" else UserRow.id.asc()
        async with self.db.transaction() as s:
            total = await s.scalar(select(func.count()).select_from(UserRow).where(*conds))
            rows = (await s.execute(stmt.where(*conds).order_by(ordered, tie)
                                    .offset(query.offset).limit(query.limit))).all()
            return [_person(r) for r in rows], int(total or 0)

    async def person(self, user_id: int) -> Person:
        """Raises: NotFound."""
        stmt, _ = _statement()
        async with self.db.transaction() as s:
            row = (await s.execute(stmt.where(UserRow.id == user_id))).first()
            if row is None:
                raise NotFound("No such user.")
            return _person(row)
