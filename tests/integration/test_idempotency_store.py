"""The idempotency store on PostgreSQL: Stripe's semantics per user (claim, replay, reuse with
another request, in flight, takeover after the lock, release on failure, 24 h retention)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from hub.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from storage.db import Database
from storage.idempotency import LOCK, RETENTION, IdempotencyStore, StoredResponse
from tests.support.rows import insert_user
from tests.support.stores import TestStores, pg_url

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BODY = {"id": 12, "seat_ids": [3, 4]}


@pytest.fixture
async def users(clean_stores: TestStores) -> AsyncIterator[tuple[int, int]]:
    """Two users' ids."""
    conn = await asyncpg.connect(pg_url(clean_stores))
    try:
        yield (await insert_user(conn, "ann@example.test"),
               await insert_user(conn, "bob@example.test"))
    finally:
        await conn.close()


@pytest.fixture
def store(db: Database) -> IdempotencyStore:
    return IdempotencyStore(db)


async def test_a_finished_request_is_replayed(store: IdempotencyStore,
                                             users: tuple[int, int]) -> None:
    ann, _ = users
    assert await store.begin(ann, "k1", "fp-a", NOW) is None
    await store.finish(ann, "k1", 201, BODY)
    assert await store.begin(ann, "k1", "fp-a", NOW + timedelta(hours=1)) == StoredResponse(
        201, BODY)


async def test_the_same_key_with_another_request_is_refused(store: IdempotencyStore,
                                                          users: tuple[int, int]) -> None:
    ann, _ = users
    await store.begin(ann, "k1", "fp-a", NOW)
    await store.finish(ann, "k1", 201, BODY)
    with pytest.raises(IdempotencyKeyReused):
        await store.begin(ann, "k1", "fp-b", NOW)


async def test_in_flight_until_the_lock_lapses(store: IdempotencyStore,
                                               users: tuple[int, int]) -> None:
    ann, _ = users
    await store.begin(ann, "k1", "fp-a", NOW)
    with pytest.raises(IdempotencyKeyInUse):
        await store.begin(ann, "k1", "fp-a", NOW + LOCK - timedelta(seconds=1))
    # the first process died: after the lock the key is taken over, and locked again
    assert await store.begin(ann, "k1", "fp-a", NOW + LOCK) is None
    with pytest.raises(IdempotencyKeyInUse):
        await store.begin(ann, "k1", "fp-a", NOW + LOCK + timedelta(seconds=1))


async def test_release_frees_a_failed_request_but_never_a_stored_one(
        store: IdempotencyStore, users: tuple[int, int]) -> None:
    ann, _ = users
    await store.begin(ann, "k1", "fp-a", NOW)
    await store.release(ann, "k1")
    assert await store.begin(ann, "k1", "fp-b", NOW) is None  # nothing ran: any request
    await store.finish(ann, "k1", 200, BODY)
    await store.release(ann, "k1")
    assert await store.begin(ann, "k1", "fp-b", NOW) == StoredResponse(200, BODY)


async def test_keys_are_scoped_per_user(store: IdempotencyStore,
                                        users: tuple[int, int]) -> None:
    ann, bob = users
    await store.begin(ann, "k1", "fp-a", NOW)
    assert await store.begin(bob, "k1", "fp-b", NOW) is None


async def test_after_retention_a_key_is_new_again(store: IdempotencyStore,
                                                  users: tuple[int, int]) -> None:
    ann, _ = users
    await store.begin(ann, "k1", "fp-a", NOW)
    await store.finish(ann, "k1", 201, BODY)
    later = NOW + RETENTION + timedelta(seconds=1)
    assert await store.begin(ann, "k1", "fp-b", later) is None
    await store.begin(ann, "k2", "fp-a", NOW)
    assert await store.purge(later) == 1  # k2 is old; k1 was claimed afresh at `later`
    with pytest.raises(IdempotencyKeyInUse):  # k1 survived the purge, in flight
        await store.begin(ann, "k1", "fp-b", later)
    assert await store.begin(ann, "k2", "fp-b", later) is None  # k2 is gone


async def test_one_of_many_simultaneous_claims_wins(store: IdempotencyStore,
                                                    users: tuple[int, int]) -> None:
    ann, _ = users

    async def claim() -> str:
        try:
            return "claimed" if await store.begin(ann, "k1", "fp-a", NOW) is None else "stored"
        except IdempotencyKeyInUse:
            return "in use"

    results = await asyncio.gather(*(claim() for _ in range(6)))
    assert sorted(results) == ["claimed"] + ["in use"] * 5
