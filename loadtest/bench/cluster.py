"""Benchmark: Redis Cluster (3 masters + 3 replicas) vs one Redis, same load, same run.

    uv run python -m loadtest.bench.cluster --duration 8 --concurrency 16 --events 12

Starts its own servers on free local ports (Debian's ``redis-server``; the cluster as the test
tier's fixture builds it), then runs the same load in three modes:

- ``single``: one Redis, plain ``PUBLISH``/``SUBSCRIBE`` (the default deployment);
- ``cluster-plain``: the cluster with plain ``PUBLISH`` in the scripts, each subscriber process
  on one (any) node: every message is rebroadcast to every node over the cluster bus;
- ``cluster-sharded``: the cluster with ``SPUBLISH`` and :class:`ShardedChannels` (one
  connection per shard per process), as ``REDIS_CLUSTER=true`` runs.

Load: ``--concurrency`` loops taking a one-seat hold and releasing it through the real
:class:`storage.seatview.RedisSeatView`, on ``--events`` events spread over the shards (every
hold and release publishes one delta). ``--subscribers`` processes (hubs) subscribe to every
event and measure each delta's lag (receive time − the script's ``ts``).

Printed: holds/s, deliveries/s (all subscribers), lag p50/p99 (ms), and per node the cluster
bus publish messages received (``CLUSTER INFO``: ``cluster_stats_messages_publish_received`` +
``publishshard``) and the ``INFO stats`` output bytes: the cross-node traffic sharding removes.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis

from hub.ports import HoldRequest
from loadtest.bench.common import print_table, ratio, summarize_ms
from storage.pubsub import RedisChannels
from storage.redis_conn import connect
from storage.seatview import RedisSeatView, script_source
from storage.sharded_pubsub import ShardedChannels
from tests.support.cluster import _tool, start_cluster
from tests.support.seats import source
from tests.support.servers import free_port

__all__ = ["main"]

EVENT_BASE = 1_950_000_000


def _subscriber(mode: str, url: str, events: list[int], seconds: float, out: Any,
                ready: Any) -> None:
    """One "hub process": subscribe to every event, record lags until ``seconds`` pass."""
    async def run() -> None:
        lags: list[float] = []

        def on_event(data: bytes) -> None:
            msg = orjson.loads(data)
            if msg.get("type") == "delta":
                lags.append(time.time() * 1000 - msg["ts"])

        client: Any
        if mode == "cluster-sharded":
            client = connect(url, True, 8)
            drv: Any = ShardedChannels(client, on_event, lambda u, d: None)
        else:
            client = aioredis.Redis.from_url(url)
            drv = RedisChannels(client, on_event, lambda u, d: None)
        await drv.start()
        for e in events:
            await drv.subscribe_event(e)
        ready.put(1)
        await asyncio.sleep(seconds)
        await drv.stop()
        await client.aclose()
        out.put((len(lags), lags))

    asyncio.run(run())


async def _load(client: Any, sharded: bool, events: list[int], concurrency: int,
                duration: float) -> int:
    view = RedisSeatView(client)
    view._scripts = {n: client.register_script(script_source(n, sharded))
                     for n in RedisSeatView.SCRIPTS}
    for e in events:
        await view.load(source(concurrency, event_id=e), int(time.time() * 1000))
    holds = 0
    end = time.monotonic() + duration

    async def loop(i: int) -> None:
        nonlocal holds
        seat, user = i + 1, 1_000_000 + i
        while time.monotonic() < end:
            e = events[(holds + i) % len(events)]
            tok = uuid.uuid4().hex
            now = int(time.time() * 1000)
            await view.hold(HoldRequest(event_id=e, user_id=user, token=tok, now_ms=now,
                                        ttl_ms=60_000, max_held=10, qty=0,
                                        lifetime_ms=1_800_000, reserved_for=0,
                                        seat_ids=(seat,)))
            holds += 1
            await view.release(e, tok, user, int(time.time() * 1000))

    await asyncio.gather(*(loop(i) for i in range(concurrency)))
    return holds


def _node_stats(ports: list[int]) -> dict[int, tuple[int, int, float]]:
    """Per node: (cluster bus publish messages received, INFO stats output bytes, µs per
    EVALSHA call so far from INFO commandstats)."""
    out = {}
    for p in ports:
        def cli(*args: str, port: int = p) -> str:
            return subprocess.run([_tool("redis-cli"), "-p", str(port), *args],
                                  capture_output=True, text=True, timeout=10).stdout
        info = dict(line.split(":", 1) for line in cli("info", "stats").split()
                    if ":" in line)
        cinfo = dict(line.split(":", 1) for line in cli("cluster", "info").split()
                     if ":" in line)
        bus = sum(int(v) for k, v in cinfo.items()
                  if k.startswith("cluster_stats_messages_publish") and k.endswith("received"))
        cmd = cli("info", "commandstats")
        usec = 0.0
        if "cmdstat_evalsha:" in cmd:
            fields = cmd.split("cmdstat_evalsha:")[1].split()[0].split(",")
            usec = float(dict(f.split("=") for f in fields)["usec_per_call"])
        out[p] = (bus, int(info.get("total_net_output_bytes", 0)), usec)
    return out


def run_mode(mode: str, url: str, ports: list[int], args: argparse.Namespace,
             events: list[int]) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    out, ready = ctx.Queue(), ctx.Queue()
    procs = []
    for i in range(args.subscribers):
        sub_url = url if mode != "cluster-plain" else f"redis://127.0.0.1:{ports[i % len(ports)]}"
        procs.append(ctx.Process(target=_subscriber, args=(
            mode, sub_url, events, args.duration + 3, out, ready)))
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=60)
    before = _node_stats(ports) if mode != "single" else {}
    client = connect(url, mode != "single", args.concurrency + 8)

    async def go() -> int:
        try:
            return await _load(client, mode == "cluster-sharded", events, args.concurrency,
                               args.duration)
        finally:
            await client.aclose()

    holds = asyncio.run(go())
    after = _node_stats(ports) if mode != "single" else {}
    lags: list[float] = []
    delivered = 0
    for _ in procs:
        n, got = out.get(timeout=60)
        delivered += n
        lags += got
    for p in procs:
        p.join(30)
    s = summarize_ms(lags) if lags else {"p50": 0.0, "p99": 0.0}
    return {"mode": mode, "holds_s": holds / args.duration,
            "deliveries_s": delivered / args.duration, "p50": s["p50"], "p99": s["p99"],
            "nodes": {p: (after[p][0] - before[p][0], after[p][1] - before[p][1], after[p][2])
                      for p in after}}


def _single() -> tuple[subprocess.Popen[bytes], int, Path]:
    port, d = free_port(), Path(tempfile.mkdtemp(prefix="evently-bench-redis-"))
    proc = subprocess.Popen([_tool("redis-server"), "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", str(d)],
                            stdout=subprocess.DEVNULL)
    for _ in range(100):
        if subprocess.run([_tool("redis-cli"), "-p", str(port), "ping"],
                          capture_output=True, text=True).stdout.strip() == "PONG":
            break
        time.sleep(0.05)
    return proc, port, d


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per mode")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--events", type=int, default=12)
    parser.add_argument("--subscribers", type=int, default=4, help="hub processes")
    args = parser.parse_args(argv)
    events = [EVENT_BASE + i for i in range(args.events)]
    single, sport, sdir = _single()
    cluster = start_cluster()
    try:
        rows = [run_mode("single", f"redis://127.0.0.1:{sport}", [], args, events)]
        for mode in ("cluster-plain", "cluster-sharded"):
            rows.append(run_mode(mode, cluster.url, cluster.ports, args, events))
    finally:
        cluster.stop()
        single.terminate()
        single.wait(10)
        shutil.rmtree(sdir, ignore_errors=True)
    base = rows[0]
    print(f"{args.concurrency} hold/release loops on {args.events} events, "
          f"{args.subscribers} subscriber processes, {args.duration:.0f} s per mode\n")
    print_table(["mode", "holds/s", "× single", "deliveries/s", "× single",
                 "lag p50 ms", "lag p99 ms"],
                [[r["mode"], round(r["holds_s"]), ratio(r["holds_s"], base["holds_s"]),
                  round(r["deliveries_s"]), ratio(r["deliveries_s"], base["deliveries_s"]),
                  round(r["p50"], 2), round(r["p99"], 2)] for r in rows])
    print()
    print_table(["mode", "node", "bus publish msgs received", "output bytes",
                 "EVALSHA µs/call (cumulative)"],
                [[r["mode"], p, bus, out, usec] for r in rows[1:]
                 for p, (bus, out, usec) in sorted(r["nodes"].items())])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
