"""``PgStore.settle_hold`` on a real PostgreSQL (DESIGN invariant 8): once a confirm outlived
its grace, PostgreSQL's answer is final. A booked hold settles as its booking; an unbooked one
settles as nothing and its confirm can never commit afterwards (the seats' fences pass it),
while a newer hold on the same seats still can."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from hub.errors import HoldExpired
from hub.ports import ConfirmCommand
from storage.db import Database
from storage.store import PgStore
from tests.support import stores as test_stores
from tests.support.servers import HubProcess

pytestmark = pytest.mark.e2e  # the event and its seats are made through a hub

FENCE = (7 << 32) | 5  # epoch 7, the fifth hold of that epoch: above 2**31 on purpose


def _cmd(event_id: int, user_id: int, seats: list[int], fence: int, hold_id: str,
         ) -> ConfirmCommand:
    return ConfirmCommand(event_id=event_id, user_id=user_id, hold_id=hold_id, seat_ids=seats,
                          fence=fence, now=datetime.now(UTC), lock_timeout_ms=2000)


async def test_settle_decides_for_good(hub: HubProcess, stores: test_stores.TestStores,
                                       make_user: Callable[..., dict[str, Any]],
                                       make_event: Callable[..., dict[str, Any]]) -> None:
    admin, buyer = make_user("admin"), make_user()
    event = make_event(admin["token"], capacity=6)
    seats = [s["id"] for s in httpx.get(f"{hub.url}/events/{event['id']}/seats").json()["seats"]]
    db = Database(stores.database_url, 2)
    store = PgStore(db, email=False)
    try:
        booked = await store.confirm(_cmd(event["id"], buyer["id"], seats[:2], FENCE,
                                          f"{event['id']}.booked-hold"))
        got = await store.settle_hold(event["id"], f"{event['id']}.booked-hold", seats[:2], FENCE)
        assert got is not None and got.id == booked.id and got.seat_ids == seats[:2]
        again = await store.booking_for_hold(event["id"], f"{event['id']}.booked-hold")
        assert again is not None and again.id == booked.id

        late = f"{event['id']}.late-hold"
        assert await store.settle_hold(event["id"], late, seats[2:4], FENCE + 1) is None
        assert await store.settle_hold(event["id"], late, seats[2:4], FENCE + 1) is None
        with pytest.raises(HoldExpired):  # the confirm that outlived its grace, arriving late
            await store.confirm(_cmd(event["id"], buyer["id"], seats[2:4], FENCE + 1, late))
        assert await store.booking_for_hold(event["id"], late) is None
        newer = await store.confirm(_cmd(event["id"], buyer["id"], seats[2:4], FENCE + 2,
                                         f"{event['id']}.newer-hold"))
        assert newer.seat_ids == seats[2:4]
    finally:
        await db.close()


async def test_retry_after_a_lost_answer_gets_the_booking(
        hub: HubProcess, stores: test_stores.TestStores,
        make_user: Callable[..., dict[str, Any]],
        make_event: Callable[..., dict[str, Any]]) -> None:
    """A confirm committed but its answer never reached the hub (PostgreSQL went away right
    after the commit): the buyer's retry answers 201 with that booking, not 409."""
    admin, buyer = make_user("admin"), make_user()
    event = make_event(admin["token"], capacity=4)
    headers = {"Authorization": f"Bearer {buyer['token']}"}
    async with httpx.AsyncClient(base_url=hub.url, headers=headers) as c:
        r = await c.post(f"/events/{event['id']}/holds", json={"qty": 2})
        assert r.status_code == 201, r.text
        hold = r.json()
        db = Database(stores.database_url, 1)
        try:  # the commit whose answer was lost, made as the hub would have made it
            first = await PgStore(db, email=False).confirm(_cmd(
                event["id"], buyer["id"], sorted(hold["seat_ids"]), 0, hold["hold_id"]))
        finally:
            await db.close()
        r = await c.post(f"/holds/{hold['hold_id']}/confirm")
        assert r.status_code == 201, r.text
        assert r.json()["id"] == first.id
        seats = (await c.get(f"/events/{event['id']}/seats")).json()["seats"]
        assert {s["status"] for s in seats if s["id"] in hold["seat_ids"]} == {"sold"}
        status = (await c.get(f"/holds/{hold['hold_id']}")).json()
        assert status["status"] == "confirmed" and status["booking_id"] == first.id
