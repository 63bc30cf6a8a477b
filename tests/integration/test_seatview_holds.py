"""The seat view's hold scripts on a real Redis: all-or-nothing holds by ids and by qty, the
per-user cap, the TTL rules, release and the confirm hand-off (DESIGN "Hold")."""

from __future__ import annotations

from datetime import datetime

import pytest

from hub.errors import (
    EventInactive,
    Forbidden,
    HoldExpired,
    HoldLimit,
    NotEnoughSeats,
    NotFound,
    SeatUnavailable,
    SoldOut,
    ValidationFailed,
)
from hub.ports import EventCounts, ViewMissing
from storage.seatview import RedisSeatView
from tests.support.seats import EPOCH, EVENT, NOW, TTL_MS, hold_request, source


def _ms(dt: datetime) -> int:
    return round(dt.timestamp() * 1000)


async def test_load_builds_the_view_once(view: RedisSeatView) -> None:
    assert await view.load(source(5, sold=[2]), NOW) is True
    assert await view.load(source(5), NOW) is False  # another process was first: kept
    snap = await view.snapshot(EVENT)
    assert (snap.epoch, snap.seq) == (EPOCH, 0)
    assert (snap.available, snap.held, snap.sold) == ([1, 3, 4, 5], [], [2])
    assert await view.counts(EVENT) == EventCounts(available=4, held=0, sold=1)
    assert await view.live_events() == [EVENT]


async def test_no_view_is_reported_not_guessed(view: RedisSeatView) -> None:
    with pytest.raises(ViewMissing):
        await view.hold(hold_request(7, "t1", seat_ids=(1,)))
    with pytest.raises(ViewMissing):
        await view.snapshot(EVENT)
    assert await view.counts(EVENT) is None


async def test_hold_by_ids_marks_the_seats_and_returns_the_lease(view: RedisSeatView) -> None:
    await view.load(source(10), NOW)
    hold = await view.hold(hold_request(7, "tok", seat_ids=(3, 4)))
    assert hold.hold_id == f"{EVENT}.tok"
    assert (hold.user_id, hold.seat_ids, hold.labels) == (7, [3, 4], ["A-3", "A-4"])
    assert _ms(hold.created_at) == NOW and _ms(hold.expires_at) == NOW + TTL_MS
    assert hold.fence == (EPOCH << 32) | 1  # the epoch in the high bits, counter 1
    snap = await view.snapshot(EVENT)
    assert snap.held == [3, 4] and snap.held_by == {3: hold.hold_id, 4: hold.hold_id}
    assert await view.counts(EVENT) == EventCounts(available=8, held=2, sold=0)
    assert await view.get_hold(EVENT, "tok") == hold
    second = await view.hold(hold_request(8, "tok2", seat_ids=(5,)))
    assert second.fence == (EPOCH << 32) | 2  # every hold takes the next fencing number


async def test_hold_is_all_or_nothing(view: RedisSeatView) -> None:
    await view.load(source(10), NOW)
    await view.hold(hold_request(7, "a", seat_ids=(2,)))
    with pytest.raises(SeatUnavailable) as err:
        await view.hold(hold_request(8, "b", seat_ids=(1, 2, 3)))
    assert err.value.details["seat_ids"] == [2]
    snap = await view.snapshot(EVENT)
    assert snap.held == [2] and snap.seq == 1  # seats 1 and 3 untouched, no delta emitted
    assert await view.get_hold(EVENT, "b") is None


async def test_unknown_seat_ids_are_a_validation_error(view: RedisSeatView) -> None:
    await view.load(source(3), NOW)
    with pytest.raises(ValidationFailed) as err:
        await view.hold(hold_request(7, "a", seat_ids=(1, 99)))
    assert "99" in err.value.details["fields"][0]["message"]
    assert (await view.snapshot(EVENT)).available == [1, 2, 3]


async def test_hold_by_qty_takes_the_best_side_by_side_run(view: RedisSeatView) -> None:
    await view.load(source(10), NOW)
    await view.hold(hold_request(7, "a", seat_ids=(2,)))
    hold = await view.hold(hold_request(8, "b", qty=3))
    assert hold.seat_ids == [3, 4, 5]  # 1 is best but alone: the first run of 3 wins


async def test_hold_by_qty_refuses_more_than_is_free(view: RedisSeatView) -> None:
    await view.load(source(3), NOW)
    await view.hold(hold_request(7, "a", seat_ids=(1,)))
    with pytest.raises(NotEnoughSeats) as err:
        await view.hold(hold_request(8, "b", qty=3))
    assert err.value.details["available"] == 2
    await view.hold(hold_request(8, "c", qty=2))
    with pytest.raises(SoldOut):
        await view.hold(hold_request(9, "d", qty=1))


async def test_the_per_user_cap_counts_seats_across_holds(view: RedisSeatView) -> None:
    await view.load(source(10), NOW)
    await view.hold(hold_request(7, "a", seat_ids=(1, 2, 3), max_held=4))
    with pytest.raises(HoldLimit) as err:
        await view.hold(hold_request(7, "b", qty=2, max_held=4))
    assert err.value.details["held"] == 3
    await view.hold(hold_request(8, "c", qty=2, max_held=4))  # the cap is per user
    await view.release(EVENT, "a", 7, NOW + 1)
    await view.hold(hold_request(7, "d", qty=4, max_held=4))  # released seats no longer count


async def test_ttl_zero_means_the_events_ttl_and_lifetime_caps_it(view: RedisSeatView) -> None:
    await view.load(source(5), NOW)
    hold = await view.hold(hold_request(7, "a", seat_ids=(1,), ttl_ms=0))
    assert _ms(hold.expires_at) == NOW + TTL_MS
    longer = await view.extend(EVENT, "a", 7, NOW + 1000, 0, 15 * 60_000)
    assert _ms(longer.expires_at) == NOW + 1000 + TTL_MS
    capped = await view.extend(EVENT, "a", 7, NOW + 2000, 20 * 60_000, 15 * 60_000)
    assert _ms(capped.expires_at) == NOW + 15 * 60_000  # never past created + lifetime


async def test_an_inactive_event_takes_no_holds(view: RedisSeatView) -> None:
    await view.load(source(5), NOW)
    await view.set_active(EVENT, False, NOW)
    with pytest.raises(EventInactive):
        await view.hold(hold_request(7, "a", qty=1))
    await view.set_active(EVENT, True, NOW)
    await view.hold(hold_request(7, "a", qty=1))


async def test_only_the_owner_releases_and_only_once(view: RedisSeatView) -> None:
    await view.load(source(5), NOW)
    await view.hold(hold_request(7, "a", seat_ids=(1, 2)))
    with pytest.raises(Forbidden):
        await view.release(EVENT, "a", 8, NOW + 1)
    assert await view.release(EVENT, "a", 7, NOW + 1) == [1, 2]
    with pytest.raises(NotFound):
        await view.release(EVENT, "a", 7, NOW + 2)
    assert await view.counts(EVENT) == EventCounts(available=5, held=0, sold=0)


async def test_confirm_begin_then_finish_sells_the_seats(view: RedisSeatView) -> None:
    await view.load(source(5), NOW)
    await view.hold(hold_request(7, "a", seat_ids=(1, 2)))
    with pytest.raises(Forbidden):
        await view.confirm_begin(EVENT, "a", 8, NOW + 1, 5000)
    begun = await view.confirm_begin(EVENT, "a", 7, NOW + 1, 5000)
    assert begun.seat_ids == [1, 2]
    with pytest.raises(HoldExpired):  # already confirming: a second confirm must not start
        await view.confirm_begin(EVENT, "a", 7, NOW + 2, 5000)
    await view.confirm_finish(EVENT, "a", [1, 2], NOW + 3)
    snap = await view.snapshot(EVENT)
    assert (snap.available, snap.held, snap.sold) == ([3, 4, 5], [], [1, 2])
    assert await view.get_hold(EVENT, "a") is None
    assert await view.counts(EVENT) == EventCounts(available=3, held=0, sold=2)


async def test_confirm_begin_refuses_a_lapsed_lease(view: RedisSeatView) -> None:
    await view.load(source(5), NOW)
    await view.hold(hold_request(7, "a", seat_ids=(1,), ttl_ms=1000))
    with pytest.raises(HoldExpired):
        await view.confirm_begin(EVENT, "a", 7, NOW + 1000, 5000)


async def test_confirm_abort_returns_the_hold_to_active(view: RedisSeatView) -> None:
    await view.load(source(5), NOW)
    await view.hold(hold_request(7, "a", seat_ids=(1,)))
    await view.confirm_begin(EVENT, "a", 7, NOW + 1, 5000)
    await view.confirm_abort(EVENT, "a", NOW + 2)
    again = await view.confirm_begin(EVENT, "a", 7, NOW + 3, 5000)
    assert again.seat_ids == [1]


async def test_a_hold_on_a_seat_sold_elsewhere_cannot_confirm(view: RedisSeatView) -> None:
    await view.load(source(5), NOW)
    await view.hold(hold_request(7, "a", seat_ids=(1, 2)))
    await view.reconcile(EVENT, [2], NOW + 1)  # PostgreSQL says seat 2 is sold
    with pytest.raises(SeatUnavailable) as err:
        await view.confirm_begin(EVENT, "a", 7, NOW + 2, 5000)
    assert err.value.details["seat_ids"] == [2]


async def test_hold_begin_takes_the_hold_already_confirming(view: RedisSeatView) -> None:
    """The book path's one script: a hold that only ``confirm_finish`` (or abort) can move on,
    with the same refusals as ``hold``."""
    await view.load(source(5), NOW)
    begun = await view.hold_begin(hold_request(7, "a", qty=2), 5000)
    assert len(begun.seat_ids) == 2 and begun.user_id == 7
    with pytest.raises(HoldExpired):  # already confirming
        await view.confirm_begin(EVENT, "a", 7, NOW + 1, 5000)
    await view.confirm_finish(EVENT, "a", begun.seat_ids, NOW + 2)
    assert await view.counts(EVENT) == EventCounts(available=3, held=0, sold=2)
    with pytest.raises(HoldLimit):
        await view.hold_begin(hold_request(8, "b", qty=3, max_held=2), 5000)
    await view.hold_begin(hold_request(8, "c", qty=3), 5000)
    with pytest.raises(SoldOut):
        await view.hold_begin(hold_request(9, "d", qty=1), 5000)
