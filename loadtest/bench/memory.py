"""Benchmark (d): memory per idle WebSocket session at 10,000 sessions (RSS before/after).

    uv run python -m loadtest.bench.memory --target hub --spawn --sessions 10000 \\
        [--event ID] [--no-subscribe]          # or --host URL for a hub already running
    uv run python -m loadtest.bench.memory --target raw --sessions 10000

The serving processes are the ones holding the listening socket of ``--host``'s port (found via
``/proc``, so embedded PostgreSQL/Redis children are not counted); with ``--target raw`` the bare
``loadtest.bench.raw_broadcast`` server is started here. RSS is summed over them (``VmRSS``),
measured after ``--settle`` seconds idle before the sessions open, after they are open (each
subscribed to one event and holding its snapshot, unless ``--no-subscribe``) and idle, and after
they close. Connect-only sessions are closed by the hub after ``WS_IDLE_SECONDS`` (30): a
spawned hub gets a day; start a hub of your own with a large value too, and with
``RATE_LIMIT_ENABLED=false`` (every session comes from one address).
Reported: ``(after − before) ÷ sessions`` in KiB — target < 50 KiB/session.

Both ends need ~sessions + 100 file descriptors: this script raises its own soft
``RLIMIT_NOFILE`` (``resource.setrlimit``), and the hub inherits the limit of the shell that
started it (``ulimit -n 20000`` first if needed).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit

import httpx

from loadtest.bench.common import (
    free_port,
    pids_listening_on,
    print_table,
    raise_nofile,
    rss_bytes,
)
from loadtest.bench.fanout import subscriber_process
from loadtest.config import load_settings
from loadtest.wsclient import ws_url

__all__ = ["main", "measure"]


def _rss(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            total += rss_bytes(pid)
        except OSError:
            pass
    return total


def measure(
    url: str, pids: list[int], sessions: int, event_id: int | None, procs: int, settle: float
) -> dict[str, float]:
    """Open ``sessions`` idle sessions against ``url``; RSS of ``pids`` before/during/after.

    Returns:
        ``{"connected", "before", "open", "closed", "per_session_kib"}``; RSS in bytes.
    """
    time.sleep(settle)
    before = _rss(pids)
    ctx = mp.get_context("spawn")
    children = []
    per = [sessions // procs + (1 if i < sessions % procs else 0) for i in range(procs)]
    t0 = time.perf_counter()
    for n in per:
        parent, child = ctx.Pipe()
        # event_id None → no subscribe (see subscriber_process: subscribe to event -1 is skipped)
        p = ctx.Process(
            target=subscriber_process,
            args=(url, event_id if event_id is not None else -1, n, child, 200),
            daemon=True,
        )
        p.start()
        children.append((p, parent))
    connected = sum(parent.recv()[1] for _, parent in children)
    opened_s = time.perf_counter() - t0
    time.sleep(settle)
    during = _rss(pids)
    for _, parent in children:
        parent.send("stop")
    for p, parent in children:
        parent.recv()
        p.join(timeout=60)
        if p.is_alive():
            p.kill()
    time.sleep(settle)
    after = _rss(pids)
    return {
        "connected": connected,
        "open_seconds": opened_s,
        "before": before,
        "open": during,
        "closed": after,
        "per_session_kib": (during - before) / max(1, connected) / 1024,
    }


def _wait_ready(host: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{host}/readyz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


def _stop(server: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """Stop a process this script started (its own session, so only its children go too)."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", choices=["hub", "raw"], default="hub")
    parser.add_argument("--host", default="http://127.0.0.1:8400", help="hub base URL")
    parser.add_argument("--event", type=int, help="event to subscribe to (default: LT event file)")
    parser.add_argument("--no-subscribe", action="store_true", help="connect only")
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--procs", type=int, default=2, help="client processes")
    parser.add_argument("--settle", type=float, default=5.0, help="idle seconds before each RSS")
    parser.add_argument(
        "--spawn",
        action="store_true",
        help="start a fresh hub (python -m web.cli serve) on a free port with "
        "this environment, measure it, stop it",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=200,
        help="sessions opened and closed before the baseline (lazy start-up)",
    )
    args = parser.parse_args(argv)
    limit = raise_nofile(args.sessions + 1024)
    if limit < args.sessions // args.procs + 256:
        print(f"memory: RLIMIT_NOFILE is {limit}, too low for {args.sessions}", file=sys.stderr)
        return 2

    server = None
    if args.target == "hub" and args.spawn:
        # A fresh process: a long-lived one keeps freed arenas, hiding per-session growth.
        port = free_port()
        env = dict(os.environ)
        if args.no_subscribe:  # connect-only sessions are idle: keep them past WS_IDLE_SECONDS
            env.setdefault("WS_IDLE_SECONDS", "86400")
        server = subprocess.Popen(
            [sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        args.host = f"http://127.0.0.1:{port}"
        if not _wait_ready(args.host, 90.0):
            _stop(server)
            print("memory: the spawned hub never became ready", file=sys.stderr)
            return 2
    if args.target == "raw":
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "loadtest.bench.raw_broadcast", "--port", str(port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None
        server.stdout.readline()
        url, pids, event_id = f"ws://127.0.0.1:{port}/", [server.pid], 1
    else:
        host = args.host.rstrip("/")
        port = urlsplit(host).port or 80
        pids = pids_listening_on(port)
        if not pids:
            print(f"memory: no process listens on port {port}", file=sys.stderr)
            return 2
        url = ws_url(host)
        event_id = args.event if args.event is not None else load_settings().resolve_event_id()
    if args.no_subscribe:
        event_id = None
    try:
        if args.warmup:
            measure(url, pids, args.warmup, event_id, 1, 0.5)
        result = measure(url, pids, args.sessions, event_id, args.procs, args.settle)
    finally:
        if server is not None:
            _stop(server)

    mib = 1024 * 1024
    print(
        f"\nmemory, {args.target} pids {pids}, {'connected' if event_id is None else 'subscribed'}"
        f" sessions opened in {result['open_seconds']:.1f} s\n"
    )
    print_table(
        [
            "target",
            "sessions",
            "RSS before MiB",
            "RSS open MiB",
            "RSS after close MiB",
            "KiB/session",
        ],
        [
            [
                args.target,
                int(result["connected"]),
                result["before"] / mib,
                result["open"] / mib,
                result["closed"] / mib,
                result["per_session_kib"],
            ]
        ],
    )
    return 0 if result["connected"] == args.sessions else 1


if __name__ == "__main__":
    sys.exit(main())
