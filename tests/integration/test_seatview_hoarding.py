"""Hoarding rules in the seat view's scripts on a real Redis (issue 10): offers count toward
the held-seat cap in the script that makes them, the waitlist pool returns seats to sale when
its reserve runs out, and release + re-hold never resets a user's lifetime cap on a seat."""

from __future__ import annotations

from datetime import datetime

import pytest

from hub.errors import HoldLimit, SeatUnavailable
from hub.ports import EventCounts
from storage.seatview import RedisSeatView
from tests.support.seats import EVENT, NOW, hold_request, source

LIFE = 10_000  # ms


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


async def test_an_offer_counts_toward_the_held_seat_cap(view: RedisSeatView) -> None:
    await view.load(source(20), NOW)
    await view.hold(hold_request(7, "a", qty=6, max_held=8))
    with pytest.raises(HoldLimit):
        await view.offer(EVENT, 7, "offer", NOW + 1, 30_000, 3, entry_id=5, max_held=8)
    offer = await view.offer(EVENT, 7, "offer", NOW + 1, 30_000, 2, entry_id=5, max_held=8)
    assert len(offer.seat_ids) == 2
    with pytest.raises(HoldLimit):  # 8 held now, offers included: no more holds either
        await view.hold(hold_request(7, "b", qty=1, max_held=8))
    assert await view.counts(EVENT) == EventCounts(available=12, held=8, sold=0)


async def test_pooled_seats_return_to_sale_when_the_reserve_runs_out(
        view: RedisSeatView) -> None:
    await view.load(source(4), NOW)
    await view.hold(hold_request(7, "a", seat_ids=(1, 2)))
    await view.set_waiting(EVENT, 1, NOW, 5_000)  # someone waits; reserve 5 s
    await view.release(EVENT, "a", 7, NOW + 1000)
    assert (await view.snapshot(EVENT)).held == [1, 2]
    assert await view.sweep(EVENT, NOW + 5999) == []
    assert (await view.snapshot(EVENT)).held == [1, 2], "still within the reserve"
    await view.sweep(EVENT, NOW + 6000)
    snap = await view.snapshot(EVENT)
    assert snap.held == [] and snap.available == [1, 2, 3, 4]
    assert await view.counts(EVENT) == EventCounts(available=4, held=0, sold=0)
    held = await view.hold(hold_request(8, "b", seat_ids=(1, 2), now_ms=NOW + 6001))
    assert held.seat_ids == [1, 2]


async def test_release_and_rehold_keeps_the_lifetime_cap(view: RedisSeatView) -> None:
    await view.load(source(6), NOW)
    first = await view.hold(hold_request(7, "a", seat_ids=(1, 2), lifetime_ms=LIFE))
    assert _ms(first.expires_at) == NOW + LIFE  # the TTL (5 min) is capped by the lifetime
    await view.release(EVENT, "a", 7, NOW + 4000)
    again = await view.hold(hold_request(7, "b", seat_ids=(2, 3), now_ms=NOW + 4001,
                                         lifetime_ms=LIFE))
    assert _ms(again.expires_at) == NOW + LIFE, "seat 2 is held since NOW: the cap stays"
    extended = await view.extend(EVENT, "b", 7, NOW + 5000, 60_000, LIFE)
    assert _ms(extended.expires_at) == NOW + LIFE
    await view.release(EVENT, "b", 7, NOW + 9000)
    with pytest.raises(SeatUnavailable) as refused:  # the cap is reached at NOW + LIFE
        await view.hold(hold_request(7, "c", seat_ids=(3,), now_ms=NOW + LIFE,
                                     lifetime_ms=LIFE))
    assert refused.value.details["seat_ids"] == [3]
    other = await view.hold(hold_request(8, "d", seat_ids=(3,), now_ms=NOW + LIFE,
                                         lifetime_ms=LIFE))
    assert _ms(other.expires_at) == NOW + 2 * LIFE, "another user starts afresh"
    fresh = await view.hold(hold_request(7, "e", seat_ids=(4,), now_ms=NOW + LIFE,
                                         lifetime_ms=LIFE))
    assert _ms(fresh.expires_at) == NOW + 2 * LIFE, "a seat never held has its own clock"


async def test_the_lifetime_clock_restarts_after_a_cool_down(view: RedisSeatView) -> None:
    await view.load(source(3), NOW)
    await view.hold(hold_request(7, "a", seat_ids=(1,), lifetime_ms=LIFE))
    await view.release(EVENT, "a", 7, NOW + 1000)
    later = NOW + 1000 + LIFE  # a lifetime after the release: the marker no longer counts
    again = await view.hold(hold_request(7, "b", seat_ids=(1,), now_ms=later,
                                         lifetime_ms=LIFE))
    assert _ms(again.expires_at) == later + LIFE
