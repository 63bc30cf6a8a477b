"""The refresh-token store's family revocation for a password change, on real PostgreSQL:
every other live login family of the user is revoked and named (so each can be ended as
log-out ends one); the kept family, other users, and dead (expired or revoked) rows are left
as they were."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from storage.db import Database
from storage.tokens import RefreshStore
from tests.support.stores import TestStores, pg_url

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


async def _seed(stores: TestStores) -> tuple[int, int]:
    conn = await asyncpg.connect(pg_url(stores))
    try:
        me, them = [await conn.fetchval(
            "INSERT INTO users (name, email, password_hash, role) "
            "VALUES ('p', $1, 'x', 'user') RETURNING id", email)
            for email in ("me@example.test", "them@example.test")]
        for jti, user, family, expires, used, revoked in [
                ("keep-1", me, "keep", NOW + H, NOW - H, None),
                ("keep-2", me, "keep", NOW + H, None, None),
                ("phone-1", me, "phone", NOW + H, NOW - H, None),   # spent, of a live family
                ("phone-2", me, "phone", NOW + H, None, None),
                ("laptop", me, "laptop", NOW + H, None, None),
                ("gone", me, "gone", NOW - H, None, None),          # expired
                ("out", me, "out", NOW + H, None, NOW - H),         # logged out before
                ("theirs", them, "theirs", NOW + H, None, None)]:
            await conn.execute(
                "INSERT INTO refresh_tokens (jti, user_id, family_id, expires_at, used_at,"
                " revoked_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                jti, user, family, expires, used, revoked, NOW - 2 * H)
        return me, them
    finally:
        await conn.close()


async def _revoked(stores: TestStores) -> dict[str, datetime | None]:
    conn = await asyncpg.connect(pg_url(stores))
    try:
        return {r["jti"]: r["revoked_at"]
                for r in await conn.fetch("SELECT jti, revoked_at FROM refresh_tokens")}
    finally:
        await conn.close()


async def test_other_live_families_are_revoked_and_named(clean_stores: TestStores,
                                                         db: Database) -> None:
    me, _ = await _seed(clean_stores)
    store = RefreshStore(db)
    assert await store.revoke_other_families(me, "keep", NOW) == ["laptop", "phone"]
    revoked = await _revoked(clean_stores)
    assert {jti for jti, at in revoked.items() if at == NOW} == {"phone-1", "phone-2",
                                                                 "laptop"}
    assert revoked["keep-1"] is None and revoked["keep-2"] is None
    assert revoked["theirs"] is None and revoked["gone"] is None
    assert revoked["out"] == NOW - H  # an earlier revocation keeps its time
    # Nothing left to revoke: a second change names no family.
    assert await store.revoke_other_families(me, "keep", NOW + H / 2) == []
    # A token without a family (None) keeps none: the kept family goes too.
    assert await store.revoke_other_families(me, None, NOW + H / 2) == ["keep"]
