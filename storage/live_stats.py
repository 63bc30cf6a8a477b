"""Live analytics for the admins' stream, read from the counters the seat scripts keep.

Per event: ``sold``/``held`` from the view's meta, ``available`` from its index, ``waitlisted``
from meta ``wl``, holds and bookings per minute from the per-minute buckets (``m:<minute>``).
Subscribers and connections are summed over every hub process: each process writes its own
local counts to ``hub:proc:<host>:<pid>`` (expiring after 5 s, so a dead process drops out).
Every key is built in :mod:`storage.keys`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from storage.keys import PROC_PATTERN, event_key, event_meta, event_minute, proc_key
from storage.redis_conn import execute

__all__ = ["LiveStats", "per_minute"]

PROC_TTL_SECONDS = 5


def per_minute(current: int, previous: int, seconds_into_minute: float) -> float:
    """A sliding one-minute rate from two fixed buckets: the current minute's count plus the
    share of the previous minute still inside the window (the sliding-window estimate used
    by e.g. Cloudflare's rate limiter)."""
    weight = max(0.0, 1.0 - seconds_into_minute / 60.0)
    return round(current + previous * weight, 1)


def _i(v: Any) -> int:
    return int(v) if v is not None else 0


class LiveStats:
    """Per-event counters and per-process counts; on a Redis Cluster each process's hash
    and each event's keys live on their own slots, and :meth:`snapshot` reads them with
    pipelines the cluster client splits per node (no cross-event key).

    Args:
        client: the process's Redis client (single or cluster).
        live_events: ``() -> [event_id]``, the events with a view
            (:meth:`storage.seatview.RedisSeatView.live_events`).
    """

    def __init__(self, client: aioredis.Redis,
                 live_events: Callable[[], Awaitable[list[int]]]) -> None:
        self.r = client
        self.view_events = live_events
        self.proc_key = proc_key(socket.gethostname(), os.getpid())

    async def publish_local(self, subscribers: dict[int, int], connections: int) -> None:
        """Write this process's local subscriber counts per event and its connections."""
        mapping: dict[str, int] = {str(e): n for e, n in subscribers.items()}
        mapping["_connections"] = connections
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.delete(self.proc_key)
            pipe.hset(self.proc_key, mapping=mapping)
            pipe.expire(self.proc_key, PROC_TTL_SECONDS)
            await execute(pipe)

    async def snapshot(self, now_ms: int) -> dict[str, Any]:
        """``{at, events: [{id, sold, held, available, waitlisted, holds_per_min,
        bookings_per_min, subscribers}], connections}`` over every process."""
        minute, into = divmod(now_ms, 60_000)
        events = await self.view_events()
        subscribers: dict[int, int] = {}
        connections = 0
        async for key in self.r.scan_iter(match=PROC_PATTERN, count=100):
            for k, v in (await self.r.hgetall(key)).items():
                name = k.decode() if isinstance(k, bytes) else k
                if name == "_connections":
                    connections += int(v)
                else:
                    subscribers[int(name)] = subscribers.get(int(name), 0) + int(v)
        async with self.r.pipeline(transaction=False) as pipe:
            for e in events:
                pipe.hmget(event_meta(e), "sold", "held", "wl")
                pipe.zcard(event_key(e, "avail"))
                pipe.hmget(event_minute(e, minute), "holds", "bookings")
                pipe.hmget(event_minute(e, minute - 1), "holds", "bookings")
            raw = await execute(pipe)
        out = []
        for i, e in enumerate(events):
            (sold, held, wl), avail, cur, prev = raw[4 * i:4 * i + 4]
            if sold is None:
                continue  # the view is gone (deleted or wiped)
            out.append({
                "id": e, "sold": _i(sold), "held": _i(held), "available": int(avail),
                "waitlisted": _i(wl),
                "holds_per_min": per_minute(_i(cur[0]), _i(prev[0]), into / 1000),
                "bookings_per_min": per_minute(_i(cur[1]), _i(prev[1]), into / 1000),
                "subscribers": subscribers.get(e, 0),
            })
        return {"type": "analytics", "at": now_ms, "events": out, "connections": connections}
