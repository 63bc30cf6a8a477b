"""Issue 10 "Faults: nothing lost, nothing stuck": a sale across two hub processes while a
hub is SIGKILLed mid-confirm, Redis is flushed, Redis restarts, PostgreSQL restarts. Each
case ends with the ledger checks of :mod:`tests.chaos.sale` and one matrix line."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.chaos.sale import Sale, record_matrix
from tests.chaos.servers import PgServer, RedisServer, fresh_database, pg_connect
from tests.support.servers import HubProcess

pytestmark = [pytest.mark.chaos, pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(180)]

GRACE = 5  # CONFIRM_GRACE_SECONDS, the default


def hub_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "REDIS_URL": redis_url,
            "JWT_SECRET": "chaos-secret-" + "x" * 32, "BCRYPT_ROUNDS": "4",
            "RATE_LIMIT_ENABLED": "false", "LOG_LEVEL": "warning",
            "CONFIRM_GRACE_SECONDS": str(GRACE),
            "EVENTLY_DATA_DIR": tempfile.mkdtemp(prefix="evently-chaos-hub-")}


def machine_database() -> str:
    """A fresh database on the machine's PostgreSQL (``TEST_DATABASE_URL``'s server)."""
    base = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/evently_h6")
    return fresh_database(base.rsplit("/", 1)[0] + f"/{base.rsplit('/', 1)[1]}_chaos")


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_server() -> Iterator[PgServer]:
    server = PgServer().start()
    try:
        yield server
    finally:
        server.stop()


def run_case(name: str, database_url: str, redis: RedisServer,
             fault: Callable[[Sale], Any], buyers: int = 8, capacity: int = 1000) -> Sale:
    """Two hubs, a sale of ``seconds`` with ``fault(sale)`` two seconds in, then the checks."""
    hubs = [HubProcess(hub_env(database_url, redis.url)).start() for _ in range(2)]
    sale = Sale(hubs, database_url, redis.url)

    async def scenario() -> tuple[int, int, float, str]:
        await sale.setup(buyers, capacity)
        try:
            quiet_at = await sale.run(6, lambda: fault(sale), 2)
            converge = await sale.converge(quiet_at)
            oversold, lost = await sale.check_ledger()
        finally:
            await sale.close()
        verdict = sale.verify()
        snapshots = sum(b.ws.snapshots for b in sale.buyers if b.ws)
        extra = (f"told={len(sale.ledger.told)} unknown={len(sale.ledger.unknown)} "
                 f"refused={sale.ledger.failures} snapshots={snapshots} "
                 f"learned={dict(Counter(sale.ledger.learned.values()))} {verdict}")
        return oversold, lost, converge, extra

    try:
        oversold, lost, converge, extra = asyncio.run(scenario())
    finally:
        for h in hubs:
            h.stop()
    record_matrix(name, oversold, lost, converge, extra)
    assert oversold == 0 and lost == 0
    assert sale.ledger.told, "nothing was sold: the case proved nothing"
    return sale


def test_hub_sigkill_mid_confirm(redis_server: RedisServer) -> None:
    """A confirm blocked on a seat row lock (held by this test) when its hub is SIGKILLed:
    the lock is let go after the kill, so the orphaned transaction commits with nobody to
    tell; the buyer learns "confirmed" from ``GET /holds/{id}`` within the grace, and
    other confirms in flight on that hub settle too."""
    database_url = machine_database()
    victim: dict[str, Any] = {}

    async def fault(sale: Sale) -> None:
        hub = sale.hubs[0]
        buyer = sale.buyers[0]
        async with httpx.AsyncClient(timeout=10, headers={
                "Authorization": f"Bearer {buyer.token}"}) as c:
            seats = (await c.get(f"{hub.url}/events/{sale.event_id}/seats")).json()["seats"]
            free = [s["id"] for s in seats if s["status"] == "available"][-2:]
            r = await c.post(f"{hub.url}/events/{sale.event_id}/holds", json={"seat_ids": free})
            assert r.status_code == 201, r.text
            hold_id = r.json()["hold_id"]
            lock = await pg_connect(database_url)
            tx = lock.transaction()
            await tx.start()
            await lock.execute("SELECT id FROM seats WHERE id = ANY($1) FOR UPDATE", free)
            confirm = asyncio.create_task(c.post(f"{hub.url}/holds/{hold_id}/confirm"))
            await asyncio.sleep(0.5)
            assert not confirm.done(), "the confirm did not block on the row lock"
            hub.proc.kill()  # SIGKILL, mid-confirm
            hub.proc.wait(5)
            killed = time.monotonic()
            await asyncio.sleep(0.5)
            await tx.commit()
            await lock.close()
            try:
                await confirm
            except httpx.TransportError:
                pass
            sale.ledger.unknown[hold_id] = buyer.token
            victim.update(hold_id=hold_id, seats=free, killed=killed)
        status = ""
        while time.monotonic() - killed < GRACE + 4:
            async with httpx.AsyncClient(timeout=5) as c:
                r = await c.get(f"{sale.hubs[1].url}/holds/{hold_id}",
                                headers={"Authorization": f"Bearer {buyer.token}"})
            status = r.json().get("status", "")
            if status in ("confirmed", "released", "expired"):
                break
            await asyncio.sleep(0.2)
        victim.update(status=status, settled=time.monotonic() - killed)
        await asyncio.to_thread(hub.start)  # the supervisor brings it back

    sale = run_case("hub-sigkill-mid-confirm", database_url, redis_server, fault)
    assert victim["status"] == "confirmed", victim
    assert victim["settled"] < GRACE + 3, victim
    assert sale.ledger.learned[victim["hold_id"]] == "confirmed"


def test_redis_flushall_mid_sale(redis_server: RedisServer) -> None:
    """Redis loses every hold, view and stream at once: views rebuild under a new epoch
    from PostgreSQL, clients resync, nothing confirmed is lost."""
    run_case("redis-flushall", machine_database(), redis_server,
             lambda sale: redis_server.flushall())


def test_redis_restart_mid_sale(redis_server: RedisServer) -> None:
    """Redis dies (connections drop, memory lost) and comes back a second later."""
    async def fault(sale: Sale) -> None:
        redis_server.kill()
        await asyncio.sleep(1)
        await asyncio.to_thread(redis_server.start)

    run_case("redis-restart", machine_database(), redis_server, fault)


def test_postgres_restart_mid_sale(redis_server: RedisServer, pg_server: PgServer) -> None:
    """PostgreSQL crashes (immediate stop: WAL recovery on start) and is back 1.5 s later;
    confirms in flight fail cleanly or commit, and every buyer learns which."""
    database_url = fresh_database(pg_server.url("evently_chaos"))

    async def fault(sale: Sale) -> None:
        await asyncio.to_thread(pg_server.crash)
        await asyncio.sleep(1.5)
        await asyncio.to_thread(pg_server.start)

    run_case("postgres-restart", database_url, redis_server, fault)
