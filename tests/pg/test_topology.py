"""The PostgreSQL topology itself: which server each read goes to, what happens when the
replica is gone or behind, and that many client connections share PgBouncer's few server
connections while confirms race.

Replay on the replica is paused (``pg_wal_replay_pause()``) to make its lag certain instead
of a matter of milliseconds.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy import text

from storage.db import Database
from tests.support.api import auth
from tests.support.pgtopology import PgTopology
from tests.support.rows import insert_event, insert_user
from tests.support.stores import TestStores, pg_url

pytestmark = pytest.mark.pgscale

CONFIRM = text("SELECT evently_confirm(:e, :u, CAST(:s AS bigint[]), 1, :h, NULL, NULL, "
               "now(), false)")


def asyncpg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


@pytest.fixture
async def scaled_db(topology: PgTopology, clean_stores: TestStores) -> AsyncIterator[Database]:
    """A :class:`Database` configured as the hub is: both URLs through PgBouncer."""
    db = Database(asyncpg_url(topology.bouncer_url), 4, pgbouncer=True,
                  replica_url=asyncpg_url(topology.bouncer_replica_url))
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def paused_replica(topology: PgTopology) -> Iterator[None]:
    """Replay paused on the replica for the test (resumed after it, whatever happens)."""
    def call(fn: str) -> None:
        async def run() -> None:
            conn = await asyncpg.connect(topology.replica_url)
            try:
                await conn.execute(f"SELECT {fn}()")
                for _ in range(100):  # a pause is requested first, then takes effect
                    if fn == "pg_wal_replay_resume" or await conn.fetchval(
                            "SELECT pg_get_wal_replay_pause_state()") == "paused":
                        return
                    await asyncio.sleep(0.02)
                raise AssertionError("replay did not pause in 2 s")
            finally:
                await conn.close()
        asyncio.run(run())

    call("pg_wal_replay_pause")
    try:
        yield
    finally:
        call("pg_wal_replay_resume")


async def test_reads_go_to_the_replica_and_writes_to_the_primary(scaled_db: Database) -> None:
    async with scaled_db.read() as s:
        assert await s.scalar(text("SELECT pg_is_in_recovery()")) is True
    async with scaled_db.transaction() as s:
        assert await s.scalar(text("SELECT pg_is_in_recovery()")) is False
    async with scaled_db.statement() as conn:
        assert (await conn.execute(text("SELECT pg_is_in_recovery()"))).scalar() is False


async def test_an_unreachable_replica_falls_back_to_the_primary(topology: PgTopology,
                                                                stores: TestStores) -> None:
    from tests.support.servers import free_port

    db = Database(asyncpg_url(topology.bouncer_url), 2, pgbouncer=True,
                  replica_url=f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/x")
    try:
        async with db.read() as s:
            assert await s.scalar(text("SELECT pg_is_in_recovery()")) is False
    finally:
        await db.close()


def test_a_lagging_replica_delays_listings_but_never_unsells_a_seat(
        hub: Any, make_user: Any, make_event: Any, clean_stores: TestStores,
        topology: PgTopology, request: pytest.FixtureRequest) -> None:
    org, buyer = make_user("organizer"), make_user()
    ev = make_event(org["token"], name="Replicated", capacity=6)
    _wait_replayed(topology)
    request.getfixturevalue("paused_replica")
    booked = httpx.post(f"{hub.url}/events/{ev['id']}/book", json={"seat_ids": [1, 2]},
                        headers=auth(buyer["token"]))
    assert booked.status_code == 201, booked.text
    hidden = make_event(org["token"], name="Behind")
    names = [e["name"] for e in httpx.get(hub.url + "/events").json()["items"]]
    assert names == ["Replicated"], f"the listing reads the (paused) replica: {names}"

    async def wipe() -> None:
        r = aioredis.Redis.from_url(clean_stores.redis_url)
        await r.flushdb()
        await r.aclose()
    asyncio.run(wipe())  # the next read rebuilds the view: from the primary
    seats = httpx.get(f"{hub.url}/events/{ev['id']}/seats").json()["seats"]
    assert sorted(s["id"] for s in seats if s["status"] == "sold") == [1, 2]
    one = httpx.get(f"{hub.url}/events/{hidden['id']}").json()
    assert one["name"] == "Behind", "a single event is read from the primary"


def _wait_replayed(topology: PgTopology) -> None:
    async def run() -> None:
        primary = await asyncpg.connect(topology.primary_url)
        replica = await asyncpg.connect(topology.replica_url)
        try:
            # the insert (not write) position: commits are asynchronous (synchronous_commit off)
            lsn = await primary.fetchval("SELECT pg_current_wal_insert_lsn()")
            for _ in range(200):
                if await replica.fetchval("SELECT pg_last_wal_replay_lsn() >= $1", lsn):
                    return
                await asyncio.sleep(0.02)
            raise AssertionError("replica did not catch up in 4 s")
        finally:
            await primary.close()
            await replica.close()
    asyncio.run(run())


def _server_connections(topology: PgTopology) -> int:
    """Server connections PgBouncer holds to the primary's test database (SHOW POOLS)."""
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(topology.bouncer_port), "-U", "postgres",
         "-AtF,", "-c", "SHOW POOLS", "pgbouncer"],
        capture_output=True, text=True, check=True, timeout=10).stdout
    total = 0
    for line in out.splitlines():
        cols = line.split(",")
        if cols[0] == "evently_pgscale":
            # database,user,cl_active,cl_waiting,cl_cancel_req,sv_active,sv_idle,sv_used,...
            total += sum(int(c) for c in cols[5:10])
    return total


async def test_a_hundred_racing_confirms_share_eight_server_connections(
        topology: PgTopology, clean_stores: TestStores) -> None:
    conn = await asyncpg.connect(pg_url(clean_stores))
    try:
        users = [await insert_user(conn, f"u{i}@example.test") for i in range(4)]
        event, seats = await insert_event(conn, 50)
    finally:
        await conn.close()
    # Four "processes" of 25 connections each: 100 clients for 8 server connections.
    dbs = [Database(asyncpg_url(topology.bouncer_url), 25, pgbouncer=True) for _ in range(4)]
    peak = 0

    async def confirm(i: int) -> dict[str, Any]:
        db = dbs[i % 4]
        try:
            async with db.statement() as c:
                out = (await c.execute(CONFIRM, {"e": event, "u": users[i % 4],
                                                 "s": [seats[i % 50]], "h": f"h{i}"})).scalar()
        except Exception as exc:  # an IntegrityError is a refused double sale
            return {"error": type(exc).__name__, "detail": str(exc)}
        return dict(out if isinstance(out, dict) else __import__("json").loads(out))

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, await asyncio.to_thread(_server_connections, topology))
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    try:
        results = await asyncio.gather(*(confirm(i) for i in range(200)))
    finally:
        watcher.cancel()
        for db in dbs:
            await db.close()
    won = [r for r in results if "booking_id" in r]
    lost = [r for r in results if "booking_id" not in r]
    assert len(won) == 50, "each of the 50 seats is sold exactly once"
    assert all(r.get("error") in ("SEAT_UNAVAILABLE", "IntegrityError") for r in lost), lost[:3]
    assert 0 < peak <= topology.pool_size
