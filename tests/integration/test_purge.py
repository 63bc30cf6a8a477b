"""The purge of tables that only grow, on real PostgreSQL: spent idempotency keys past 24 h
and expired refresh tokens go; fresh keys and live (also spent or revoked, unexpired) refresh
tokens stay."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg

from storage.db import Database
from storage.idempotency import IdempotencyStore
from storage.tokens import RefreshStore
from tests.conftest import run_sync
from tests.support import stores as test_stores
from web.purge import purge_loop, purge_once

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


async def _seed(url: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        uid = await conn.fetchval(
            "INSERT INTO users (name, email, password_hash, role) "
            "VALUES ('p', 'purge@example.test', 'x', 'user') RETURNING id")
        for key, age, status in [("old-done", 25 * H, "done"), ("old-stuck", 48 * H, "in_flight"),
                                 ("fresh-done", 23 * H, "done"), ("new", 0 * H, "in_flight")]:
            await conn.execute(
                "INSERT INTO idempotency_keys (user_id, key, fingerprint, status, locked_until,"
                " created_at) VALUES ($1, $2, 'f', $3, $4, $4)", uid, key, status, NOW - age)
        for jti, expires, used, revoked in [
                ("expired", NOW - H, None, None),
                ("expired-revoked", NOW - timedelta(seconds=1), NOW - 2 * H, NOW - 2 * H),
                ("live", NOW + H, None, None),
                ("spent-live", NOW + H, NOW - H, None),     # reuse detection needs it
                ("revoked-live", NOW + H, None, NOW - H)]:  # family revocation needs it
            await conn.execute(
                "INSERT INTO refresh_tokens (jti, user_id, family_id, expires_at, used_at,"
                " revoked_at, created_at) VALUES ($1, $2, 'fam', $3, $4, $5, $6)",
                jti, uid, expires, used, revoked, NOW - 24 * H)
    finally:
        await conn.close()


async def _left(url: str) -> tuple[set[str], set[str]]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        keys = {r["key"] for r in await conn.fetch("SELECT key FROM idempotency_keys")}
        jtis = {r["jti"] for r in await conn.fetch("SELECT jti FROM refresh_tokens")}
        return keys, jtis
    finally:
        await conn.close()


EXPECTED = ({"fresh-done", "new"}, {"live", "spent-live", "revoked-live"})


def test_purge_once_deletes_old_rows_only(clean_stores: test_stores.TestStores) -> None:
    url = clean_stores.database_url
    run_sync(_seed(url))

    async def purge() -> tuple[int, int]:
        db = Database(url, 1)
        try:
            purged = await purge_once(IdempotencyStore(db), RefreshStore(db), NOW)
            return purged.idempotency_keys, purged.refresh_tokens
        finally:
            await db.close()

    assert run_sync(purge()) == (2, 2)
    assert run_sync(_left(url)) == EXPECTED
    assert run_sync(purge()) == (0, 0)  # a second process purging at once deletes nothing


def test_purge_loop_runs_on_its_schedule(clean_stores: test_stores.TestStores) -> None:
    url = clean_stores.database_url
    run_sync(_seed(url))

    async def run_loop() -> tuple[set[str], set[str]]:
        db = Database(url, 1)
        task = asyncio.create_task(purge_loop(IdempotencyStore(db), RefreshStore(db),
                                              lambda: NOW, interval=0.05, first_delay=0.05))
        try:
            for _ in range(100):
                await asyncio.sleep(0.05)
                if await _left(url) == EXPECTED:
                    break
            return await _left(url)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await db.close()

    assert run_sync(run_loop()) == EXPECTED
