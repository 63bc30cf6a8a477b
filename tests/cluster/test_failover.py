"""Killing the master that owns an event's slot in the middle of a sale (3 masters with a
replica each): the replica is promoted, both hub processes reconnect, clients see at most a
new epoch and a fresh snapshot, nothing is oversold, no confirmed booking is lost, and
``evently verify`` is clean afterwards."""

from __future__ import annotations

import asyncio
import os
import random
from typing import Any

import asyncpg
import pytest
from redis.crc import key_slot

from storage.keys import event_channel
from tests.support.cluster import RedisClusterProcess
from tests.support.stores import pg_url, timing
from tests.support.wsclient import LiveClient, settle

pytestmark = [pytest.mark.cluster, pytest.mark.e2e, pytest.mark.slow]

SEATS = 60
BUYERS = 12
# What a buyer may be told while the shard fails over, besides a plain success.
PASSING = {"SEAT_UNAVAILABLE", "NOT_ENOUGH_SEATS", "SOLD_OUT", "UNAVAILABLE", "HOLD_EXPIRED",
           "NOT_FOUND", "RATE_LIMITED"}


async def buyer(client: LiveClient, event_id: int, rng: random.Random,
                confirmed: list[dict[str, Any]], stop: asyncio.Event) -> None:
    """Hold one or two seats and confirm, until sold out or told to stop."""
    while not stop.is_set():
        hold = await client.request("hold", event_id=event_id, qty=rng.randint(1, 2))
        if hold["type"] == "error":
            assert hold["code"] in PASSING, hold
            if hold["code"] == "SOLD_OUT":
                return
            await asyncio.sleep(0.05 + rng.random() * 0.05)
            continue
        await asyncio.sleep(rng.random() * 0.1)
        booking = await client.request("confirm", hold_id=hold["hold_id"])
        if booking["type"] == "ok":
            confirmed.append(booking)
        else:
            assert booking["code"] in PASSING, booking


async def test_a_killed_master_mid_sale_loses_nothing(
        hub: Any, second_hub: Any, make_user: Any, make_event: Any, clean_stores: Any,
        redis_cluster: RedisClusterProcess) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], capacity=SEATS)
    users = [make_user() for _ in range(BUYERS)]
    clients = [await LiveClient.connect((hub if i % 2 else second_hub).ws_url, u["token"])
               for i, u in enumerate(users)]
    watchers = [await LiveClient.connect(h.ws_url) for h in (hub, second_hub)]
    everyone = clients + watchers
    confirmed: list[dict[str, Any]] = []
    stop = asyncio.Event()
    owner = redis_cluster.owner(key_slot(event_channel(ev["id"]).encode()))
    try:
        for c in everyone:
            await c.subscribe(ev["id"])
            await c.next_push("snapshot")
        epoch_before = watchers[0].position[ev["id"]][0]
        sale = [asyncio.create_task(buyer(c, ev["id"], random.Random(i), confirmed, stop))
                for i, c in enumerate(clients)]
        while len(confirmed) < SEATS // 6:
            await asyncio.sleep(0.05)
        redis_cluster.kill(owner)  # mid-sale
        killed_at = len(confirmed)
        await asyncio.wait_for(asyncio.gather(*sale), timing(60))
        assert len(confirmed) > killed_at, "the sale never resumed after the failover"
        new_owner = redis_cluster.owner(key_slot(event_channel(ev["id"]).encode()))
        assert new_owner != owner, "the replica was not promoted"
        truth = await settle(everyone, hub, ev["id"], within=10.0)
        for w in watchers:  # a new epoch (the moved view was rebased) and a fresh snapshot
            assert w.position[ev["id"]][0] > epoch_before and w.snapshots >= 2, w.position
    finally:
        stop.set()
        await asyncio.gather(*(c.close() for c in everyone))
    sold_ids = [s for b in confirmed for s in b["seat_ids"]]
    assert len(sold_ids) == len(set(sold_ids)), "a seat was confirmed to two buyers"
    conn = await asyncpg.connect(pg_url(clean_stores))
    try:
        rows = await conn.fetch("SELECT b.id, bs.seat_id FROM bookings b JOIN booking_seats bs "
                                "ON bs.booking_id = b.id WHERE b.event_id = $1 "
                                "AND b.status = 'CONFIRMED' AND bs.active", ev["id"])
    finally:
        await conn.close()
    in_pg = {r["id"] for r in rows}
    assert {b["id"] for b in confirmed} <= in_pg, "a confirmed booking was lost"
    assert len({r["seat_id"] for r in rows}) == len(rows) <= SEATS, "oversold"
    assert {s for s, st in truth.items() if st == "sold"} == {r["seat_id"] for r in rows}
    proc = await asyncio.create_subprocess_exec(
        "uv", "run", "evently", "verify", "--event", str(ev["id"]),
        env={**os.environ, "DATABASE_URL": clean_stores.database_url,
             "REDIS_URL": f"redis://127.0.0.1:{new_owner}", "REDIS_CLUSTER": "true"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode()
    redis_cluster.restart(owner)  # back as a replica, for the tests after this one
    await asyncio.to_thread(redis_cluster.wait_ok, 60)
