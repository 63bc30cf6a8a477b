"""``GET /holds/{id}`` tells a buyer how a hold ended (issue 10 "Faults"), a confirm blocked
on a seat row gives up within the confirm grace, and a retried confirm whose first commit's
answer was lost gets that booking (DESIGN invariant 8)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from hub.ports import ConfirmCommand
from storage.bookings import PgBookings
from storage.db import Database
from tests.support import stores as test_stores
from tests.support.api import auth
from tests.support.servers import HubProcess

pytestmark = pytest.mark.e2e

MakeUser = Callable[..., dict[str, Any]]
MakeEvent = Callable[..., dict[str, Any]]


def _hold(hub: HubProcess, token: str, event_id: int, **body: Any) -> str:
    r = httpx.post(f"{hub.url}/events/{event_id}/holds", json=body, headers=auth(token))
    assert r.status_code == 201, r.text
    return str(r.json()["hold_id"])


def _status(hub: HubProcess, token: str, hold_id: str) -> httpx.Response:
    return httpx.get(f"{hub.url}/holds/{hold_id}", headers=auth(token))


def test_outcomes_active_released_confirmed(hub: HubProcess, make_user: MakeUser,
                                            make_event: MakeEvent) -> None:
    admin, buyer, other = make_user("admin"), make_user(), make_user()
    event = make_event(admin["token"])
    held = _hold(hub, buyer["token"], event["id"], qty=2)
    r = _status(hub, buyer["token"], held)
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert len(r.json()["seat_ids"]) == 2
    assert _status(hub, other["token"], held).status_code == 403

    assert httpx.delete(f"{hub.url}/holds/{held}", headers=auth(buyer["token"])).status_code == 204
    r = _status(hub, buyer["token"], held)
    assert r.status_code == 200 and r.json() == {"hold_id": held, "event_id": event["id"],
                                                 "status": "released"}
    assert _status(hub, other["token"], held).status_code == 403

    booked = _hold(hub, buyer["token"], event["id"], qty=1)
    r = httpx.post(f"{hub.url}/holds/{booked}/confirm", headers=auth(buyer["token"]))
    assert r.status_code == 201, r.text
    out = _status(hub, buyer["token"], booked).json()
    assert out["status"] == "confirmed" and out["booking_id"] == r.json()["id"]
    assert out["booking"]["seat_ids"] == r.json()["seat_ids"]
    assert _status(hub, buyer["token"], f"{event['id']}.NoSuchHold00").status_code == 404


def test_expired_hold_says_expired(hub: HubProcess, make_user: MakeUser,
                                   make_event: MakeEvent) -> None:
    admin, buyer = make_user("admin"), make_user()
    event = make_event(admin["token"], hold_ttl_seconds=1)
    held = _hold(hub, buyer["token"], event["id"], qty=1)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if _status(hub, buyer["token"], held).json().get("status") == "expired":
            return
        time.sleep(0.2)
    raise AssertionError(f"still {_status(hub, buyer['token'], held).json()}")


async def test_confirm_blocked_on_a_row_lock_gives_up_inside_the_grace(
        hub: HubProcess, stores: test_stores.TestStores, make_user: MakeUser,
        make_event: MakeEvent) -> None:
    """The default grace is 5 s, so the confirm's lock_timeout is 2.5 s: it answers 503
    UNAVAILABLE, the hold is active again, and a retry after the lock is gone books."""
    admin, buyer = make_user("admin"), make_user()
    event = make_event(admin["token"])
    held = _hold(hub, buyer["token"], event["id"], qty=2)
    seats = _status(hub, buyer["token"], held).json()["seat_ids"]
    conn = await asyncpg.connect(stores.database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        async with conn.transaction():
            await conn.execute("SELECT id FROM seats WHERE id = ANY($1) FOR UPDATE", seats)
            t0 = time.monotonic()
            async with httpx.AsyncClient(timeout=30) as c:
                r = await c.post(f"{hub.url}/holds/{held}/confirm", headers=auth(buyer["token"]))
            took = time.monotonic() - t0
    finally:
        await conn.close()
    assert r.status_code == 503 and r.json()["error"]["code"] == "UNAVAILABLE", r.text
    assert 2.0 < took < 5.0, took
    assert _status(hub, buyer["token"], held).json()["status"] == "active"
    r = httpx.post(f"{hub.url}/holds/{held}/confirm", headers=auth(buyer["token"]))
    assert r.status_code == 201, r.text


async def test_retry_after_a_lost_answer_gets_the_booking(
        hub: HubProcess, stores: test_stores.TestStores, make_user: MakeUser,
        make_event: MakeEvent) -> None:
    """A confirm committed but its answer never reached the hub (PostgreSQL went away right
    after the commit): the buyer's retry answers 201 with that booking, not 409."""
    admin, buyer = make_user("admin"), make_user()
    event = make_event(admin["token"], capacity=4)
    async with httpx.AsyncClient(base_url=hub.url, headers=auth(buyer["token"])) as c:
        r = await c.post(f"/events/{event['id']}/holds", json={"qty": 2})
        assert r.status_code == 201, r.text
        hold = r.json()
        db = Database(stores.database_url, 1)
        try:  # the commit whose answer was lost, made as the hub would have made it
            first = await PgBookings(db, email=False).confirm(ConfirmCommand(
                event_id=event["id"], user_id=buyer["id"], hold_id=hold["hold_id"],
                seat_ids=sorted(hold["seat_ids"]), fence=0, now=datetime.now(UTC),
                lock_timeout_ms=2000))
        finally:
            await db.close()
        r = await c.post(f"/holds/{hold['hold_id']}/confirm")
        assert r.status_code == 201, r.text
        assert r.json()["id"] == first.id
        seats = (await c.get(f"/events/{event['id']}/seats")).json()["seats"]
        assert {s["status"] for s in seats if s["id"] in hold["seat_ids"]} == {"sold"}
        status = (await c.get(f"/holds/{hold['hold_id']}")).json()
        assert status["status"] == "confirmed" and status["booking_id"] == first.id
