"""The sharded pub/sub driver on the real cluster: one subscription connection per shard
master, ``SPUBLISH`` reaches only the owner of the channel's slot, and a killed master's
channels come back on the promoted replica (the driver reports the reconnect, so sessions
resynchronise)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot
from redis.exceptions import RedisError

from hub.errors import Unavailable
from storage.keys import event_channel, user_channel
from storage.pubsub import publish
from storage.seatview import RedisSeatView
from storage.sharded_pubsub import ShardedChannels
from tests.integration.test_pubsub import Received
from tests.support.cluster import RedisClusterProcess
from tests.support.seats import NOW, hold_request, source
from tests.support.stores import timing

pytestmark = [pytest.mark.cluster]

BASE = 900_000_000


def events_on_every_shard(cluster: RedisClusterProcess, per_shard: int = 2) -> list[int]:
    """Event ids whose channels fall on each of the masters, ``per_shard`` per master."""
    owners: dict[int, list[int]] = {}
    e = BASE
    while len(owners) < 3 or any(len(v) < per_shard for v in owners.values()):
        port = cluster.owner(key_slot(event_channel(e).encode()))
        if len(owners.setdefault(port, [])) < per_shard:
            owners[port].append(e)
        e += 1
    return sorted(x for v in owners.values() for x in v)


def ssub_clients(cluster: RedisClusterProcess, port: int) -> int:
    """Connections on node ``port`` with at least one shard subscription."""
    return sum(1 for line in cluster.cli(port, "client", "list").splitlines()
               if " ssub=" in line and " ssub=0 " not in line)


@pytest.fixture
async def driver(redis_client: RedisCluster) -> AsyncIterator[tuple[ShardedChannels, Received]]:
    got = Received()
    channels = ShardedChannels(redis_client, got.on_event, got.on_user, got.on_reconnect)
    await channels.start()
    try:
        yield channels, got
    finally:
        await channels.stop()


async def test_one_connection_per_shard_and_messages_stay_on_their_shard(
        driver: tuple[ShardedChannels, Received], view: RedisSeatView,
        redis_client: RedisCluster, redis_cluster: RedisClusterProcess) -> None:
    channels, got = driver
    events = events_on_every_shard(redis_cluster)
    masters = redis_cluster.masters()
    before = [ssub_clients(redis_cluster, m) for m in masters]  # hub processes' own
    for e in events:
        await view.load(source(3, event_id=e), NOW)
        await channels.subscribe_event(e)
    await channels.subscribe_user(BASE)
    assert sorted(int(n.rsplit(":", 1)[1]) for n in channels.shards) == masters
    # Six channels on three shards: exactly one more subscription connection per master.
    assert [ssub_clients(redis_cluster, m) - b for m, b in zip(masters, before, strict=True)] \
        == [1, 1, 1]
    for e in events:
        await view.hold(hold_request(7, "a", seat_ids=(1,), event_id=e))
    seen = set()
    for _ in events:
        delta = await asyncio.wait_for(got.events.get(), timing(3))
        seen.add(delta["event_id"])
    assert seen == set(events)
    await publish(redis_client, user_channel(BASE), {"type": "notification", "n": 1})
    assert await asyncio.wait_for(got.users.get(), timing(3)) == (
        BASE, {"type": "notification", "n": 1})
    # A shard channel is known only to its owner: the other masters have no subscriber.
    e = events[0]
    owner = redis_cluster.owner(key_slot(event_channel(e).encode()))
    assert redis_cluster.cli(owner, "pubsub", "shardnumsub", event_channel(e)).split()[-1] == "1"
    await channels.unsubscribe_event(e)
    await view.release(e, "a", 7, NOW + 1)
    await asyncio.sleep(timing(0.3))
    assert got.events.empty()


async def test_a_killed_master_is_replaced_and_its_channels_come_back(
        driver: tuple[ShardedChannels, Received], view: RedisSeatView,
        redis_cluster: RedisClusterProcess) -> None:
    channels, got = driver
    e = events_on_every_shard(redis_cluster, 1)[0]
    await view.load(source(4, event_id=e), NOW)
    await channels.subscribe_event(e)
    old = redis_cluster.owner(key_slot(event_channel(e).encode()))
    redis_cluster.kill(old)
    try:
        deadline = asyncio.get_running_loop().time() + timing(20)
        while got.reconnects == 0:
            assert asyncio.get_running_loop().time() < deadline, "the driver never remapped"
            await asyncio.sleep(0.1)
        new = redis_cluster.owner(key_slot(event_channel(e).encode()))
        assert new != old and channels.where[event_channel(e)].endswith(f":{new}")
        while True:  # the view client finds the promoted replica too
            try:
                await view.hold(hold_request(7, "b", seat_ids=(2,), event_id=e))
                break
            except (Unavailable, RedisError):
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.2)
        delta = await asyncio.wait_for(got.events.get(), timing(3))
        assert delta["event_id"] == e and {"seat_id": 2, "status": "held"} in delta["changes"]
    finally:
        redis_cluster.restart(old)
        await asyncio.to_thread(redis_cluster.wait_ok, 60)
