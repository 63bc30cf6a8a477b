"""The client-side ledger: what load-test clients were told, for the post-run verifier.

Each Locust process appends JSON lines to its own file ``LT_LEDGER_DIR/ledger-<host>-<pid>.jsonl``,
so master, workers and containers never interleave writes. Record shapes::

    {"kind": "confirmed", "booking_id": int, "event_id": int, "seat_ids": [int],
     "email": str, "via": "ws" | "rest", "at": float}          # at = epoch seconds
    {"kind": "cancelled", "booking_id": int, "event_id": int, "email": str, "at": float}
    {"kind": "map", "client": str, "event_id": int, "epoch": str | int | null,
     "seq": int | null, "seats": {"<seat_id>": "available" | "held" | "sold"},
     "gaps": int, "resyncs": int, "at": float}
    {"kind": "run", "event_id": int, "hosts": [str], "started_at": float}

``map`` is written by every WebSocket client when it stops, after the quiet phase of the shape.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

__all__ = ["Ledger", "read_ledger"]


class Ledger:
    """Append-only JSONL writer, safe to share between the greenlets of one process."""

    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"ledger-{socket.gethostname()}-{os.getpid()}.jsonl"
        self._lock = threading.Lock()
        self._file = self.path.open("ab")

    def write(self, kind: str, **fields: Any) -> None:
        fields.setdefault("at", time.time())
        line = orjson.dumps({"kind": kind, **fields}) + b"\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


def read_ledger(directory: Path) -> Iterator[dict[str, Any]]:
    """Every record of every ledger file in ``directory``; a torn last line is skipped."""
    for path in sorted(directory.glob("ledger-*.jsonl")):
        for line in path.read_bytes().splitlines():
            if not line.strip():
                continue
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
