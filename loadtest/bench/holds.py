"""Benchmark (a): holds per second over WebSocket vs the same Lua hold script called directly.

    uv run python -m loadtest.bench.holds --host http://127.0.0.1:8400 --concurrency 16 \\
        --duration 10

Both sides run ``--concurrency`` loops for ``--duration`` s (in ``--repeats`` alternating
raw/hub slices, so both see the same background load), each loop taking a one-seat hold on
its own seat and releasing it (hold → release → hold …), so no loop ever loses a race:

- **hub**: one WebSocket session per loop, each a different prepared account
  (``LT_TOKENS_FILE``), ``{"op": "hold"}`` then ``{"op": "release"}`` on a fresh event.
- **raw**: ``storage/lua/hold.lua`` and ``release.lua`` (with ``_lib.lua`` prepended, exactly as
  ``storage.seatview`` loads them) called with EVALSHA from one ``redis.asyncio`` client on
  ``REDIS_URL``, against a synthetic event view built by ``load.lua`` under an id no real event
  has, deleted afterwards.

Printed: holds/s and hold latency p50/p99 (ms, client-measured) for each side, and hub ÷ raw.
Run the hub with ``RATE_LIMIT_ENABLED=false``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid

import redis.asyncio as aioredis

from loadtest.bench.common import print_table, ratio, summarize_ms
from loadtest.bench.hubsetup import available_seats, create_event, tokens
from loadtest.bench.wsrpc import open_rpc
from loadtest.wsclient import ws_url
from storage.keys import event_meta, event_pattern
from storage.seatview import script_source

__all__ = ["main"]

RAW_EVENT_BASE = 1_900_000_000  # far above any real event id


def _run(coro):  # type: ignore[no-untyped-def]
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


async def bench_hub(host: str, concurrency: int, duration: float) -> tuple[int, list[float], int]:
    """Returns (holds, hold latencies ms, errors)."""
    file = tokens()
    if len(file.users) < concurrency:
        raise SystemExit(f"need {concurrency} prepared accounts, have {len(file.users)}")
    assert file.admin is not None
    event = create_event(host, file.admin, f"holds bench {int(time.time())}", concurrency)
    seats = available_seats(host, event["id"])
    rpcs = [await open_rpc(ws_url(host), u.access_token) for u in file.users[:concurrency]]
    lat: list[float] = []
    holds = errors = 0
    end = time.monotonic() + duration

    async def loop(i: int) -> None:
        nonlocal holds, errors
        rpc = rpcs[i]
        while time.monotonic() < end:
            t0 = time.perf_counter()
            reply = await rpc.call("hold", event_id=event["id"], seat_ids=[seats[i]])
            if reply.get("type") != "ok":
                errors += 1
                await asyncio.sleep(0.01)
                continue
            lat.append((time.perf_counter() - t0) * 1000)
            holds += 1
            await rpc.call("release", hold_id=reply["hold_id"])

    await asyncio.gather(*(loop(i) for i in range(concurrency)))
    for rpc in rpcs:
        await rpc.close()
    return holds, lat, errors


async def bench_raw(
    redis_url: str, concurrency: int, duration: float
) -> tuple[int, list[float], int]:
    r = aioredis.Redis.from_url(redis_url, max_connections=concurrency + 4)
    event_id = RAW_EVENT_BASE + os.getpid() % 100_000
    key = event_meta(event_id)
    hold, release, load = (r.register_script(script_source(n)) for n in ("hold", "release", "load"))
    args: list[object] = [event_id, 1, 1, 300_000, concurrency]
    for i in range(concurrency):
        args += [i + 1, i, f"R{i + 1}"]
    await load(keys=[key], args=args)
    lat: list[float] = []
    holds = errors = 0
    end = time.monotonic() + duration

    async def loop(i: int) -> None:
        nonlocal holds, errors
        user, seat = 1_000_000 + i, i + 1
        while time.monotonic() < end:
            tok = uuid.uuid4().hex
            now = int(time.time() * 1000)
            t0 = time.perf_counter()
            # ARGV as storage.seatview.RedisSeatView.hold sends it.
            reply = await hold(
                keys=[key], args=[event_id, user, tok, now, 0, 10, 0, 1_800_000, 0, seat]
            )
            if reply[0] == b"ERR":
                errors += 1
                continue
            lat.append((time.perf_counter() - t0) * 1000)
            holds += 1
            await release(keys=[key], args=[event_id, tok, user, int(time.time() * 1000)])

    try:
        await asyncio.gather(*(loop(i) for i in range(concurrency)))
    finally:
        stale = [k async for k in r.scan_iter(match=event_pattern(event_id), count=1000)]
        if stale:
            await r.delete(*stale)
        await r.aclose()
    return holds, lat, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="http://127.0.0.1:8400", help="hub base URL")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL"),
        help="the hub's Redis (default: $REDIS_URL)",
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per side")
    parser.add_argument(
        "--repeats", type=int, default=3, help="alternating raw/hub slices the duration is cut into"
    )
    args = parser.parse_args(argv)
    if not args.redis_url:
        parser.error("--redis-url or REDIS_URL is required for the raw side")
    host = args.host.rstrip("/")

    # Alternate short raw and hub slices so both sides see the same background load.
    raw_holds = hub_holds = raw_err = hub_err = 0
    raw_lat: list[float] = []
    hub_lat: list[float] = []
    slice_s = args.duration / args.repeats
    for _ in range(args.repeats):
        n, lat, err = _run(bench_raw(args.redis_url, args.concurrency, slice_s))
        raw_holds, raw_err = raw_holds + n, raw_err + err
        raw_lat += lat
        n, lat, err = _run(bench_hub(host, args.concurrency, slice_s))
        hub_holds, hub_err = hub_holds + n, hub_err + err
        hub_lat += lat
    raw_rate, hub_rate = raw_holds / args.duration, hub_holds / args.duration
    raw_s, hub_s = summarize_ms(raw_lat), summarize_ms(hub_lat)
    print(f"\nholds, {args.concurrency} concurrent hold→release loops, {args.duration:g} s each\n")
    print_table(
        ["figure", "hub (WebSocket)", "raw (Lua via redis.asyncio)", "hub ÷ raw"],
        [
            ["holds/s", hub_rate, raw_rate, ratio(hub_rate, raw_rate)],
            ["hold p50 ms", hub_s["p50"], raw_s["p50"], ratio(hub_s["p50"], raw_s["p50"])],
            ["hold p99 ms", hub_s["p99"], raw_s["p99"], ratio(hub_s["p99"], raw_s["p99"])],
            ["errors", hub_err, raw_err, ""],
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
