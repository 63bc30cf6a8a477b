"""The two recovery tests of ``tests/e2e/test_live.py`` that wipe Redis, on the cluster: the
wipe is a ``FLUSHDB`` on every master (one ``FLUSHDB`` would empty one shard only)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx
import pytest

from tests.support.api import auth
from tests.support.stores import TestStores, timing
from tests.support.wsclient import LiveClient, settle

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]


async def wipe_redis(stores: TestStores) -> None:
    """Every key on every master: Redis lost everything (PostgreSQL untouched)."""
    from redis.asyncio.cluster import RedisCluster

    rc = RedisCluster.from_url(stores.redis_url)
    try:
        await rc.flushdb(target_nodes=RedisCluster.PRIMARIES)
    finally:
        await rc.aclose()


async def test_wiped_cluster_view_is_rebuilt_under_a_new_epoch(
        hub: Any, make_user: Any, make_event: Any, clean_stores: TestStores) -> None:
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
        await wipe_redis(clean_stores)
        fresh = await watcher.next_push("snapshot", timeout=timing(3))
        assert fresh["epoch"] > first["epoch"]
        assert sorted(fresh["seats"]["sold"]) == [2, 3]
        await settle([watcher], hub, ev["id"])
    finally:
        await watcher.close()


async def test_lost_leases_on_the_cluster_fail_cleanly_and_never_oversell(
        hub: Any, make_user: Any, make_event: Any, clean_stores: TestStores) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], capacity=4)
    a, b = make_user(), make_user()
    ca = await LiveClient.connect(hub.ws_url, a["token"])
    cb = await LiveClient.connect(hub.ws_url, b["token"])
    try:
        hold_a = await ca.request("hold", event_id=ev["id"], seat_ids=[1, 2])
        await wipe_redis(clean_stores)  # the cluster loses every lease
        hold_b = await cb.request("hold", event_id=ev["id"], seat_ids=[1, 2])
        assert hold_b["type"] == "ok", "the rebuilt view has the seats available"
        lost = await ca.request("confirm", hold_id=hold_a["hold_id"])
        assert lost["type"] == "error" and lost["code"] in ("HOLD_EXPIRED", "SEAT_UNAVAILABLE")
        won = await cb.request("confirm", hold_id=hold_b["hold_id"])
        assert won["type"] == "ok" and won["seat_ids"] == [1, 2]
        proc = await asyncio.create_subprocess_exec(
            "uv", "run", "evently", "verify", "--event", str(ev["id"]),
            env={**os.environ, "DATABASE_URL": clean_stores.database_url,
                 "REDIS_URL": clean_stores.redis_url, "REDIS_CLUSTER": "true"},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await proc.communicate()
        assert proc.returncode == 0, out.decode()
    finally:
        await ca.close()
        await cb.close()


