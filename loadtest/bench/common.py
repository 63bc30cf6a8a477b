"""Helpers shared by the benchmarks: percentiles, process RSS, file-descriptor limits, output.

Units: times in **ms** unless a name says ``_s``; memory in **bytes** (``rss_bytes``) or KiB
where a name says so.
"""

from __future__ import annotations

import os
import resource
import socket
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = [
    "free_port",
    "percentile",
    "pids_listening_on",
    "print_table",
    "raise_nofile",
    "ratio",
    "rss_bytes",
    "summarize_ms",
]


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values; ``p`` in [0, 100]; NaN when empty."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1))))
    return float(sorted_values[k])


def summarize_ms(values: Iterable[float]) -> dict[str, float]:
    """``{"n", "p50", "p90", "p99", "max"}`` of latencies in ms."""
    data = sorted(values)
    return {
        "n": float(len(data)),
        "p50": percentile(data, 50),
        "p90": percentile(data, 90),
        "p99": percentile(data, 99),
        "max": data[-1] if data else float("nan"),
    }


def raise_nofile(wanted: int) -> int:
    """Raise the soft ``RLIMIT_NOFILE`` towards ``wanted`` (capped by the hard limit).

    Returns:
        The soft limit now in force. 10,000 sockets need ~10,100 descriptors in each process
        that holds them (client and server alike), so check the result against your session count.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def rss_bytes(pid: int) -> int:
    """Resident set size of one process (``VmRSS`` of ``/proc/PID/status``), bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _listen_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            local, state, inode = cols[1], cols[3], cols[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A = LISTEN
                inodes.add(inode)
    return inodes


def pids_listening_on(port: int) -> list[int]:
    """Processes holding a listening TCP socket on ``port`` (the hub's serving processes).

    Found through ``/proc/net/tcp*`` socket inodes and ``/proc/PID/fd`` links, so embedded
    PostgreSQL/Redis children of ``evently serve`` are never counted. Needs permission to read
    the other process's ``fd`` directory (same user or root).
    """
    inodes = {f"socket:[{i}]" for i in _listen_inodes(port)}
    pids: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    pids.append(int(entry.name))
                    break
        except OSError:
            continue
    return sorted(pids)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ratio(value: float, raw: float) -> str:
    return f"{value / raw:.2f}" if raw else "n/a"


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A Markdown table, ready to paste into docs/benchmarks.md."""
    rows = [[_fmt(c) for c in row] for row in rows]
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
