"""Benchmark (c): fan-out of deltas to 1,000 / 5,000 subscribers, hub vs a bare broadcast server.

    uv run python -m loadtest.bench.fanout --target both --host http://127.0.0.1:8400 \\
        --subscribers 1000 --duration 10

Subscribers are asyncio ``websockets`` clients spread over ``--procs`` processes; each subscribes
to one event and records, for every delta it receives, ``lag = receive time − delta.ts`` (ms, both
epoch ms on this machine). A driver makes the changes: against the hub, ``--lanes`` sequential
hold → release loops over WebSocket on distinct seats (one delta per op, one prepared account from
``LT_TOKENS_FILE``; run the hub with ``RATE_LIMIT_ENABLED=false``); against the raw server
(``loadtest.bench.raw_broadcast``, started here on a free port), ``publish`` ops. Both are paced
to ``--rate`` deltas/s in total (default: 20,000 deliveries/s ÷ subscribers), or run closed-loop
as fast as replies come back with ``--rate 0``.

Reported per target: deltas published, deliveries received / expected, deliveries per second
(received ÷ time from first publish to last receipt), lag p50/p90/p99/max (ms), sessions the
server closed. With ``--target both`` a last table gives hub ÷ raw. The machine has 2 cores:
subscriber processes compete with the server, so the raw figure is "this machine with these
clients", not the library's ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import subprocess
import sys
import time
from array import array
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from loadtest.accounts import read_token_file
from loadtest.bench.common import (
    free_port,
    print_table,
    raise_nofile,
    ratio,
    summarize_ms,
)
from loadtest.bench.wsrpc import open_rpc
from loadtest.config import load_settings
from loadtest.wsclient import ws_url

__all__ = ["FanoutResult", "main", "run_fanout", "subscriber_process"]


def _run_loop(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


# -- subscriber processes ----------------------------------------------------------------------


async def _subscribers(url: str, event_id: int, count: int, pipe: Any, connect_parallel: int):
    lags = array("d")
    stats = {"delivered": 0, "first": 0.0, "last": 0.0, "closed": 0, "ready": 0}
    sem = asyncio.Semaphore(connect_parallel)
    conns = []
    stop = asyncio.Event()

    async def one() -> None:
        async with sem:
            try:
                ws = await connect(
                    url, compression=None, max_size=2**23, open_timeout=60, ping_interval=None
                )
            except Exception:
                stats["closed"] += 1
                return
            conns.append(ws)
            if event_id >= 0:  # a negative id means: connect only (memory benchmark)
                await ws.send(orjson.dumps({"op": "subscribe", "event_id": event_id, "ref": 1}))
            stats["ready"] += 1
        try:
            async for raw in ws:
                now = time.time() * 1000.0
                data = orjson.loads(raw)
                for msg in data if isinstance(data, list) else (data,):
                    if msg.get("type") == "delta" and "ts" in msg:
                        lags.append(now - msg["ts"])
                        stats["delivered"] += 1
                        if not stats["first"]:
                            stats["first"] = now
                        stats["last"] = now
        except ConnectionClosed:
            if not stop.is_set():
                stats["closed"] += 1

    tasks = [asyncio.create_task(one()) for _ in range(count)]
    loop = asyncio.get_running_loop()
    while stats["ready"] + stats["closed"] < count:
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # let snapshots land before the clock starts
    pipe.send(("ready", stats["ready"]))
    await loop.run_in_executor(None, pipe.recv)  # "stop"
    # Drain: wait until nothing has arrived for 1 s (at most 20 s).
    deadline = time.monotonic() + 20
    seen = -1
    while time.monotonic() < deadline and seen != stats["delivered"]:
        seen = stats["delivered"]
        await asyncio.sleep(1.0)
    stop.set()
    pipe.send(("result", dict(stats), lags.tobytes()))
    for ws in conns:
        await ws.close()
    for t in tasks:
        t.cancel()


def subscriber_process(url: str, event_id: int, count: int, pipe: Any, connect_parallel: int):
    raise_nofile(count + 256)
    _run_loop(_subscribers(url, event_id, count, pipe, connect_parallel))


# -- drivers -----------------------------------------------------------------------------------


async def _drive(
    target: str,
    url: str,
    event_id: int,
    seats: list[int],
    token: str | None,
    rate: float,
    duration: float,
    lanes: int,
) -> tuple[int, float, int]:
    """Make changes for ``duration`` s.

    Returns:
        (deltas published, first publish as epoch ms, driver errors).
    """
    rpc = await open_rpc(url, token)
    published = errors = 0
    first = time.time() * 1000.0
    end = time.monotonic() + duration
    interval = lanes / rate if rate > 0 else 0.0

    async def lane(seat: int, offset: float) -> None:
        nonlocal published, errors
        next_at = time.monotonic() + offset
        while time.monotonic() < end:
            if interval:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
            if target == "raw":
                reply = await rpc.call("publish", event_id=event_id, seat_id=seat, status="held")
                published += reply.get("type") == "ok"
                continue
            reply = await rpc.call("hold", event_id=event_id, seat_ids=[seat])
            if reply.get("type") != "ok":
                errors += 1
                await asyncio.sleep(0.05)
                continue
            published += 1
            if interval:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
            reply = await rpc.call("release", hold_id=reply["hold_id"])
            published += reply.get("type") == "ok"

    await asyncio.gather(*(lane(s, i * interval / lanes) for i, s in enumerate(seats[:lanes])))
    await rpc.close()
    return published, first, errors


# -- orchestration -----------------------------------------------------------------------------


@dataclass
class FanoutResult:
    target: str
    subscribers: int
    connected: int
    rate: float
    published: int
    driver_errors: int
    delivered: int
    per_second: float
    lag: dict[str, float]
    closed: int

    @property
    def expected(self) -> int:
        return self.published * self.connected


def run_fanout(
    target: str,
    url: str,
    event_id: int,
    subscribers: int,
    procs: int,
    rate: float,
    duration: float,
    lanes: int,
    seats: list[int],
    token: str | None,
) -> FanoutResult:
    ctx = mp.get_context("spawn")
    children = []
    per = [subscribers // procs + (1 if i < subscribers % procs else 0) for i in range(procs)]
    for n in per:
        parent, child = ctx.Pipe()
        p = ctx.Process(target=subscriber_process, args=(url, event_id, n, child, 100), daemon=True)
        p.start()
        children.append((p, parent))
    connected = sum(parent.recv()[1] for _, parent in children)
    print(f"  {target}: {connected}/{subscribers} subscribers ready", file=sys.stderr)
    published, first, errors = _run_loop(
        _drive(target, url, event_id, seats, token, rate, duration, lanes)
    )
    delivered, last, closed = 0, 0.0, 0
    lags = array("d")
    for _, parent in children:
        parent.send("stop")
    for p, parent in children:
        _, stats, raw = parent.recv()
        delivered += stats["delivered"]
        last = max(last, stats["last"])
        closed += stats["closed"]
        lags.frombytes(raw)
        p.join(timeout=30)
        if p.is_alive():
            p.kill()
    elapsed_s = max(1e-3, (last - first) / 1000.0)
    return FanoutResult(
        target,
        subscribers,
        connected,
        rate,
        published,
        errors,
        delivered,
        delivered / elapsed_s if delivered else 0.0,
        summarize_ms(lags),
        closed,
    )


def _hub_inputs(host: str, event_id: int | None, lanes: int) -> tuple[int, list[int], str]:
    settings = load_settings()
    event_id = event_id if event_id is not None else settings.resolve_event_id()
    token = read_token_file(settings.tokens_file).users[0].access_token
    body = httpx.get(f"{host}/events/{event_id}/seats", timeout=30).json()
    seats = [s["id"] for s in body["seats"] if s["status"] == "available"][:lanes]
    if len(seats) < lanes:
        raise SystemExit(
            f"event {event_id} has only {len(seats)} available seats for {lanes} lanes"
        )
    return event_id, seats, token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", choices=["hub", "raw", "both"], default="both")
    parser.add_argument("--host", default="http://127.0.0.1:8400", help="hub base URL")
    parser.add_argument("--event", type=int, help="hub event id (default: LT event file)")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--procs", type=int, default=2, help="subscriber processes")
    parser.add_argument("--rate", type=float, help="deltas/s in total; 0 = closed loop")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of publishing")
    parser.add_argument("--lanes", type=int, default=4, help="concurrent change loops (≤ 10)")
    args = parser.parse_args(argv)
    rate = args.rate if args.rate is not None else 20_000 / args.subscribers
    raise_nofile(args.subscribers + 1024)

    results: list[FanoutResult] = []
    if args.target in ("raw", "both"):
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "loadtest.bench.raw_broadcast", "--port", str(port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            server.stdout.readline()  # "ready"
            results.append(
                run_fanout(
                    "raw",
                    f"ws://127.0.0.1:{port}/",
                    1,
                    args.subscribers,
                    args.procs,
                    rate,
                    args.duration,
                    args.lanes,
                    list(range(1, args.lanes + 1)),
                    None,
                )
            )
        finally:
            server.terminate()
            server.wait(timeout=10)
    if args.target in ("hub", "both"):
        host = args.host.rstrip("/")
        event_id, seats, token = _hub_inputs(host, args.event, args.lanes)
        results.append(
            run_fanout(
                "hub",
                ws_url(host),
                event_id,
                args.subscribers,
                args.procs,
                rate,
                args.duration,
                args.lanes,
                seats,
                token,
            )
        )

    print(
        f"\nfan-out, {args.subscribers} subscribers, "
        f"{'closed loop' if not rate else f'{rate:g} deltas/s offered'}, {args.duration:g} s\n"
    )
    print_table(
        [
            "target",
            "subs",
            "deltas",
            "delivered/expected",
            "deliveries/s",
            "lag p50 ms",
            "p90",
            "p99",
            "max",
            "closed",
            "driver errors",
        ],
        [
            [
                r.target,
                r.connected,
                r.published,
                f"{r.delivered:,}/{r.expected:,}",
                r.per_second,
                r.lag["p50"],
                r.lag["p90"],
                r.lag["p99"],
                r.lag["max"],
                r.closed,
                r.driver_errors,
            ]
            for r in results
        ],
    )
    by = {r.target: r for r in results}
    if "hub" in by and "raw" in by:
        hub, raw = by["hub"], by["raw"]
        print()
        print_table(
            ["figure", "hub", "raw", "hub ÷ raw"],
            [
                [
                    "deliveries/s",
                    hub.per_second,
                    raw.per_second,
                    ratio(hub.per_second, raw.per_second),
                ],
                [
                    "lag p99 ms",
                    hub.lag["p99"],
                    raw.lag["p99"],
                    ratio(hub.lag["p99"], raw.lag["p99"]),
                ],
            ],
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
