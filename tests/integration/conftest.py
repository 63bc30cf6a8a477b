"""Fixtures of the integration tier: storage adapters on the real test stores, emptied per test.

No hub process runs here; each test drives ``storage/`` (and the hub services wired to it)
directly, so a failure points at one script, one SQL function or one adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from storage.db import Database
from storage.seatview import RedisSeatView
from tests.support.stores import TestStores


@pytest.fixture
async def redis_client(clean_stores: TestStores) -> AsyncIterator[aioredis.Redis]:
    """A client of the flushed test Redis database (closed after the test)."""
    client = aioredis.Redis.from_url(clean_stores.redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def view(redis_client: aioredis.Redis) -> RedisSeatView:
    """The Redis seat view (Lua scripts registered) on the flushed database."""
    return RedisSeatView(redis_client)


@pytest.fixture
async def db(clean_stores: TestStores) -> AsyncIterator[Database]:
    """An engine on the truncated test database (disposed after the test)."""
    database = Database(clean_stores.database_url, pool_size=4)
    try:
        yield database
    finally:
        await database.close()
