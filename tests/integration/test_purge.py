"""The purge of tables that only grow, on real PostgreSQL, through the services the
composition root wires (``web.bootstrap.build``) and the background loop that runs it: spent
idempotency keys past 24 h and expired refresh tokens go; fresh keys and live (also spent or
revoked, unexpired) refresh tokens stay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from storage.settings import Settings
from tests.support.stores import TestStores, pg_url
from web.background import Background, purge_once
from web.bootstrap import build
from web.runtime import Runtime

H = timedelta(hours=1)


@pytest.fixture
async def runtime(clean_stores: TestStores, tmp_path: Path) -> AsyncIterator[Runtime]:
    """One process's runtime on the emptied test stores, stopped after the test."""
    rt = await build(Settings(
        database_url=clean_stores.database_url, redis_url=clean_stores.redis_url,
        jwt_secret="integration-" + "x" * 32, bcrypt_rounds=4, rate_limit_enabled=False,
        evently_data_dir=tmp_path, db_pool_size=2, redis_pool_size=4))
    try:
        yield rt
    finally:
        await rt.background.stop()


async def _seed(stores: TestStores, now: datetime) -> None:
    conn = await asyncpg.connect(pg_url(stores))
    try:
        uid = await conn.fetchval(
            "INSERT INTO users (name, email, password_hash, role) "
            "VALUES ('p', 'purge@example.test', 'x', 'user') RETURNING id")
        for key, age, status in [("old-done", 25 * H, "done"), ("old-stuck", 48 * H, "in_flight"),
                                 ("fresh-done", 23 * H, "done"), ("new", 0 * H, "in_flight")]:
            await conn.execute(
                "INSERT INTO idempotency_keys (user_id, key, fingerprint, status, locked_until,"
                " created_at) VALUES ($1, $2, 'f', $3, $4, $4)", uid, key, status, now - age)
        for jti, expires, used, revoked in [
                ("expired", now - H, None, None),
                ("expired-revoked", now - timedelta(seconds=1), now - 2 * H, now - 2 * H),
                ("live", now + H, None, None),
                ("spent-live", now + H, now - H, None),     # reuse detection needs it
                ("revoked-live", now + H, None, now - H)]:  # family revocation needs it
            await conn.execute(
                "INSERT INTO refresh_tokens (jti, user_id, family_id, expires_at, used_at,"
                " revoked_at, created_at) VALUES ($1, $2, 'fam', $3, $4, $5, $6)",
                jti, uid, expires, used, revoked, now - 24 * H)
    finally:
        await conn.close()


async def _left(stores: TestStores) -> tuple[set[str], set[str]]:
    conn = await asyncpg.connect(pg_url(stores))
    try:
        keys = {r["key"] for r in await conn.fetch("SELECT key FROM idempotency_keys")}
        jtis = {r["jti"] for r in await conn.fetch("SELECT jti FROM refresh_tokens")}
        return keys, jtis
    finally:
        await conn.close()


EXPECTED = ({"fresh-done", "new"}, {"live", "spent-live", "revoked-live"})


async def test_purge_once_deletes_old_rows_only(clean_stores: TestStores,
                                                runtime: Runtime) -> None:
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    await _seed(clean_stores, now)
    purged = await purge_once(runtime.services, now)
    assert (purged.idempotency_keys, purged.refresh_tokens) == (2, 2)
    assert await _left(clean_stores) == EXPECTED
    again = await purge_once(runtime.services, now)  # another process purging: nothing left
    assert (again.idempotency_keys, again.refresh_tokens) == (0, 0)


async def test_the_background_purges_on_its_schedule(clean_stores: TestStores,
                                                     runtime: Runtime) -> None:
    await _seed(clean_stores, datetime.now(UTC))  # the loop reads the wall clock

    async def exists(_: int) -> bool:
        return True

    background = Background(runtime.services, 3600.0, exists, None, closers=[],
                            purge_interval=0.05, purge_first_delay=0.05)
    background.start()
    try:
        for _ in range(100):
            await asyncio.sleep(0.05)
            if await _left(clean_stores) == EXPECTED:
                break
        assert await _left(clean_stores) == EXPECTED
    finally:
        await background.stop()
