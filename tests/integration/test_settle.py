"""``PgBookings.settle_hold`` on a real PostgreSQL (DESIGN invariant 8): once a confirm outlived
its grace, PostgreSQL's answer is final. A booked hold settles as its booking; an unbooked one
settles as nothing and its confirm can never commit afterwards (the seats' fences pass it),
while a newer hold on the same seats still can. (A retried confirm whose first commit's answer
was lost: tests/e2e/test_hold_outcome.py.)"""

from __future__ import annotations

import pytest

from hub.errors import HoldExpired
from hub.model import Event, User
from hub.ports import ConfirmCommand
from storage.bookings import PgBookings
from storage.db import Database
from storage.events import PgEvents
from storage.users import PgUsers
from tests.support.catalog import NOW, new_event, new_user

FENCE = (7 << 32) | 5  # epoch 7, the fifth hold of that epoch: above 2**31 on purpose


def _cmd(ev: Event, user: User, seats: list[int], fence: int, hold_id: str) -> ConfirmCommand:
    return ConfirmCommand(event_id=ev.id, user_id=user.id, hold_id=hold_id, seat_ids=seats,
                          fence=fence, now=NOW, lock_timeout_ms=2000)


@pytest.fixture
def events(db: Database) -> PgEvents:
    return PgEvents(db)


async def test_settle_decides_for_good(db: Database, events: PgEvents) -> None:
    store = PgBookings(db, email=False)
    buyer = await new_user(PgUsers(db), "ann")
    ev = await new_event(events, 6)
    seats = sorted(s.id for s in await events.list_seats(ev.id))

    booked = await store.confirm(_cmd(ev, buyer, seats[:2], FENCE, f"{ev.id}.booked-hold"))
    got = await store.settle_hold(ev.id, f"{ev.id}.booked-hold", seats[:2], FENCE)
    assert got is not None and got.id == booked.id and got.seat_ids == seats[:2]
    again = await store.booking_for_hold(ev.id, f"{ev.id}.booked-hold")
    assert again is not None and again.id == booked.id

    late = f"{ev.id}.late-hold"
    assert await store.settle_hold(ev.id, late, seats[2:4], FENCE + 1) is None
    assert await store.settle_hold(ev.id, late, seats[2:4], FENCE + 1) is None
    with pytest.raises(HoldExpired):  # the confirm that outlived its grace, arriving late
        await store.confirm(_cmd(ev, buyer, seats[2:4], FENCE + 1, late))
    assert await store.booking_for_hold(ev.id, late) is None
    newer = await store.confirm(_cmd(ev, buyer, seats[2:4], FENCE + 2, f"{ev.id}.newer-hold"))
    assert newer.seat_ids == seats[2:4]
