"""Fixtures of the cluster tier: the same stores as everywhere else, except that Redis is a
real 3-master, 3-replica Redis Cluster (:mod:`tests.support.cluster`) started for the session,
and every hub process runs with ``REDIS_CLUSTER=true``.

Every module here is marked ``cluster``; the default run leaves them out (``-m "not cluster"``
in the pytest options) and CI runs them as their own step: ``uv run pytest -m cluster``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio.cluster import RedisCluster

from storage.db import Database
from storage.seatview import RedisSeatView
from tests.support.cluster import RedisClusterProcess, start_cluster
from tests.support.stores import TestStores, open_stores


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterProcess]:
    """Six ``redis-server`` nodes joined into a cluster (stopped after the session)."""
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def stores(redis_cluster: RedisClusterProcess) -> Iterator[TestStores]:
    """PostgreSQL as usual; Redis is the cluster. ``REDIS_CLUSTER=true`` is exported for the
    ``evently`` commands the tests run (e.g. ``evently verify``)."""
    s = open_stores(cluster_url=redis_cluster.url)
    before = os.environ.get("REDIS_CLUSTER")
    os.environ["REDIS_CLUSTER"] = "true"
    try:
        yield s
    finally:
        if before is None:
            os.environ.pop("REDIS_CLUSTER", None)
        else:
            os.environ["REDIS_CLUSTER"] = before
        s.close()


@pytest.fixture
async def redis_client(clean_stores: TestStores) -> AsyncIterator[RedisCluster]:
    """A cluster client of the flushed cluster (closed after the test)."""
    client = RedisCluster.from_url(clean_stores.redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def view(redis_client: RedisCluster) -> RedisSeatView:
    """The Redis seat view on the cluster (scripts publish with ``SPUBLISH``)."""
    return RedisSeatView(redis_client)


@pytest.fixture
async def db(clean_stores: TestStores) -> AsyncIterator[Database]:
    """An engine on the truncated test database (disposed after the test)."""
    database = Database(clean_stores.database_url, pool_size=4)
    try:
        yield database
    finally:
        await database.close()
