"""The seat view's change stream and lifecycle scripts on a real Redis: ``seq``, the capped
history and pub/sub publishing happen in the same script as the change (DESIGN invariant 4);
the expiry sweep (invariant 6); the waitlist pool and offers; repair by reconcile."""

from __future__ import annotations

import asyncio

import orjson
import pytest
import redis.asyncio as aioredis

from hub.errors import NotEnoughSeats
from hub.model import HoldStatus
from hub.ports import EventCounts, SweptHold
from storage.keys import event_channel
from storage.seatview import RedisSeatView
from tests.support.seats import EPOCH, EVENT, NOW, TTL_MS, hold_request, row_of, source


async def test_each_change_bumps_seq_records_history_and_publishes(
        view: RedisSeatView, redis_client: aioredis.Redis) -> None:
    await view.load(source(5), NOW)
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(event_channel(EVENT))
    try:
        await pubsub.get_message(timeout=1)  # the subscribe confirmation
        await view.hold(hold_request(7, "a", seat_ids=(1, 2), now_ms=NOW + 5))
        await view.release(EVENT, "a", 7, NOW + 6)
        published = []
        while len(published) < 2:
            msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
            assert msg is not None, "a delta was not published"
            published.append(msg["data"].decode())
    finally:
        await pubsub.aclose()
    first, second = (orjson.loads(p) for p in published)
    assert first == {"type": "delta", "event_id": EVENT, "epoch": EPOCH, "seq": 1,
                     "ts": NOW + 5, "changes": [{"seat_id": 1, "status": "held"},
                                                {"seat_id": 2, "status": "held"}]}
    assert second["seq"] == 2
    assert {c["status"] for c in second["changes"]} == {"available"}
    assert await view.history(EVENT, EPOCH, 0) == (EPOCH, 2, published)
    assert await view.history(EVENT, EPOCH, 1) == (EPOCH, 2, published[1:])
    assert await view.history(EVENT, EPOCH, 2) == (EPOCH, 2, [])
    assert await view.history(EVENT, EPOCH, 3) is None  # a seq from the future
    assert await view.history(EVENT, EPOCH + 1, 0) is None  # another epoch: resnapshot
    assert (await view.snapshot(EVENT)).seq == 2


async def test_a_refused_hold_emits_nothing(view: RedisSeatView) -> None:
    await view.load(source(3), NOW)
    await view.hold(hold_request(7, "a", seat_ids=(1,)))
    with pytest.raises(NotEnoughSeats):
        await view.hold(hold_request(8, "b", qty=3))
    assert (await view.snapshot(EVENT)).seq == 1
    assert len((await view.history(EVENT, EPOCH, 0) or (0, 0, []))[2]) == 1


async def test_the_sweep_ends_exactly_the_lapsed_leases(view: RedisSeatView) -> None:
    await view.load(source(10), NOW)
    await view.hold(hold_request(7, "short", seat_ids=(1, 2), ttl_ms=1000, max_held=2))
    await view.hold(hold_request(8, "long", seat_ids=(3,), ttl_ms=TTL_MS))
    assert await view.sweep(EVENT, NOW + 999) == []
    swept = await view.sweep(EVENT, NOW + 1000)
    assert swept == [SweptHold(hold_id=f"{EVENT}.short", event_id=EVENT, user_id=7,
                               seat_ids=[1, 2])]
    assert await view.sweep(EVENT, NOW + 1001) == []  # ended once, however often swept
    snap = await view.snapshot(EVENT)
    assert snap.held == [3] and 1 in snap.available and 2 in snap.available
    assert await view.get_hold(EVENT, "short") is None
    # the user's cap was given back with the seats
    await view.hold(hold_request(7, "again", qty=2, max_held=2, now_ms=NOW + 1002))


async def test_a_hold_lapsing_mid_confirm_is_left_to_settle(view: RedisSeatView) -> None:
    """A confirm that outlived its grace is not ended blindly (DESIGN invariant 8): the sweep
    hands it to its caller to settle from PostgreSQL, seats still held, and offers it again a
    second later should that caller die."""
    await view.load(source(5), NOW)
    await view.hold(hold_request(7, "a", seat_ids=(1,)))
    await view.confirm_begin(EVENT, "a", 7, NOW + 1, 2000)
    assert await view.sweep(EVENT, NOW + 2000) == []  # the grace pushed the lease
    [swept] = await view.sweep(EVENT, NOW + 2001)
    assert swept.needs_settle and not swept.needs_repair and swept.seat_ids == [1]
    hold = await view.get_hold(EVENT, "a")
    assert hold is not None and hold.state is HoldStatus.CONFIRMING
    assert 1 in (await view.snapshot(EVENT)).held
    assert await view.sweep(EVENT, NOW + 2500) == []
    [again] = await view.sweep(EVENT, NOW + 3001)
    assert again.needs_settle and again.hold_id == swept.hold_id
    assert await view.release(EVENT, "a", 0, NOW + 3002, outcome=HoldStatus.EXPIRED) == [1]
    assert await view.lookup_hold(EVENT, "a") == (None, (7, HoldStatus.EXPIRED))


async def test_concurrent_holds_never_share_a_seat(view: RedisSeatView) -> None:
    await view.load(source(20), NOW)

    async def grab(user: int) -> list[int]:
        try:
            return (await view.hold(hold_request(user, f"t{user}", qty=3))).seat_ids
        except NotEnoughSeats:
            return []

    got = await asyncio.gather(*(grab(u) for u in range(1, 11)))
    seats = [s for run in got for s in run]
    assert len(seats) == len(set(seats)) == 18  # six holds of 3; the rest refused whole
    assert await view.counts(EVENT) == EventCounts(available=2, held=18, sold=0)


async def test_freed_seats_wait_in_the_pool_while_someone_waits(view: RedisSeatView) -> None:
    await view.load(source(4), NOW)
    await view.hold(hold_request(7, "a", seat_ids=(1, 2)))
    await view.set_waiting(EVENT, 1, NOW, 60_000)
    await view.release(EVENT, "a", 7, NOW + 1)
    snap = await view.snapshot(EVENT)
    assert snap.held == [1, 2] and snap.available == [3, 4]  # pooled seats show as held
    assert await view.free_count(EVENT) == 4
    offer = await view.offer(EVENT, 9, "offer", NOW + 2, 30_000, 3, entry_id=5,
                             max_held=8)
    assert offer.seat_ids == [1, 2, 3] and offer.entry_id == 5  # the pool first, then best
    with pytest.raises(NotEnoughSeats):
        await view.offer(EVENT, 10, "offer2", NOW + 3, 30_000, 2, entry_id=6,
                         max_held=8)


async def test_nobody_waiting_returns_pooled_seats_to_the_public(view: RedisSeatView) -> None:
    await view.load(source(3), NOW)
    await view.hold(hold_request(7, "a", seat_ids=(1,)))
    await view.set_waiting(EVENT, 2, NOW, 60_000)
    await view.release(EVENT, "a", 7, NOW + 1)
    assert await view.set_waiting(EVENT, 0, NOW + 2, 60_000) == 1
    assert await view.counts(EVENT) == EventCounts(available=3, held=0, sold=0)


async def test_reconcile_and_free_follow_postgresql(view: RedisSeatView) -> None:
    await view.load(source(4, sold=[4]), NOW)
    assert await view.reconcile(EVENT, [1], NOW + 1) == 2  # 1 sold, 4 available again
    snap = await view.snapshot(EVENT)
    assert (snap.available, snap.sold) == ([2, 3, 4], [1])
    assert await view.free(EVENT, [1], NOW + 2) == [1]  # a cancelled booking's seat
    assert await view.counts(EVENT) == EventCounts(available=4, held=0, sold=0)


async def test_added_seats_join_as_available(view: RedisSeatView) -> None:
    await view.load(source(2), NOW)
    assert await view.add_seats(EVENT, row_of(3), NOW + 1) == 1  # 1 and 2 exist already
    snap = await view.snapshot(EVENT)
    assert snap.available == [1, 2, 3] and snap.seq == 1
    await view.drop(EVENT)
    assert not await view.exists(EVENT) and await view.live_events() == []


async def test_history_is_capped_and_says_when_it_no_longer_covers(
        view: RedisSeatView) -> None:
    await view.load(source(1), NOW)
    for i in range(1300):  # 2,600 deltas: past the ~2,000 kept for `since` recovery
        await view.hold(hold_request(7, f"t{i}", seat_ids=(1,), now_ms=NOW + i))
        await view.release(EVENT, f"t{i}", 7, NOW + i)
    seq = (await view.snapshot(EVENT)).seq
    assert seq == 2600
    assert await view.history(EVENT, EPOCH, 0) is None  # trimmed: the client resnapshots
    recent = await view.history(EVENT, EPOCH, seq - 5)
    assert recent is not None and recent[1] == seq
    assert [orjson.loads(d)["seq"] for d in recent[2]] == list(range(seq - 4, seq + 1))


async def test_a_hold_for_a_waitlist_entry_reports_it_when_it_lapses(
        view: RedisSeatView) -> None:
    await view.load(source(3), NOW)
    hold = await view.hold(hold_request(7, "w", seat_ids=(1,), ttl_ms=1000, reserved_for=42))
    assert hold.entry_id == 42 and (await view.get_hold(EVENT, "w")) == hold
    [swept] = await view.sweep(EVENT, NOW + 1000)
    assert (swept.entry_id, swept.seat_ids) == (42, [1])  # the waitlist learns its offer lapsed
