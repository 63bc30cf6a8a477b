"""Every benchmark in one command, printing the figures table of ``docs/benchmarks.md``.

    uv run python -m loadtest.bench.all            # the full set (what the doc records)
    uv run python -m loadtest.bench.all --quick    # the short set CI runs (~2 min, 2 cores)

Uses ``DATABASE_URL``/``REDIS_URL`` when set (the benches write to them: give them a
database and Redis DB of their own), else starts the embedded stores in a temporary folder.
It starts its own hub (``evently serve --workers N`` on a free port, rate limits off), an
admin account and prepared buyers, runs each benchmark with its raw baseline in alternating
slices, stops what it started and prints one row per figure: figure, hub, raw, hub ÷ raw,
target. It asserts nothing about timing: the table is the output.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from loadtest.bench import booking, confirms, holds
from loadtest.bench.common import free_port, print_table, raise_nofile, ratio, summarize_ms
from loadtest.bench.spawn import ROOT, SpawnedHub, add_admin

__all__ = ["main"]

ADMIN = ("bench-admin@example.com", "bench-admin-pw-1")
Row = list[object]


def _loop(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def _stores(stack: ExitStack) -> None:
    """Point DATABASE_URL/REDIS_URL at the configured stores, or at embedded ones."""
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        return
    from storage.embedded import start_embedded
    from storage.migrate import upgrade

    tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="evently-bench-"))
    stores = start_embedded(Path(tmp) / "data")
    stack.callback(stores.stop)
    os.environ["DATABASE_URL"], os.environ["REDIS_URL"] = stores.database_url, stores.redis_url
    upgrade(stores.database_url)


def _prepare_tokens(host: str, users: int, out_dir: str) -> None:
    os.environ["LT_OUT_DIR"] = out_dir
    os.environ["LT_TOKENS_FILE"] = str(Path(out_dir) / "tokens.json")
    subprocess.run([sys.executable, "-m", "loadtest.prepare", "--host", host, "--users",
                    str(users), "--admin-email", ADMIN[0], "--admin-password", ADMIN[1],
                    "--fresh"], check=True, stdout=subprocess.DEVNULL)


def bench_booking(host: str, quick: bool) -> list[Row]:
    """Figures (e): bookings/s hub ÷ raw booking loop, and the hub's p99 at 64 buyers."""
    fig = _loop(booking.run_booking(host, *ADMIN, concurrency=64,
                                    slice_s=2.0 if quick else 5.0, slices=2 if quick else 3,
                                    seats=10_000 if quick else 50_000))
    hub_s, raw_s = summarize_ms(fig.hub.lat), summarize_ms(fig.raw.lat)
    return [["book (hold+confirm) bookings/s, 64 buyers", fig.hub.rate, fig.raw.rate,
             ratio(fig.hub.rate, fig.raw.rate), "≥ 0.8"],
            ["book p99 ms, 64 buyers", hub_s["p99"], raw_s["p99"], "", "< 100 ms"]]


def bench_confirms(host: str, quick: bool) -> list[Row]:
    """Figure (b): one-seat confirms over WS, hub ÷ a bare asyncpg transaction."""
    url = os.environ["DATABASE_URL"]
    rounds, per = (2, 5) if quick else (5, 10)
    hub = [0, 0.0]
    raw = [0, 0.0]
    for _ in range(rounds):
        r = _loop(confirms.bench_raw(host, url, 16, per, 1))
        raw = [raw[0] + r[0], raw[1] + r[1]]
        h = _loop(confirms.bench_hub(host, 16, per, 1))
        hub = [hub[0] + h[0], hub[1] + h[1]]
    hr, rr = hub[0] / hub[1], raw[0] / raw[1]
    return [["confirms/s, 16 workers", hr, rr, ratio(hr, rr), "≥ 0.8"]]


def bench_holds(host: str, quick: bool) -> list[Row]:
    """Figure (a): hold → release over WS, hub ÷ the bare Lua scripts."""
    url = os.environ["REDIS_URL"]
    slices, slice_s = (2, 1.5) if quick else (3, 10 / 3)
    hub_n = raw_n = errors = 0
    for _ in range(slices):
        raw_n += _loop(holds.bench_raw(url, 16, slice_s))[0]
        n, _, err = _loop(holds.bench_hub(host, 16, slice_s))
        hub_n, errors = hub_n + n, errors + err
    total = slices * slice_s
    return [[f"holds/s over WS, 16 loops ({errors} hub errors)", hub_n / total, raw_n / total,
             ratio(hub_n, raw_n), "≥ 0.8"]]


def bench_fanout(host: str, quick: bool) -> list[Row]:
    """Figure (c): delta lag p99 at 4 deltas/s, hub vs a bare ``websockets.broadcast``."""
    from loadtest.bench import fanout
    from loadtest.bench.hubsetup import available_seats, create_event, tokens
    from loadtest.wsclient import ws_url

    subs, duration = (500, 4.0) if quick else (5000, 10.0)
    raise_nofile(subs + 1024)
    rate = 4.0
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "loadtest.bench.raw_broadcast", "--port",
                               str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        server.stdout.readline()
        raw = fanout.run_fanout("raw", f"ws://127.0.0.1:{port}/", 1, subs, 2, rate, duration,
                                4, [1, 2, 3, 4], None)
    finally:
        server.terminate()
        server.wait(timeout=10)
    file = tokens()
    assert file.admin is not None
    ev = create_event(host, file.admin, f"fanout bench {int(time.time())}", 100)
    seats = available_seats(host, ev["id"])[:4]
    hub = fanout.run_fanout("hub", ws_url(host), ev["id"], subs, 2, rate, duration, 4, seats,
                            file.users[0].access_token)
    return [[f"fan-out lag p99 ms, {subs:,} sessions, 4 deltas/s", hub.lag["p99"],
             raw.lag["p99"], "", "< 250 ms"],
            [f"fan-out deliveries/s, {subs:,} sessions", hub.per_second, raw.per_second,
             ratio(hub.per_second, raw.per_second), ""]]


def bench_memory(host: str, quick: bool) -> list[Row]:
    """Figure (d): KiB per idle subscribed session (a fresh hub, ``memory --spawn``)."""
    from loadtest.bench.hubsetup import create_event, tokens

    sessions = 1000 if quick else 20_000
    admin = tokens().admin
    assert admin is not None
    ev = create_event(host, admin, f"memory bench {int(time.time())}", 300)
    out = subprocess.run([sys.executable, "-m", "loadtest.bench.memory", "--target", "hub",
                          "--spawn", "--sessions", str(sessions), "--event", str(ev["id"])],
                         capture_output=True, text=True, check=False)
    rows = [line for line in out.stdout.splitlines() if line.startswith("| hub")]
    kib = float(rows[-1].split("|")[-2]) if rows else float("nan")
    return [[f"memory KiB per idle session, {sessions:,} sessions", kib, "", "", "< 30 KiB"]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="the short CI set")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="hub worker processes (default: one per core)")
    ap.add_argument("--only", nargs="*", default=None,
                    help="run only these: booking confirms holds fanout memory")
    ap.add_argument("--serve-from", type=Path, default=None,
                    help="serve the hub from another checkout (e.g. the commit before a change)")
    a = ap.parse_args(argv)
    benches: dict[str, Callable[[str, bool], list[Row]]] = {
        "booking": bench_booking, "confirms": bench_confirms, "holds": bench_holds,
        "fanout": bench_fanout, "memory": bench_memory}
    chosen = a.only or list(benches)
    table: list[Row] = []
    started = time.monotonic()
    with ExitStack() as stack:
        _stores(stack)
        os.environ["RATE_LIMIT_ENABLED"] = "false"
        os.environ.setdefault("BCRYPT_ROUNDS", "4")  # bench accounts: signups in ms, not s
        add_admin(*ADMIN)
        hub = SpawnedHub(a.workers, cwd=a.serve_from or ROOT)
        stack.callback(hub.stop)
        out_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="evently-bench-lt-"))
        _prepare_tokens(hub.url, 20, out_dir)
        for name in chosen:
            t0 = time.monotonic()
            try:
                table += benches[name](hub.url, a.quick)
            except Exception as exc:  # one broken bench must not hide the others' figures
                table.append([name, f"failed: {type(exc).__name__}: {exc}"[:120], "", "", ""])
            print(f"  {name}: {time.monotonic() - t0:.0f} s", file=sys.stderr)
    load = os.getloadavg()[0]
    print(f"\n{'quick' if a.quick else 'full'} benchmark set, hub --workers {a.workers}, "
          f"{time.monotonic() - started:.0f} s, load average {load:.1f}\n")
    print_table(["figure", "hub", "raw", "hub ÷ raw", "target"], table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
