"""The live seat map over ``/ws`` across two hub processes: fan-out, expiry, recovery,
rebuilds, lost leases, and a session that survives bad input."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
import websockets

from tests.support.api import auth, server_map
from tests.support.stores import timing
from tests.support.wsclient import LiveClient, settle

pytestmark = pytest.mark.e2e


async def test_holds_appear_live_on_the_other_process(hub: Any, second_hub: Any,
                                                      make_user: Any, make_event: Any) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], capacity=12)
    a = make_user()
    ca = await LiveClient.connect(hub.ws_url, a["token"])
    cb = await LiveClient.connect(second_hub.ws_url)  # watching needs no account
    try:
        ok = await cb.subscribe(ev["id"])
        assert ok["type"] == "ok" and ok["event_id"] == ev["id"]
        snap = await cb.next_push("snapshot")
        assert sorted(snap["seats"]["available"]) == list(range(1, 13))
        hold = await ca.request("hold", event_id=ev["id"], seat_ids=[5, 6])
        assert hold["type"] == "ok" and hold["labels"] == ["A5", "A6"]
        d = await cb.next_push("delta", timeout=timing(5))
        assert d["changes"] == [{"seat_id": 5, "status": "held"},
                                {"seat_id": 6, "status": "held"}]
        assert d["seq"] == snap["seq"] + 1 and d["epoch"] == snap["epoch"]
        booking = await ca.request("confirm", hold_id=hold["hold_id"])
        assert booking["type"] == "ok" and booking["status"] == "CONFIRMED"
        d2 = await cb.next_push("delta", timeout=timing(5))
        assert {c["status"] for c in d2["changes"]} == {"sold"} and d2["seq"] == d["seq"] + 1
        pushed = await ca.next_push("booking.confirmed")
        assert pushed["booking"]["id"] == booking["id"]
        cancelled = await ca.request("cancel", booking_id=booking["id"])
        assert cancelled["status"] == "CANCELLED"
        assert (await ca.next_push("booking.cancelled"))["booking"]["id"] == booking["id"]
        await settle([cb], hub, ev["id"])
        assert cb.seats[ev["id"]][5] == "available"
    finally:
        await ca.close()
        await cb.close()


async def test_expired_holds_are_announced_within_a_second(hub: Any, second_hub: Any,
                                                           make_user: Any,
                                                           make_event: Any) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], capacity=10, hold_ttl_seconds=2)
    holder = make_user()
    ch = await LiveClient.connect(hub.ws_url, holder["token"])
    watcher = await LiveClient.connect(second_hub.ws_url)
    try:
        await watcher.subscribe(ev["id"])
        await watcher.next_push("snapshot")
        hold = await ch.request("hold", event_id=ev["id"], qty=3)
        expires = datetime.fromisoformat(hold["expires_at"]).timestamp()
        await watcher.next_push("delta")  # held
        freed = await watcher.next_push("delta", timeout=timing(4))
        seen_at = time.time()
        assert {c["status"] for c in freed["changes"]} == {"available"}
        assert sorted(c["seat_id"] for c in freed["changes"]) == sorted(hold["seat_ids"])
        assert seen_at - expires < 1.0 * timing(1), f"announced {seen_at - expires:.2f}s late"
        assert freed["ts"] / 1000 >= expires, "never before expires_at"
        note = await ch.next_push("hold.expired", timeout=timing(2))
        assert note["hold_id"] == hold["hold_id"] and sorted(note["seat_ids"]) == sorted(
            hold["seat_ids"])
        late = await ch.request("confirm", hold_id=hold["hold_id"])
        assert late["type"] == "error" and late["code"] == "HOLD_EXPIRED"
    finally:
        await ch.close()
        await watcher.close()


async def test_since_recovers_exactly_the_missed_deltas(hub: Any, make_user: Any,
                                                        make_event: Any) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], capacity=20)
    buyer = make_user()
    watcher = await LiveClient.connect(hub.ws_url)
    await watcher.subscribe(ev["id"])
    snap = await watcher.next_push("snapshot")
    await watcher.close()  # offline while things change
    actor = await LiveClient.connect(hub.ws_url, buyer["token"])
    holds = [await actor.request("hold", event_id=ev["id"], seat_ids=[i]) for i in (1, 2, 3)]
    await actor.request("release", hold_id=holds[1]["hold_id"])
    back = await LiveClient.connect(hub.ws_url)
    try:
        back.position[ev["id"]] = (snap["epoch"], snap["seq"])
        back.seats[ev["id"]] = {i: "available" for i in range(1, 21)}
        ok = await back.subscribe(ev["id"], since=(snap["epoch"], snap["seq"]))
        assert ok["seq"] == snap["seq"] + 4
        rec = await back.next_push("recovered")
        assert rec["seq"] == ok["seq"]
        assert [d["seq"] for d in back.deltas] == list(range(snap["seq"] + 1, ok["seq"] + 1))
        assert back.snapshots == 0
        assert back.seats[ev["id"]] == server_map(hub, ev["id"])
        # a position from another epoch or the future gets a snapshot instead
        again = await LiveClient.connect(hub.ws_url)
        await again.subscribe(ev["id"], since=(snap["epoch"] + 7, 1))
        assert (await again.next_push("snapshot"))["seq"] == ok["seq"]
        await again.close()
    finally:
        await back.close()
        await actor.close()


async def test_wiped_redis_view_is_rebuilt_under_a_new_epoch(hub: Any, make_user: Any,
                                                            make_event: Any,
                                                            clean_stores: Any) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], capacity=10)
    buyer = make_user()
    booked = httpx.post(hub.url + f"/events/{ev['id']}/book", json={"seat_ids": [2, 3]},
                        headers=auth(buyer["token"]))
    assert booked.status_code == 201
    watcher = await LiveClient.connect(hub.ws_url)
    try:
        await watcher.subscribe(ev["id"])
        first = await watcher.next_push("snapshot")
        r = aioredis.Redis.from_url(clean_stores.redis_url)
        await r.flushdb()
        await r.aclose()
        fresh = await watcher.next_push("snapshot", timeout=timing(3))
        assert fresh["epoch"] > first["epoch"]
        assert sorted(fresh["seats"]["sold"]) == [2, 3]
        await settle([watcher], hub, ev["id"])
    finally:
        await watcher.close()


async def test_lost_lease_fails_cleanly_and_never_oversells(hub: Any, make_user: Any,
                                                            make_event: Any,
                                                            clean_stores: Any) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], capacity=4)
    a, b = make_user(), make_user()
    ca = await LiveClient.connect(hub.ws_url, a["token"])
    cb = await LiveClient.connect(hub.ws_url, b["token"])
    try:
        hold_a = await ca.request("hold", event_id=ev["id"], seat_ids=[1, 2])
        r = aioredis.Redis.from_url(clean_stores.redis_url)
        await r.flushdb()  # Redis loses every lease
        await r.aclose()
        hold_b = await cb.request("hold", event_id=ev["id"], seat_ids=[1, 2])
        assert hold_b["type"] == "ok", "the rebuilt view has the seats available"
        lost = await ca.request("confirm", hold_id=hold_a["hold_id"])
        assert lost["type"] == "error" and lost["code"] in ("HOLD_EXPIRED", "SEAT_UNAVAILABLE")
        won = await cb.request("confirm", hold_id=hold_b["hold_id"])
        assert won["type"] == "ok" and won["seat_ids"] == [1, 2]
        proc = await asyncio.create_subprocess_exec(
            "uv", "run", "evently", "verify", "--event", str(ev["id"]),
            env={**__import__("os").environ, "DATABASE_URL": clean_stores.database_url,
                 "REDIS_URL": clean_stores.redis_url},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await proc.communicate()
        assert proc.returncode == 0, out.decode()
    finally:
        await ca.close()
        await cb.close()


async def test_bad_messages_get_errors_and_the_session_lives(hub: Any, make_user: Any,
                                                             make_event: Any) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], capacity=5)
    c = await LiveClient.connect(hub.ws_url)
    try:
        for raw in ("not json", "[1,2]", '{"op": 5}', '{"op": "explode"}', "{}"):
            await c.send_raw(raw)
        hold = await c.request("hold", event_id=ev["id"], qty=1)
        assert hold["type"] == "error" and hold["code"] == "UNAUTHENTICATED"
        bad = await c.request("subscribe", event_id="one")
        assert bad["type"] == "error" and bad["code"] == "BAD_REQUEST"
        await c.request("auth", token=org["token"])
        for fields in ({"event_id": ev["id"], "qty": 0}, {"event_id": ev["id"], "qty": "two"},
                       {"event_id": ev["id"], "seat_ids": [99]}, {"event_id": 999, "qty": 1}):
            reply = await c.request("hold", **fields)
            assert reply["type"] == "error", fields
            assert reply["code"] in ("VALIDATION_ERROR", "BAD_REQUEST", "NOT_FOUND"), reply
        pong = await c.request("ping")
        assert pong["type"] == "pong"
        assert server_map(hub, ev["id"]) == {i: "available" for i in range(1, 6)}
    finally:
        await c.close()


async def test_foreign_origins_and_oversized_messages_are_closed(hub: Any) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:  # before the handshake
        await websockets.connect(hub.ws_url, origin="https://evil.example")
    assert refused.value.response.status_code == 403
    async with websockets.connect(hub.ws_url, origin=hub.url) as ws:
        await ws.send(orjson.dumps({"op": "ping", "ref": 1}).decode())
        assert orjson.loads(await ws.recv())["type"] == "pong"
        await ws.send("x" * (64 * 1024 + 1))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_confirm_idempotency_key_is_shared_by_both_transports(
        hub: Any, make_user: Any, make_event: Any) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], capacity=5)
    buyer = make_user()
    c = await LiveClient.connect(hub.ws_url, buyer["token"])
    try:
        hold = await c.request("hold", event_id=ev["id"], seat_ids=[1])
        first = await c.request("confirm", hold_id=hold["hold_id"], idempotency_key="k-1")
        again = await c.request("confirm", hold_id=hold["hold_id"], idempotency_key="k-1")
        assert first["type"] == again["type"] == "ok" and again["id"] == first["id"]
        rest = httpx.post(hub.url + f"/holds/{hold['hold_id']}/confirm",
                          headers={**auth(buyer["token"]), "Idempotency-Key": "k-1"})
        assert rest.status_code == 201 and rest.json()["id"] == first["id"]
        assert rest.headers["Idempotent-Replayed"] == "true"
        assert len(httpx.get(hub.url + "/me/bookings", headers=auth(buyer["token"])).json()) == 1
    finally:
        await c.close()
