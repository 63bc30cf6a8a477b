"""ORM row → ``hub.model`` dataclass conversions and the count subqueries shared by the
PostgreSQL adapters (:mod:`storage.users`, :mod:`storage.events`, :mod:`storage.bookings`).

ORM rows never leave ``storage/``: every adapter method returns what these functions build.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.model import Booking, BookingStatus, Event, EventStatus, Role, Seat, User
from hub.seatmap import SeatSpec
from storage.models import BookingRow, BookingSeatRow, EventRow, SeatRow, UserRow, WaitlistRow

__all__ = [
    "SEAT_COLUMNS",
    "booked_q",
    "bookings_from_rows",
    "capacity_q",
    "event_from_row",
    "insert_seats",
    "like_pattern",
    "seat_from_row",
    "user_from_row",
    "waitlisted_q",
]

#: The columns :func:`seat_from_row` reads, in its order.
SEAT_COLUMNS = (SeatRow.id, SeatRow.label, SeatRow.section, SeatRow.row, SeatRow.number,
                SeatRow.rank)
_INSERT_BATCH = 5000  # seat rows per INSERT statement


def like_pattern(q: str) -> str:
    """``%q%`` for ILIKE with ``%``, ``_`` and ``\\`` taken literally."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def user_from_row(row: UserRow) -> User:
    """The account without its password hash."""
    return User(id=row.id, name=row.name, email=row.email, role=Role(row.role),
                created_at=row.created_at, banned=row.banned_at is not None,
                last_login_at=row.last_login_at)


def seat_from_row(r: Any) -> Seat:
    """A seat from a result row of :data:`SEAT_COLUMNS`."""
    return Seat(r.id, r.label, r.section, r.row, r.number, r.rank)


def event_from_row(row: EventRow, capacity: int = 0, booked: int = 0,
                   waitlisted: int = 0) -> Event:
    """The event with counts in seats (``available_count`` = capacity − booked; the live view
    subtracts held seats later, in ``hub.events``)."""
    return Event(
        id=row.id, name=row.name, venue=row.venue, start_time=row.start_time,
        end_time=row.end_time, status=EventStatus(row.status), capacity=capacity,
        hold_ttl_seconds=row.hold_ttl_seconds, waitlist_offer_seconds=row.waitlist_offer_seconds,
        auto_promote=row.auto_promote, organizer_id=row.organizer_id, created_at=row.created_at,
        booked_count=booked, available_count=max(capacity - booked, 0),
        waitlisted_count=waitlisted, timezone=row.timezone,
    )


def capacity_q() -> Any:
    """Seats of the correlated ``EventRow``."""
    return (select(func.count()).where(SeatRow.event_id == EventRow.id)
            .correlate(EventRow).scalar_subquery())


def booked_q() -> Any:
    """Sold seats (active booking seats) of the correlated ``EventRow``."""
    return (select(func.count()).where(BookingSeatRow.event_id == EventRow.id,
                                       BookingSeatRow.active)
            .correlate(EventRow).scalar_subquery())


def waitlisted_q() -> Any:
    """Seats asked for by WAITING and OFFERED entries of the correlated ``EventRow``."""
    return (select(func.coalesce(func.sum(WaitlistRow.qty), 0))
            .where(WaitlistRow.event_id == EventRow.id,
                   WaitlistRow.status.in_(("WAITING", "OFFERED")))
            .correlate(EventRow).scalar_subquery())


async def insert_seats(s: AsyncSession, event_id: int, specs: Sequence[SeatSpec]) -> None:
    """Insert seats of ``event_id`` (fence 0) in batches of 5,000 rows."""
    rows = [{"event_id": event_id, "section": p.section, "row": p.row, "number": p.number,
             "label": p.label, "rank": p.rank, "fence": 0} for p in specs]
    for i in range(0, len(rows), _INSERT_BATCH):
        await s.execute(insert(SeatRow), rows[i:i + _INSERT_BATCH])


async def bookings_from_rows(s: AsyncSession, rows: Sequence[BookingRow]) -> list[Booking]:
    """The bookings of ``rows``, in their order, with seat ids and labels by seat id."""
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
