"""Benchmark: PostgreSQL confirms/s through PgBouncer (transaction pooling) vs direct, with 8
hub processes.

    uv run python -m loadtest.bench.pgbouncer --processes 8 --concurrency 16 --seconds 4 \\
        --rounds 2

Starts its own primary (and replica) and PgBouncer on free ports (``tests.support.pgtopology``:
the machine's PostgreSQL 15 binaries and Debian's ``pgbouncer``), migrates, and inserts one
event with enough seats. Each "hub process" is an OS process with the hub's storage
configuration (``storage.db.Database`` with ``DB_POOL_SIZE``-sized pool, 10) running
``storage.bookings.PgBookings.confirm`` (the hub's confirm: one ``evently_confirm()`` call;
inside ``BEGIN … COMMIT`` through PgBouncer) from ``--concurrency`` coroutines, each confirming
one fresh seat after another for ``--seconds``. Rounds alternate direct, PgBouncer, direct …
so both see the same background load. The HTTP/WebSocket and Redis parts of a confirm are
left out on purpose: they do not change with the PostgreSQL path (see ``confirms.py``).

Printed: confirms/s, latency p50/p99 (ms) and the peak PostgreSQL backends serving the test
database per side, and PgBouncer ÷ direct.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg

from loadtest.bench.common import print_table, ratio, summarize_ms

__all__ = ["main"]


def _worker(url: str, pgbouncer: bool, event_id: int, user_id: int, seats: list[int],
            concurrency: int, barrier: Any, seconds: float, out: Any) -> None:
    """One hub process: confirms from ``concurrency`` coroutines once every process is ready
    (``barrier``); puts ``(count, latencies ms, start, end)`` (wall-clock seconds)."""
    import uvloop

    from hub.ports import ConfirmCommand
    from storage.bookings import PgBookings
    from storage.db import Database

    async def run() -> tuple[int, list[float], float, float]:
        db = Database(url, 10, pgbouncer=pgbouncer)
        store = PgBookings(db)
        lat: list[float] = []
        queue = list(reversed(seats))
        async with db.engine.connect():  # warm one connection before the clock starts
            pass
        await asyncio.to_thread(barrier.wait)
        began = time.time()
        stop = time.monotonic() + seconds

        async def loop(k: int) -> None:
            while time.monotonic() < stop and queue:
                seat = queue.pop()
                t0 = time.perf_counter()
                await store.confirm(ConfirmCommand(event_id, user_id, f"b.{seat}", [seat], 1,
                                                   datetime.now(UTC)))
                lat.append((time.perf_counter() - t0) * 1000)

        await asyncio.gather(*(loop(k) for k in range(concurrency)))
        ended = time.time()
        await db.close()
        return len(lat), lat, began, ended

    out.put(uvloop.run(run()))


async def _prepare(primary: str, seats: int) -> tuple[int, int, list[int]]:
    conn = await asyncpg.connect(primary)
    try:
        user = await conn.fetchval(
            "INSERT INTO users (name, email, password_hash, role) "
            "VALUES ('bench', 'bench@example.test', 'x', 'user') RETURNING id")
        event = await conn.fetchval(
            "INSERT INTO events (name, venue, start_time, end_time, status, hold_ttl_seconds,"
            " waitlist_offer_seconds, auto_promote, view_epoch)"
            " VALUES ('Bench', 'Hall', now() + interval '10 days',"
            " now() + interval '10 days 2 hours', 'active', 600, 300, false, 0) RETURNING id")
        ids = [r[0] for r in await conn.fetch(
            "INSERT INTO seats (event_id, section, row, number, label, rank, fence)"
            " SELECT $1, 'Floor', 'A', n, 'A-' || n, n, 0 FROM generate_series(1, $2) n"
            " RETURNING id", event, seats)]
        return int(user), int(event), sorted(int(i) for i in ids)
    finally:
        await conn.close()


async def _backends(primary: str) -> int:
    conn = await asyncpg.connect(primary)
    try:
        return int(await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"))
    finally:
        await conn.close()


def _round(url: str, pgbouncer: bool, primary: str, event: int, user: int,
           seats: list[int], args: argparse.Namespace,
           ) -> tuple[int, float, list[float], int]:
    """One round: ``(confirms, wall seconds from first start to last end, latencies, peak
    backends)``."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    n = args.processes
    barrier = ctx.Barrier(n + 1)
    procs = [ctx.Process(target=_worker, args=(url, pgbouncer, event, user, seats[i::n],
                                               args.concurrency, barrier, args.seconds, out))
             for i in range(n)]
    for p in procs:
        p.start()
    barrier.wait(timeout=120)
    peak = 0
    stop = time.monotonic() + args.seconds * 0.9
    while time.monotonic() < stop:
        peak = max(peak, asyncio.run(_backends(primary)))
        time.sleep(0.2)
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    wall = max(r[3] for r in results) - min(r[2] for r in results)
    return sum(r[0] for r in results), wall, [x for r in results for x in r[1]], peak


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its table (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pool", type=int, default=8, help="PgBouncer default_pool_size")
    args = parser.parse_args(argv)

    from storage.migrate import upgrade
    from tests.support.pgtopology import start_topology

    topo = start_topology(pool_size=args.pool)
    try:
        a = lambda u: u.replace("postgresql://", "postgresql+asyncpg://", 1)  # noqa: E731
        upgrade(a(topo.primary_url))
        per_round = 2500 * args.processes
        user, event, seats = asyncio.run(
            _prepare(topo.primary_url, per_round * args.rounds * 2))
        totals: dict[str, list[Any]] = {"direct": [0, 0.0, [], 0], "pgbouncer": [0, 0.0, [], 0]}
        chunk = 0
        for _ in range(args.rounds):
            for side, url, bouncer in (("direct", topo.primary_url, False),
                                       ("pgbouncer", topo.bouncer_url, True)):
                mine = seats[chunk * per_round:(chunk + 1) * per_round]
                chunk += 1
                n, wall, lat, peak = _round(a(url), bouncer, topo.primary_url, event, user,
                                            mine, args)
                t = totals[side]
                t[0] += n
                t[1] += wall
                t[2] += lat
                t[3] = max(t[3], peak)
                print(f"{side}: {n / wall:,.1f} confirms/s ({peak} backends)", flush=True)
        rows = []
        rate = {}
        for side, (n, secs, lat, peak) in totals.items():
            s = summarize_ms(lat)
            rate[side] = n / secs
            rows.append([side, rate[side], s["p50"], s["p99"], peak])
        print(f"\n{args.processes} processes × {args.concurrency} concurrent confirms, "
              f"pool 10 per process; PgBouncer default_pool_size {args.pool}\n")
        print_table(["path", "confirms/s", "p50 ms", "p99 ms", "PostgreSQL backends (peak)"],
                    rows)
        print(f"\nPgBouncer ÷ direct: {ratio(rate['pgbouncer'], rate['direct'])}")
    finally:
        topo.stop()


if __name__ == "__main__":
    main()
