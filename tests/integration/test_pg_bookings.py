"""The PostgreSQL booking and waitlist stores on a real database: ``evently_confirm()``'s
refusals become contract errors, cancel is once-only, listings come back as dataclasses, and
the waitlist keeps its order and its one-entry-per-user rule."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from hub.errors import AlreadyExists, EventInactive, HoldExpired, NotFound, SeatUnavailable
from hub.model import BookingStatus, Event, User, WaitlistStatus
from hub.ports import ConfirmCommand
from storage.bookings import PgBookings
from storage.db import Database
from storage.events import PgEvents
from storage.users import PgUsers
from storage.waitlist import PgWaitlist
from tests.support.catalog import NOW, new_event, new_user


@pytest.fixture
def events(db: Database) -> PgEvents:
    return PgEvents(db)


@pytest.fixture
def bookings(db: Database) -> PgBookings:
    return PgBookings(db, email=True)


@pytest.fixture
async def people(db: Database) -> tuple[User, User]:
    users = PgUsers(db)
    return await new_user(users, "ann"), await new_user(users, "bob")


async def seat_ids(events: PgEvents, ev: Event) -> list[int]:
    return sorted(s.id for s in await events.list_seats(ev.id))


def command(ev: Event, user: User, seats: list[int], fence: int, minutes: int = 0,
            ) -> ConfirmCommand:
    return ConfirmCommand(event_id=ev.id, user_id=user.id, hold_id=f"{ev.id}.t{fence}",
                          seat_ids=seats, fence=fence, now=NOW + timedelta(minutes=minutes))


async def test_confirm_returns_the_booking_with_labels_and_notice(
        events: PgEvents, bookings: PgBookings, people: tuple[User, User]) -> None:
    ann, _ = people
    ev = await new_event(events, 5)
    ids = await seat_ids(events, ev)
    booking = await bookings.confirm(command(ev, ann, [ids[1], ids[0]], fence=1))
    assert (booking.seat_ids, booking.seats, booking.status) == (
        ids[:2], ["A1", "A2"], BookingStatus.CONFIRMED)
    assert booking.notice is not None and booking.notice.kind == "booking.confirmed"
    assert await bookings.get_booking(booking.id) == dataclasses.replace(booking, notice=None)
    assert sorted(await events.sold_seat_ids(ev.id)) == ids[:2]
    got = await events.get_event(ev.id)
    assert (got.booked_count, got.available_count) == (2, 3)


async def test_confirm_refusals_are_contract_errors(
        events: PgEvents, bookings: PgBookings, people: tuple[User, User]) -> None:
    ann, bob = people
    ev = await new_event(events, 3)
    ids = await seat_ids(events, ev)
    await bookings.confirm(command(ev, ann, ids[:2], fence=5))
    with pytest.raises(SeatUnavailable) as sold:
        await bookings.confirm(command(ev, bob, ids[1:], fence=6))
    assert sold.value.seat_ids == [ids[1]]
    with pytest.raises(HoldExpired):  # seat 1's fence is 5 now: an older lease is stale
        await bookings.confirm(command(ev, bob, [ids[0]], fence=4))
    await events.update_event(ev.id, {"status": "inactive"})
    with pytest.raises(EventInactive):
        await bookings.confirm(command(ev, bob, [ids[2]], fence=7))
    with pytest.raises(NotFound):
        await bookings.confirm(ConfirmCommand(999_999, bob.id, "x.t", [ids[2]], 8, NOW))


async def test_cancel_is_once_and_frees_the_seats(
        events: PgEvents, bookings: PgBookings, people: tuple[User, User]) -> None:
    ann, bob = people
    ev = await new_event(events, 2)
    ids = await seat_ids(events, ev)
    booking = await bookings.confirm(command(ev, ann, ids, fence=1))
    cancelled = await bookings.cancel(booking.id, NOW + timedelta(hours=1))
    assert cancelled.status == BookingStatus.CANCELLED
    assert cancelled.cancelled_at == NOW + timedelta(hours=1)
    assert cancelled.notice is not None and cancelled.notice.kind == "booking.cancelled"
    again = await bookings.cancel(booking.id, NOW + timedelta(hours=2))
    assert again.notice is None and again.cancelled_at == cancelled.cancelled_at
    assert await events.sold_seat_ids(ev.id) == []
    rebooked = await bookings.confirm(command(ev, bob, ids, fence=2))
    assert rebooked.user_id == bob.id
    with pytest.raises(NotFound):
        await bookings.cancel(999_999, NOW)


async def test_listings_newest_first_and_the_guest_list(
        events: PgEvents, bookings: PgBookings, people: tuple[User, User]) -> None:
    ann, bob = people
    ev = await new_event(events, 4)
    ids = await seat_ids(events, ev)
    first = await bookings.confirm(command(ev, ann, [ids[0]], fence=1, minutes=1))
    second = await bookings.confirm(command(ev, ann, [ids[1]], fence=2, minutes=2))
    bobs = await bookings.confirm(command(ev, bob, [ids[2]], fence=3, minutes=3))
    await bookings.cancel(second.id, NOW + timedelta(minutes=4))
    assert [b.id for b in await bookings.user_bookings(ann.id)] == [second.id, first.id]
    guests, total = await bookings.attendees(ev.id, 0, 10)
    assert total == 2 and [(a.booking.id, a.user.email) for a in guests] == [
        (first.id, ann.email), (bobs.id, bob.email)]
    confirmed, n = await bookings.list_bookings(ev.id, "CONFIRMED", 0, 1)
    assert n == 2 and [b.id for b in confirmed] == [bobs.id]


async def test_the_waitlist_keeps_order_and_one_entry_per_user(
        db: Database, events: PgEvents, people: tuple[User, User]) -> None:
    ann, bob = people
    waitlist = PgWaitlist(db)
    ev = await new_event(events, 1)
    first, waiting = await waitlist.join(ev.id, ann.id, 2, NOW)
    assert (first.position, first.status, first.qty, waiting) == (1, WaitlistStatus.WAITING, 2, 1)
    second, waiting = await waitlist.join(ev.id, bob.id, 1, NOW + timedelta(seconds=1))
    assert (second.position, waiting) == (2, 2)
    with pytest.raises(AlreadyExists):
        await waitlist.join(ev.id, ann.id, 1, NOW)
    left, hold_id, waiting = await waitlist.leave(first.id, NOW + timedelta(minutes=1))
    assert (left.status, hold_id, waiting) == (WaitlistStatus.LEFT, None, 1)
    assert (await waitlist.get(second.id)).position == 1  # moved up
    assert (await waitlist.leave(first.id, NOW + timedelta(minutes=2)))[0].status == (
        WaitlistStatus.LEFT)
    assert await waitlist.waiting_count(ev.id) == 1
    assert [e.id for e in await waitlist.for_user(ann.id)] == [first.id]
    with pytest.raises(NotFound):
        await waitlist.get(999_999)


async def test_no_waitlist_for_an_inactive_event(
        db: Database, events: PgEvents, people: tuple[User, User]) -> None:
    ev = await new_event(events, 1)
    await events.update_event(ev.id, {"status": "inactive"})
    with pytest.raises(EventInactive):
        await PgWaitlist(db).join(ev.id, people[0].id, 1, NOW)
