"""Real PostgreSQL and Redis for the tests: ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` when set,
else the embedded servers (the same ones ``evently serve`` uses by default)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import tempfile
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

__all__ = ["TABLES", "TestStores", "clean", "open_stores", "pg_url", "run_sync", "set_role",
           "timing"]

T = TypeVar("T")
TABLES = ("email_outbox", "notifications", "waitlist_entries", "booking_seats", "bookings",
          "idempotency_keys", "refresh_tokens", "seats", "events", "users",
          "organizer_requests", "password_resets", "audit_log")


def timing(seconds: float) -> float:
    """Scale a test's timing constant by ``EVENTLY_TEST_TIMING`` (default 1)."""
    return seconds * float(os.environ.get("EVENTLY_TEST_TIMING", "1"))


@dataclass
class TestStores:
    """The test session's PostgreSQL and Redis (and the embedded servers, when started)."""

    __test__ = False  # not a test class, whatever its name says

    database_url: str  # postgresql+asyncpg://…/evently_test
    redis_url: str
    embedded: Any = None
    redis_cluster: bool = False  # redis_url names one node of a Redis Cluster

    data_dir: Path | None = None

    def close(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
        if self.data_dir is not None:
            import shutil

            shutil.rmtree(self.data_dir, ignore_errors=True)


async def _recreate_database(url: str) -> None:
    import asyncpg

    parts = urlsplit(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def open_stores(cluster_url: str | None = None) -> TestStores:
    """Start or connect to the stores, recreate the test database and migrate it.

    ``cluster_url``: use that Redis Cluster (one node's URL) instead of ``TEST_REDIS_URL``."""
    from storage.migrate import upgrade
    from storage.settings import Settings

    db_url = os.environ.get("TEST_DATABASE_URL")
    redis_url = cluster_url or os.environ.get("TEST_REDIS_URL")
    embedded = None
    data_dir = None
    if not (db_url and redis_url):
        from storage.embedded import start_embedded

        # A private pair per test session: concurrent sessions never share state.
        data_dir = Path(tempfile.mkdtemp(prefix="evently-test-"))
        embedded = start_embedded(data_dir, database="evently_test")
        db_url = db_url or embedded.database_url
        redis_url = redis_url or embedded.redis_url
    normalized = Settings(database_url=db_url).database_url
    assert normalized
    asyncio.run(_recreate_database(normalized))
    upgrade(normalized)
    return TestStores(normalized, redis_url, embedded, cluster_url is not None,
                      data_dir if embedded is not None else None)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even inside a running event loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def pg_url(stores: TestStores) -> str:
    """The test database as a plain ``postgresql://`` URL (for asyncpg)."""
    return stores.database_url.replace("postgresql+asyncpg", "postgresql")


async def clean(stores: TestStores) -> None:
    """Empty every table (identities restarted) and flush the test Redis database."""
    import asyncpg
    import redis.asyncio as aioredis

    conn = await asyncpg.connect(pg_url(stores))
    try:
        for attempt in range(3):
            try:
                await conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
                break
            except asyncpg.exceptions.DeadlockDetectedError:
                # a hub's background pass (sweep, offers) still touching rows of the last
                # test: PostgreSQL picked the TRUNCATE as the victim; it wins on a retry
                if attempt == 2:
                    raise
                await asyncio.sleep(0.2)
    finally:
        await conn.close()
    if stores.redis_cluster:
        from redis.asyncio.cluster import RedisCluster

        rc = RedisCluster.from_url(stores.redis_url)
        try:
            await rc.flushdb(target_nodes=RedisCluster.PRIMARIES)
        finally:
            await rc.aclose()
        return
    r = aioredis.Redis.from_url(stores.redis_url)
    try:
        await r.flushdb()
    finally:
        await r.aclose()


async def set_role(stores: TestStores, user_id: int, role: str) -> None:
    """Give a user a role directly in the database (there is no API to become admin)."""
    import asyncpg

    conn = await asyncpg.connect(pg_url(stores))
    try:
        await conn.execute("UPDATE users SET role = $1 WHERE id = $2", role, user_id)
    finally:
        await conn.close()
