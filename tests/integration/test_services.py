"""The hub services as the composition root wires them (``web.bootstrap.build``) on the real
stores: PostgreSQL and the Redis seat view agree after every command, pushes go out on the
user's channel, a lost or stale view is repaired from PostgreSQL, and freed seats reach the
waitlist. No hub process and no HTTP: a failure here is in a service or an adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import redis.asyncio as aioredis

from hub.errors import Forbidden, NotEnoughSeats, SeatUnavailable, SoldOut
from hub.events import EventDraft
from hub.model import Booking, BookingStatus, Event, Role, User, WaitlistEntry, WaitlistStatus
from hub.services import Services
from storage.keys import user_channel
from storage.settings import Settings
from tests.support.api import PASSWORD
from tests.support.stores import TestStores
from web.bootstrap import build


@pytest.fixture
async def services(clean_stores: TestStores, tmp_path: Path) -> AsyncIterator[Services]:
    """One process's services, background loops running, closed after the test."""
    runtime = await build(Settings(
        database_url=clean_stores.database_url, redis_url=clean_stores.redis_url,
        jwt_secret="integration-" + "x" * 32, bcrypt_rounds=4, rate_limit_enabled=False,
        evently_data_dir=tmp_path, db_pool_size=4, redis_pool_size=8))
    try:
        yield runtime.services
    finally:
        await runtime.background.stop()


def now() -> datetime:
    # The sweeper loop reads the wall clock, so commands use it too.
    return datetime.now(UTC)


async def person(services: Services, name: str, role: Role = Role.USER) -> User:
    return await services.accounts.create(name.title(), f"{name}@example.test", PASSWORD, role,
                                          now())


async def event(services: Services, capacity: int) -> Event:
    organizer = await person(services, f"org{capacity}", Role.ORGANIZER)
    start = now() + timedelta(days=10)
    return await services.events.create(organizer, EventDraft(
        name="Night", venue="Hall", start_time=start, end_time=start + timedelta(hours=2),
        capacity=capacity), now())


async def test_hold_confirm_cancel_keep_both_stores_in_step(services: Services) -> None:
    ann, bob = await person(services, "ann"), await person(services, "bob")
    ev = await event(services, 6)
    hold = await services.bookings.hold(ann, ev.id, now(), qty=2)
    snap = await services.bookings.snapshot(ev.id, now())
    assert snap.held == hold.seat_ids
    booking = await services.bookings.confirm(ann, hold.hold_id, now())
    assert booking.seat_ids == hold.seat_ids and booking.status is BookingStatus.CONFIRMED
    snap = await services.bookings.snapshot(ev.id, now())
    assert snap.sold == booking.seat_ids and snap.held == []
    assert (await services.events.get(ev.id)).booked_count == 2
    with pytest.raises(SeatUnavailable):
        await services.bookings.hold(bob, ev.id, now(), seat_ids=booking.seat_ids)
    with pytest.raises(Forbidden):
        await services.bookings.cancel(bob, booking.id, now())
    await services.bookings.cancel(ann, booking.id, now())
    snap = await services.bookings.snapshot(ev.id, now())
    assert snap.sold == [] and len(snap.available) == 6
    assert [b.status for b in await services.bookings.mine(ann)] == [BookingStatus.CANCELLED]


async def test_a_confirmation_is_pushed_on_the_users_channel(
        services: Services, redis_client: aioredis.Redis) -> None:
    ann = await person(services, "ann")
    ev = await event(services, 2)
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(user_channel(ann.id))
    try:
        await pubsub.get_message(timeout=1)
        booking = await services.bookings.book(ann, ev.id, now(), qty=1)
        # Channels are server-wide: other sessions' users with this id may speak here too,
        # so wait for this very booking (its creation time to the microsecond).
        mine = {"id": booking.id, "seat_ids": booking.seat_ids,
                "created_at": booking.created_at.isoformat()}
        while True:
            msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=3)
            assert msg is not None, "no booking.confirmed push of this booking"
            body = orjson.loads(msg["data"])
            pushed = body.get("booking") or {}
            if body["type"] == "booking.confirmed" and {
                    k: pushed.get(k) for k in mine} == mine:
                break
    finally:
        await pubsub.aclose()


async def test_a_lost_view_is_rebuilt_from_postgresql(
        services: Services, redis_client: aioredis.Redis) -> None:
    ann, bob = await person(services, "ann"), await person(services, "bob")
    ev = await event(services, 3)
    booking = await services.bookings.book(ann, ev.id, now(), qty=2)
    epoch = (await services.bookings.snapshot(ev.id, now())).epoch
    await redis_client.flushdb()  # Redis restarted empty
    hold = await services.bookings.hold(bob, ev.id, now(), qty=1)
    snap = await services.bookings.snapshot(ev.id, now())
    assert snap.epoch > epoch  # a new epoch: clients resnapshot
    assert snap.sold == booking.seat_ids and snap.held == hold.seat_ids
    with pytest.raises(SoldOut):
        await services.bookings.hold(bob, ev.id, now(), qty=1)


async def test_a_stale_view_cannot_sell_twice_and_is_repaired(services: Services) -> None:
    ann, bob = await person(services, "ann"), await person(services, "bob")
    ev = await event(services, 2)
    booking = await services.bookings.book(ann, ev.id, now(), qty=1)
    view = services.bookings.view
    await view.reconcile(ev.id, [], 0)  # the view forgets the sale (a lost update)
    hold = await services.bookings.hold(bob, ev.id, now(), seat_ids=booking.seat_ids)
    with pytest.raises(SeatUnavailable):
        await services.bookings.confirm(bob, hold.hold_id, now())
    snap = await services.bookings.snapshot(ev.id, now())
    assert snap.sold == booking.seat_ids and snap.held == []  # repaired from PostgreSQL
    assert [b.id for b in await services.bookings.mine(bob)] == []


async def test_seats_freed_by_a_cancel_are_offered_to_the_waitlist(services: Services) -> None:
    ann, bob = await person(services, "ann"), await person(services, "bob")
    ev = await event(services, 2)
    booking = await services.box_office.book_or_wait(ann, ev.id, now(), qty=2)
    assert isinstance(booking, Booking)
    entry = await services.box_office.book_or_wait(bob, ev.id, now(), qty=2, wait=True)
    assert isinstance(entry, WaitlistEntry) and entry.status is WaitlistStatus.WAITING
    await services.bookings.cancel(ann, booking.id, now())
    offered = await services.waitlist.get(bob, entry.id)
    assert offered.status is WaitlistStatus.OFFERED and offered.offer is not None
    snap = await services.bookings.snapshot(ev.id, now())
    assert snap.available == [] and sorted(snap.held) == sorted(booking.seat_ids)


async def test_an_idempotent_booking_runs_once_and_a_failure_frees_the_key(
        services: Services) -> None:
    ann = await person(services, "ann")
    ev = await event(services, 2)

    async def book(qty: int) -> tuple[int, dict[str, object]]:
        booking = await services.bookings.book(ann, ev.id, now(), qty=qty)
        return 201, {"id": booking.id, "seat_ids": booking.seat_ids}

    first = await services.idempotency.run_once(ann.id, "k1", "fp-1", lambda: book(1), now())
    again = await services.idempotency.run_once(ann.id, "k1", "fp-1", lambda: book(1), now())
    assert first[2] is False and again == (first[0], first[1], True)
    assert len(await services.bookings.mine(ann)) == 1  # the retry did not book again
    with pytest.raises(NotEnoughSeats):
        await services.idempotency.run_once(ann.id, "k2", "fp-2", lambda: book(2), now())
    retried = await services.idempotency.run_once(ann.id, "k2", "fp-3", lambda: book(1), now())
    assert retried[0] == 201 and retried[2] is False  # the failed attempt released the key
