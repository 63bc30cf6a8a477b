"""Benchmark (b): confirms per second over WebSocket vs a bare asyncpg transaction, same SQL.

    uv run python -m loadtest.bench.confirms --host http://127.0.0.1:8400 --concurrency 16 \\
        --rounds 5

Both sides run ``--rounds`` rounds (alternating raw, hub, raw …, so both see the same background
load) of ``--concurrency`` concurrent workers; in each round every worker confirms
``--per-round`` one-seat bookings one after another. Only the confirm phase is
timed; confirms/s = confirms ÷ summed confirm-phase seconds.

- **hub**: one WebSocket session per worker, each a different prepared account
  (``LT_TOKENS_FILE``; ``--per-round`` ≤ ``MAX_HELD_SEATS_PER_USER``). Untimed, each session
  holds its round's seats; timed, it sends ``{"op": "confirm"}`` for each hold. Includes
  everything a confirm costs: idempotency, the Lua lease check, the transaction, the publish.
- **raw**: one asyncpg connection per worker on ``DATABASE_URL`` running, in one transaction,
  the statements ``storage.bookings.PgBookings.confirm`` issues (event status; seat rows
  ``FOR UPDATE`` in id order; active ``booking_seats`` check; ``INSERT`` booking; ``INSERT``
  booking seat; ``UPDATE`` seat fence) on the seats of a second fresh event. Its bookings are
  deleted afterwards, so PostgreSQL and the Redis view agree again (``evently verify`` stays clean).

Printed: confirms/s and confirm latency p50/p99 (ms) per side, and hub ÷ raw.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from datetime import UTC, datetime

import asyncpg

from loadtest.bench.common import print_table, ratio, summarize_ms
from loadtest.bench.hubsetup import available_seats, create_event, tokens
from loadtest.bench.wsrpc import open_rpc
from loadtest.wsclient import ws_url

__all__ = ["RAW_CONFIRM_SQL", "main"]

# The statements of storage.bookings.PgBookings.confirm, in order, as plain SQL.
RAW_CONFIRM_SQL = {
    "status": "SELECT status FROM events WHERE id = $1",
    "lock": (
        "SELECT id, fence, label FROM seats WHERE id = ANY($1::bigint[]) AND event_id = $2 "
        "ORDER BY id FOR UPDATE"
    ),
    "taken": "SELECT seat_id FROM booking_seats WHERE seat_id = ANY($1::bigint[]) AND active",
    "booking": (
        "INSERT INTO bookings (event_id, user_id, status, hold_id, fence, guest_name, "
        "guest_email, created_at) VALUES ($1, $2, 'CONFIRMED', $3, $4, NULL, NULL, $5) "
        "RETURNING id"
    ),
    "seat": (
        "INSERT INTO booking_seats (booking_id, seat_id, event_id, active) "
        "VALUES ($1, $2, $3, true)"
    ),
    "fence": "UPDATE seats SET fence = $1 WHERE id = ANY($2::bigint[])",
}


def _run(coro):  # type: ignore[no-untyped-def]
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def _pg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def bench_hub(
    host: str, workers: int, per_round: int, rounds: int
) -> tuple[int, float, list[float], int]:
    """Returns (confirms, timed seconds, latencies ms, errors)."""
    file = tokens()
    if len(file.users) < workers:
        raise SystemExit(f"need {workers} prepared accounts, have {len(file.users)}")
    assert file.admin is not None
    need = workers * per_round * rounds
    event = create_event(host, file.admin, f"confirms bench hub {int(time.time())}", need)
    seats = available_seats(host, event["id"])
    rpcs = [await open_rpc(ws_url(host), u.access_token) for u in file.users[:workers]]
    lat: list[float] = []
    confirms = errors = 0
    timed = 0.0
    for rnd in range(rounds):
        holds: list[list[str]] = [[] for _ in range(workers)]

        async def take(w: int, rnd: int = rnd, holds: list[list[str]] = holds) -> None:
            base = (rnd * workers + w) * per_round
            for seat in seats[base : base + per_round]:
                reply = await rpcs[w].call("hold", event_id=event["id"], seat_ids=[seat])
                if reply.get("type") == "ok":
                    holds[w].append(reply["hold_id"])

        await asyncio.gather(*(take(w) for w in range(workers)))

        async def confirm(w: int, holds: list[list[str]] = holds) -> None:
            nonlocal confirms, errors
            for hold_id in holds[w]:
                t0 = time.perf_counter()
                reply = await rpcs[w].call(
                    "confirm", hold_id=hold_id, idempotency_key=uuid.uuid4().hex
                )
                if reply.get("type") == "ok":
                    lat.append((time.perf_counter() - t0) * 1000)
                    confirms += 1
                else:
                    errors += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(confirm(w) for w in range(workers)))
        timed += time.perf_counter() - t0
    for rpc in rpcs:
        await rpc.close()
    return confirms, timed, lat, errors


async def bench_raw(
    host: str, database_url: str, workers: int, per_round: int, rounds: int
) -> tuple[int, float, list[float], int]:
    file = tokens()
    assert file.admin is not None
    need = workers * per_round * rounds
    event = create_event(host, file.admin, f"confirms bench raw {int(time.time())}", need)
    event_id = int(event["id"])
    seats = available_seats(host, event_id)
    user_ids = [u.user_id or 1 for u in file.users] or [1]
    conns = [await asyncpg.connect(_pg_dsn(database_url)) for _ in range(workers)]
    lat: list[float] = []
    confirms = errors = 0
    timed = 0.0
    fence = 1 << 40

    async def one(conn: asyncpg.Connection, seat: int, user_id: int) -> bool:
        ids = [seat]
        async with conn.transaction():
            if await conn.fetchval(RAW_CONFIRM_SQL["status"], event_id) != "active":
                return False
            rows = await conn.fetch(RAW_CONFIRM_SQL["lock"], ids, event_id)
            if len(rows) != len(ids) or any(r["fence"] > fence for r in rows):
                return False
            if await conn.fetch(RAW_CONFIRM_SQL["taken"], ids):
                return False
            booking_id = await conn.fetchval(
                RAW_CONFIRM_SQL["booking"],
                event_id,
                user_id,
                uuid.uuid4().hex,
                fence,
                datetime.now(UTC),
            )
            await conn.executemany(
                RAW_CONFIRM_SQL["seat"], [(booking_id, s, event_id) for s in ids]
            )
            await conn.execute(RAW_CONFIRM_SQL["fence"], fence, ids)
        return True

    try:
        for rnd in range(rounds):

            async def worker(w: int, rnd: int = rnd) -> None:
                nonlocal confirms, errors
                base = (rnd * workers + w) * per_round
                for seat in seats[base : base + per_round]:
                    t0 = time.perf_counter()
                    if await one(conns[w], seat, user_ids[w % len(user_ids)]):
                        lat.append((time.perf_counter() - t0) * 1000)
                        confirms += 1
                    else:
                        errors += 1

            t0 = time.perf_counter()
            await asyncio.gather(*(worker(w) for w in range(workers)))
            timed += time.perf_counter() - t0
    finally:
        async with conns[0].transaction():
            await conns[0].execute("DELETE FROM booking_seats WHERE event_id = $1", event_id)
            await conns[0].execute("DELETE FROM bookings WHERE event_id = $1", event_id)
            await conns[0].execute("UPDATE seats SET fence = 0 WHERE event_id = $1", event_id)
        for conn in conns:
            await conn.close()
    return confirms, timed, lat, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="http://127.0.0.1:8400", help="hub base URL")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="the hub's PostgreSQL (default: $DATABASE_URL)",
    )
    parser.add_argument("--concurrency", type=int, default=16, help="workers per side")
    parser.add_argument("--per-round", type=int, default=10, help="confirms per worker per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url or DATABASE_URL is required for the raw side")
    host = args.host.rstrip("/")

    # Alternate raw and hub, one round at a time, so both see the same background load.
    raw: tuple[int, float, list[float], int] = (0, 0.0, [], 0)
    hub: tuple[int, float, list[float], int] = (0, 0.0, [], 0)
    for _ in range(args.rounds):
        r = _run(bench_raw(host, args.database_url, args.concurrency, args.per_round, 1))
        raw = (raw[0] + r[0], raw[1] + r[1], raw[2] + r[2], raw[3] + r[3])
        h = _run(bench_hub(host, args.concurrency, args.per_round, 1))
        hub = (hub[0] + h[0], hub[1] + h[1], hub[2] + h[2], hub[3] + h[3])
    raw_rate, hub_rate = raw[0] / raw[1], hub[0] / hub[1]
    raw_s, hub_s = summarize_ms(raw[2]), summarize_ms(hub[2])
    print(
        f"\nconfirms, {args.concurrency} workers × {args.per_round} one-seat confirms × "
        f"{args.rounds} rounds\n"
    )
    print_table(
        ["figure", "hub (WebSocket)", "raw (asyncpg, same SQL)", "hub ÷ raw"],
        [
            ["confirms/s", hub_rate, raw_rate, ratio(hub_rate, raw_rate)],
            ["confirm p50 ms", hub_s["p50"], raw_s["p50"], ratio(hub_s["p50"], raw_s["p50"])],
            ["confirm p99 ms", hub_s["p99"], raw_s["p99"], ratio(hub_s["p99"], raw_s["p99"])],
            ["confirms (errors)", f"{hub[0]} ({hub[3]})", f"{raw[0]} ({raw[3]})", ""],
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
