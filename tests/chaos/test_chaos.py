"""Issue 10 "Faults: nothing lost, nothing stuck": a sale across two hub processes while a
hub is SIGKILLed mid-confirm, Redis is flushed, Redis restarts, PostgreSQL restarts. Each
case ends with the ledger checks of :mod:`tests.chaos.sale` and one matrix line."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
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


@pytest.fixture
def database_url() -> Iterator[str]:
    """A fresh, migrated database: ``<TEST_DATABASE_URL>_chaos`` on that server when set (the
    machine's PostgreSQL), else on a private PostgreSQL from the embedded binaries."""
    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        yield fresh_database(base + "_chaos")
        return
    server = PgServer().start()
    try:
        yield fresh_database(server.url("evently_chaos"))
    finally:
        server.stop()


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
             fault: Callable[[Sale], Any], buyers: int = 8, capacity: int = 1000,
             after: Callable[[Sale], Awaitable[None]] | None = None) -> Sale:
    """Two hubs, a six-second sale with ``fault(sale)`` two seconds in, then the checks;
    ``after(sale)`` runs once the buyers are quiet (quiescence is then counted from its end)."""
    hubs = [HubProcess(hub_env(database_url, redis.url)).start() for _ in range(2)]
    sale = Sale(hubs, database_url, redis.url)

    async def scenario() -> tuple[int, int, float, str]:
        await sale.setup(buyers, capacity)
        try:
            quiet_at = await sale.run(6, lambda: fault(sale), 2)
            if after is not None:
                await after(sale)
                quiet_at = time.monotonic()
            converge = await sale.converge(quiet_at)
            oversold, lost, untold = await sale.check_ledger()
        finally:
            await sale.close()
        verdict = sale.verify()
        snapshots = sum(b.ws.snapshots for b in sale.buyers if b.ws)
        extra = (f"told={len(sale.ledger.told)} untold={untold} "
                 f"unknown={len(sale.ledger.unknown)} "
                 f"refused={sale.ledger.failures} snapshots={snapshots} "
                 f"learned={dict(Counter(sale.ledger.learned.values()))} {verdict}"
                 + "".join(f" {k}: {v}" for k, v in sale.notes.items()))
        return oversold, lost, converge, extra

    try:
        oversold, lost, converge, extra = asyncio.run(scenario())
    finally:
        for h in hubs:
            h.stop()
            shutil.rmtree(h.env["EVENTLY_DATA_DIR"], ignore_errors=True)
    record_matrix(name, oversold, lost, converge, extra)
    assert oversold == 0 and lost == 0
    assert sale.ledger.told, "nothing was sold: the case proved nothing"
    return sale


async def _blocked_confirm(sale: Sale, hub: HubProcess, token: str, c: httpx.AsyncClient,
                           database_url: str) -> tuple[str, Any, Any, asyncio.Task[Any]]:
    """Hold two free seats on ``hub``, lock their rows from a test connection, and start a
    confirm that blocks on them: ``(hold_id, connection, transaction, confirm task)``."""
    seats = (await c.get(f"{hub.url}/events/{sale.event_id}/seats")).json()["seats"]
    free = [s["id"] for s in seats if s["status"] == "available"][-2:]
    r = await c.post(f"{hub.url}/events/{sale.event_id}/holds", json={"seat_ids": free},
                     headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    hold_id = r.json()["hold_id"]
    lock = await pg_connect(database_url)
    tx = lock.transaction()
    await tx.start()
    await lock.execute("SELECT id FROM seats WHERE id = ANY($1) FOR UPDATE", free)
    confirm = asyncio.create_task(c.post(f"{hub.url}/holds/{hold_id}/confirm",
                                         headers={"Authorization": f"Bearer {token}"}))
    return hold_id, lock, tx, confirm


def test_hub_sigkill_mid_confirm(redis_server: RedisServer, database_url: str) -> None:
    """Two confirms blocked on seat row locks (held by this test) when their hub is
    SIGKILLed, among the sale's own confirms in flight. One lock is let go 0.5 s after the
    kill: the orphaned transaction commits with nobody to tell, and the buyer learns
    "confirmed" from ``GET /holds/{id}``. The other is held past the confirm's lock_timeout:
    the transaction gives up and the buyer learns "expired", its seats free again. Both
    within the grace plus a sweep or two."""
    victims: dict[str, dict[str, Any]] = {}

    async def fault(sale: Sale) -> None:
        hub, other = sale.hubs
        async with httpx.AsyncClient(timeout=10) as c:
            for name, buyer in (("committed", sale.buyers[0]), ("timed-out", sale.buyers[1])):
                hold_id, lock, tx, confirm = await _blocked_confirm(
                    sale, hub, buyer.token, c, database_url)
                victims[name] = {"hold_id": hold_id, "token": buyer.token, "lock": lock,
                                 "tx": tx, "confirm": confirm}
            await asyncio.sleep(0.5)
            assert not any(v["confirm"].done() for v in victims.values()), \
                "a confirm did not block on the row lock"
            hub.proc.kill()  # SIGKILL, mid-confirm
            hub.proc.wait(5)
            killed = time.monotonic()
            for name, v in victims.items():
                await asyncio.sleep(0.5 if name == "committed" else GRACE * 0.5 + 0.5)
                await v["tx"].commit()
                await v["lock"].close()
                try:
                    await v["confirm"]
                except httpx.TransportError:
                    pass
                sale.ledger.unknown[v["hold_id"]] = v["token"]
            while time.monotonic() - killed < GRACE + 5:
                for v in victims.values():
                    if "status" not in v:
                        r = await c.get(f"{other.url}/holds/{v['hold_id']}",
                                        headers={"Authorization": f"Bearer {v['token']}"})
                        if r.json().get("status") in ("confirmed", "released", "expired"):
                            v.update(status=r.json()["status"],
                                     settled=time.monotonic() - killed)
                if all("status" in v for v in victims.values()):
                    break
                await asyncio.sleep(0.2)
        sale.notes["mid-confirm"] = ", ".join(
            f"{k}->{v.get('status')} {v.get('settled', -1):.1f}s after kill"
            for k, v in victims.items())
        await asyncio.to_thread(hub.start)  # the supervisor brings it back

    sale = run_case("hub-sigkill-mid-confirm", database_url, redis_server, fault)
    outcome = {k: (v.get("status"), round(v.get("settled", -1), 1)) for k, v in victims.items()}
    assert outcome["committed"][0] == "confirmed", outcome
    assert outcome["timed-out"][0] == "expired", outcome
    assert all(0 < t < GRACE + 3 for _, t in outcome.values()), outcome
    assert sale.ledger.learned[victims["committed"]["hold_id"]] == "confirmed"


def test_redis_flushall_mid_sale(redis_server: RedisServer, database_url: str) -> None:
    """Redis loses every hold, view and stream at once: views rebuild under a new epoch
    from PostgreSQL, clients resync, nothing confirmed is lost."""
    run_case("redis-flushall", database_url, redis_server,
             lambda sale: redis_server.flushall())


def test_redis_restart_mid_sale(redis_server: RedisServer, database_url: str) -> None:
    """Redis dies (connections drop, memory lost) and comes back a second later."""
    async def fault(sale: Sale) -> None:
        redis_server.kill()
        await asyncio.sleep(1)
        await asyncio.to_thread(redis_server.start)

    run_case("redis-restart", database_url, redis_server, fault)


def test_postgres_restart_mid_sale(redis_server: RedisServer, pg_server: PgServer) -> None:
    """PostgreSQL crashes (immediate stop: WAL recovery on start) and is back 1.5 s later;
    confirms in flight fail cleanly or commit, and every buyer learns which."""
    database_url = fresh_database(pg_server.url("evently_chaos"))

    async def fault(sale: Sale) -> None:
        await asyncio.to_thread(pg_server.crash)
        await asyncio.sleep(1.5)
        await asyncio.to_thread(pg_server.start)

    run_case("postgres-restart", database_url, redis_server, fault)


def test_redis_pubsub_connections_dropped(redis_server: RedisServer,
                                          database_url: str) -> None:
    """The hubs' pub/sub connections are killed (Redis keeps its data) and a seat changes before
    they are back, after the sale went quiet: no later delta reveals the gap, so the hubs must
    notice the reconnect themselves and resynchronise their sessions."""
    async def drop_and_change(sale: Sale) -> None:
        import redis.asyncio as aioredis

        from hub.ports import HoldRequest
        from storage.seatview import RedisSeatView

        client = aioredis.Redis.from_url(redis_server.url)
        try:
            view = RedisSeatView(client)
            snap = await view.snapshot(sale.event_id)
            killed = await client.client_kill_filter(_type="pubsub")
            await view.hold(HoldRequest(
                event_id=sale.event_id, user_id=1, token="chaos-pubsub-drop", now_ms=int(
                    time.time() * 1000), ttl_ms=60_000, max_held=10, seat_ids=(snap.available[0],),
                qty=0, lifetime_ms=60_000, reserved_for=0))
            sale.notes["pubsub"] = f"{killed} connections killed"
        finally:
            await client.aclose()

    # A venue the six-second sale cannot sell out even on a quiet machine: the change after the
    # drop needs a seat still on sale.
    run_case("redis-pubsub-drop", database_url, redis_server, lambda sale: None,
             capacity=10_000, after=drop_and_change)
