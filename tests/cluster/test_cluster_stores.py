"""The Redis uses outside the seat scripts, on the real cluster: rate limits through
``limits``' cluster storage, the token denylist (keys on different slots), the analytics
report cache (its invalidation deletes keys of two slots), the live-events buckets spread
over the shards, and the per-process live counts read from every master."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from hub.errors import RateLimited, TokenRevoked
from storage.analytics import RedisReportCache
from storage.keys import live_bucket, live_buckets
from storage.live_stats import LiveStats
from storage.seatview import RedisSeatView
from storage.settings import Settings
from storage.tokens import Denylist
from tests.support.cluster import RedisClusterProcess
from tests.support.seats import NOW, source
from tests.support.stores import TestStores
from web.ratelimit import Limiter

pytestmark = [pytest.mark.cluster]


async def test_rate_limits_count_on_the_cluster(clean_stores: TestStores) -> None:
    settings = Settings(redis_url=clean_stores.redis_url, redis_cluster=True,
                        rate_limit_holds="2/minute", rate_limit_strategy="moving-window")
    limiter = Limiter(settings, None)
    who = uuid.uuid4().hex
    try:
        await limiter.check("holds", who)
        await limiter.check("holds", who)
        with pytest.raises(RateLimited) as caught:
            await limiter.check("holds", who)
        assert 1 <= caught.value.retry_after <= 60
        await limiter.check("holds", who + "-other")  # another key, its own window
    finally:
        # limits' cluster storage owns its RedisCluster client (its bridge's ``storage``)
        await limiter.strategy.storage.bridge.storage.aclose()


async def test_the_denylist_reads_keys_of_several_slots(redis_client: RedisCluster) -> None:
    deny = Denylist(redis_client, 3600, 900)
    now = datetime.now(UTC)
    await deny.check("jti-ok", 7, now, "fam-ok")
    await deny.deny("jti-out", now + timedelta(minutes=5))
    with pytest.raises(TokenRevoked):
        await deny.check("jti-out", 7, now, "fam-ok")
    await deny.revoke_family("fam-out")
    with pytest.raises(TokenRevoked):
        await deny.check("jti-ok", 7, now, "fam-out")
    await deny.revoke_user(8, now)
    with pytest.raises(TokenRevoked):
        await deny.check("jti-ok", 8, now - timedelta(seconds=1), "fam-ok")
    await deny.check("jti-ok", 8, now + timedelta(seconds=1), "fam-ok")


async def test_the_report_cache_is_invalidated_across_slots(redis_client: RedisCluster) -> None:
    cache = RedisReportCache(redis_client)
    await cache.put("summary", {"a": 1}, 60)
    await cache.put("homepage", {"b": 2}, 60)
    assert await cache.get("summary") == {"a": 1}
    await cache.invalidate()
    assert await cache.get("summary") is None and await cache.get("homepage") is None


async def test_live_events_are_spread_over_buckets_and_shards(
        view: RedisSeatView, redis_client: RedisCluster,
        redis_cluster: RedisClusterProcess) -> None:
    owners = {redis_cluster.owner(key_slot(k.encode())) for k in live_buckets()}
    assert len(owners) == 3, "the 16 buckets should land on every master"
    events = [970_000_000 + i for i in range(6)]
    for e in events:
        await view.load(source(2, event_id=e), NOW)
    assert await view.live_events() == events
    assert len({live_bucket(e) for e in events}) == 6
    stats = LiveStats(redis_client, view.live_events)
    await stats.publish_local({events[0]: 3}, 5)
    snap = await stats.snapshot(NOW)
    assert [ev["id"] for ev in snap["events"]] == events
    assert snap["connections"] == 5 and snap["events"][0]["subscribers"] == 3
    await view.drop(events[0])
    assert await view.live_events() == events[1:]
