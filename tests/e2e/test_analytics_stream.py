"""The live analytics stream: admins (organizers see only their events, tested in
test_organizer_views), at least once a second, aggregated over
every hub process from the counters the seat scripts keep."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
import websockets

from storage.keys import user_channel
from tests.support.api import auth
from tests.support.stores import timing
from tests.support.wsclient import LiveClient

pytestmark = pytest.mark.e2e


async def test_plain_users_may_not_watch(hub: Any, make_user: Any) -> None:
    c = await LiveClient.connect(hub.ws_url, make_user("user")["token"])
    try:
        reply = await c.request("analytics.subscribe")
        assert reply["type"] == "error" and reply["code"] == "FORBIDDEN"
    finally:
        await c.close()


async def test_admins_see_sales_move_across_processes(hub: Any, second_hub: Any,
                                                      make_user: Any, make_event: Any) -> None:
    admin = make_user("admin")
    ev = make_event(admin["token"], capacity=10)
    watchers = [await LiveClient.connect(h.ws_url) for h in (hub, second_hub, second_hub)]
    for w in watchers:
        await w.subscribe(ev["id"])
    dash = await LiveClient.connect(hub.ws_url, admin["token"])
    try:
        assert (await dash.request("analytics.subscribe"))["type"] == "ok"
        first = await dash.next_push("analytics", timing(3))
        t0 = time.monotonic()
        second = await dash.next_push("analytics", timing(3))
        assert time.monotonic() - t0 <= 1.2 * timing(1), "at least once a second"
        assert second["at"] > first["at"]
        buyer = make_user()
        r = httpx.post(hub.url + f"/events/{ev['id']}/book", json={"qty": 3},
                       headers=auth(buyer["token"]))
        assert r.status_code == 201
        httpx.post(second_hub.url + f"/events/{ev['id']}/holds", json={"qty": 2},
                   headers=auth(buyer["token"]))
        deadline = time.monotonic() + timing(4)
        while True:
            msg = await dash.next_push("analytics", timing(3))
            row = next((e for e in msg["events"] if e["id"] == ev["id"]), None)
            if row and row["sold"] == 3 and row["held"] == 2 and row["subscribers"] == 3:
                break
            assert time.monotonic() < deadline, f"stale analytics: {row}"
        assert row["available"] == 5 and row["bookings_per_min"] >= 1
        assert row["holds_per_min"] >= 2
        assert msg["connections"] >= 4
    finally:
        await dash.close()
        for w in watchers:
            await w.close()


async def test_revoked_sessions_are_closed_with_4401(hub: Any, make_user: Any,
                                                     clean_stores: Any) -> None:
    user = make_user()
    async with websockets.connect(hub.ws_url) as ws:
        await ws.send(orjson.dumps({"op": "auth", "token": user["token"], "ref": 1}))
        assert orjson.loads(await ws.recv())["type"] == "ok"
        r = aioredis.Redis.from_url(clean_stores.redis_url)
        await r.publish(user_channel(user["id"]), orjson.dumps({"type": "session.revoked"}))
        await r.aclose()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), timing(3))
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
