"""Benchmark (e): whole bookings — ``POST /events/{id}/book`` vs a raw booking loop.

    uv run python -m loadtest.bench.booking --host http://127.0.0.1:8400 \\
        --admin-email a@x.io --admin-password secret123 --concurrency 64 --slice 5 --slices 3

Both sides run ``--concurrency`` buyers in ``--slices`` alternating raw/hub slices of
``--slice`` s (so background load hits both alike), each buyer booking one seat at a time
(``{"qty": 1}``) on its own 50,000-seat event, so nothing sells out:

- **hub**: one keep-alive HTTP/1.1 connection per buyer (a minimal client on asyncio streams,
  so the client costs about what wrk would), each a different account.
- **raw**: exactly one booking's storage work and nothing else — ``hold.lua``,
  ``confirm_begin.lua`` (EVALSHA from one ``redis.asyncio`` client), the ``evently_confirm()``
  PostgreSQL function (one prepared asyncpg call, a pool of ``--pool`` connections), then
  ``confirm_finish.lua`` — the scripts ``storage.seatview`` loads, with the same arguments.
  No HTTP, no auth, no notices.

Printed: bookings/s and latency p50/p99 (ms, client-measured) for each side, and hub ÷ raw.
The hub must run with ``RATE_LIMIT_ENABLED=false``; ``DATABASE_URL``/``REDIS_URL`` are the
hub's stores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import orjson
import redis.asyncio as aioredis

from loadtest.bench.common import print_table, ratio, summarize_ms
from storage.keys import event_meta
from storage.seatview import script_source
from storage.settings import Settings

__all__ = ["BookingFigures", "Side", "main", "run_booking"]

CONFIRM = ("SELECT evently_confirm($1, $2, $3::bigint[], $4, $5, $6, $7, $8, $9)")


@dataclass
class Side:
    """One side's totals over its slices: bookings, seconds, latencies (ms), errors."""

    bookings: int = 0
    seconds: float = 0.0
    lat: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def rate(self) -> float:
        """Bookings per second."""
        return self.bookings / self.seconds if self.seconds else 0.0


@dataclass
class BookingFigures:
    """Both sides of one run."""

    concurrency: int
    hub: Side
    raw: Side


@dataclass
class _Setup:
    host: str
    hub_event: int
    raw_event: int
    tokens: list[str]
    user_ids: list[int]


async def _prepare(host: str, admin_email: str, admin_password: str, concurrency: int,
                   seats: int) -> _Setup:
    async with httpx.AsyncClient(base_url=host, timeout=120) as http:
        r = await http.post("/auth/login", json={"email": admin_email,
                                                 "password": admin_password})
        r.raise_for_status()
        admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
        start = datetime.now(UTC) + timedelta(days=50)
        events = []
        for name in ("book bench hub", "book bench raw"):
            ev = await http.post("/admin/events", headers=admin, json={
                "name": name, "venue": "bench", "start_time": start.isoformat(),
                "end_time": (start + timedelta(hours=1)).isoformat(), "capacity": seats})
            if ev.status_code != 201:
                raise SystemExit(f"create event: {ev.status_code} {ev.text[:300]}")
            events.append(int(ev.json()["id"]))
            await http.get(f"/events/{events[-1]}/seats")  # builds the live view

        async def account() -> tuple[str, int]:
            mail = f"booker-{uuid.uuid4().hex[:10]}@bench.test"
            await http.post("/auth/signup", json={"name": "b", "email": mail,
                                                  "password": "bench-pass-1"})
            r = await http.post("/auth/login", json={"email": mail, "password": "bench-pass-1"})
            token = str(r.json()["access_token"])
            me = await http.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
            return token, int(me.json()["id"])

        accounts = [await account() for _ in range(concurrency)]
    return _Setup(host, events[0], events[1], [a[0] for a in accounts],
                  [a[1] for a in accounts])


async def _hub_slice(s: _Setup, seconds: float, side: Side) -> None:
    u = urlsplit(s.host)
    body = b'{"qty":1}'
    deadline = time.monotonic() + seconds

    async def buyer(token: str) -> None:
        reader, writer = await asyncio.open_connection(u.hostname, u.port)
        req = (f"POST /events/{s.hub_event}/book HTTP/1.1\r\nHost: {u.netloc}\r\n"
               f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        try:
            while time.monotonic() < deadline:
                t0 = time.monotonic()
                writer.write(req)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                side.lat.append((time.monotonic() - t0) * 1000)
                if head[9:12] == b"201":
                    side.bookings += 1
                else:
                    side.errors += 1
        finally:
            writer.close()

    t0 = time.monotonic()
    await asyncio.gather(*(buyer(t) for t in s.tokens))
    side.seconds += time.monotonic() - t0


class _RawBooker:
    """The storage work of one booking, nothing else (see the module docstring)."""

    def __init__(self, redis: aioredis.Redis, pool: asyncpg.Pool, settings: Settings) -> None:
        self.redis = redis
        self.pool = pool
        self.scripts = {n: redis.register_script(script_source(n))
                        for n in ("hold", "confirm_begin", "confirm_finish", "release")}
        self.max_held = settings.max_held_seats_per_user
        self.lifetime_ms = settings.hold_max_lifetime_seconds * 1000
        self.grace_ms = 30_000  # hub.holds.HoldLimits.confirm_grace_seconds

    async def book(self, event_id: int, user_id: int) -> bool:
        keys = [event_meta(event_id)]
        tok = secrets.token_urlsafe(12)
        now = datetime.now(UTC)
        now_ms = int(now.timestamp() * 1000)
        h = await self.scripts["hold"](keys=keys, args=[
            event_id, user_id, tok, now_ms, 0, self.max_held, 1, self.lifetime_ms, 0])
        if h[0] == b"ERR":
            return False
        c = await self.scripts["confirm_begin"](keys=keys, args=[tok, user_id, now_ms,
                                                                  self.grace_ms])
        if c[0] == b"ERR":
            return False
        seat_ids = sorted(int(x) for x in c[7].split(b","))
        fence = (int(c[6]) << 32) | int(c[5])
        async with self.pool.acquire() as conn:
            out = await conn.fetchval(CONFIRM, event_id, user_id, seat_ids, fence,
                                      f"{event_id}.{tok}", None, None, now, False)
        result = orjson.loads(out) if isinstance(out, str) else out
        if "error" in result:
            await self.scripts["release"](keys=keys, args=[event_id, tok, user_id, now_ms])
            return False
        await self.scripts["confirm_finish"](keys=keys, args=[event_id, tok, now_ms,
                                                              *seat_ids])
        return True


async def _raw_slice(booker: _RawBooker, s: _Setup, seconds: float, side: Side) -> None:
    deadline = time.monotonic() + seconds

    async def buyer(user_id: int) -> None:
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            ok = await booker.book(s.raw_event, user_id)
            side.lat.append((time.monotonic() - t0) * 1000)
            if ok:
                side.bookings += 1
            else:
                side.errors += 1

    t0 = time.monotonic()
    await asyncio.gather(*(buyer(u) for u in s.user_ids))
    side.seconds += time.monotonic() - t0


async def run_booking(host: str, admin_email: str, admin_password: str, *, concurrency: int,
                      slice_s: float, slices: int, seats: int = 50_000,
                      pool_size: int = 32) -> BookingFigures:
    """Alternate raw and hub slices against a running hub; returns both sides' totals.

    ``pool_size``: the raw side's PostgreSQL connections (the hub's: ``DB_POOL_SIZE`` per
    worker, 2 × 16 by default).

    Needs ``DATABASE_URL`` and ``REDIS_URL`` (the hub's stores) in the environment.
    """
    settings = Settings()
    assert settings.database_url and settings.redis_url, "DATABASE_URL and REDIS_URL needed"
    setup = await _prepare(host, admin_email, admin_password, concurrency, seats)
    dsn = settings.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    pool = await asyncpg.create_pool(dsn, min_size=pool_size, max_size=pool_size,
                                     ssl=False if "host=/" not in dsn else None)
    redis = aioredis.Redis(connection_pool=aioredis.BlockingConnectionPool.from_url(
        settings.redis_url, max_connections=concurrency))
    booker = _RawBooker(redis, pool, settings)
    hub, raw = Side(), Side()
    try:
        await _raw_slice(booker, setup, 0.5, Side())  # warm both up
        await _hub_slice(setup, 0.5, Side())
        for _ in range(slices):
            await _raw_slice(booker, setup, slice_s, raw)
            await _hub_slice(setup, slice_s, hub)
    finally:
        await pool.close()
        await redis.aclose(close_connection_pool=True)
    return BookingFigures(concurrency, hub, raw)


def rows(f: BookingFigures) -> list[list[Any]]:
    """Table rows: side, bookings/s, p50, p99, errors."""
    out = []
    for name, side in (("hub", f.hub), ("raw", f.raw)):
        s = summarize_ms(side.lat)
        out.append([name, side.rate, s["p50"], s["p99"], side.errors])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", required=True)
    ap.add_argument("--admin-email", required=True)
    ap.add_argument("--admin-password", required=True)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--slice", type=float, default=5.0)
    ap.add_argument("--slices", type=int, default=3)
    ap.add_argument("--pool", type=int, default=32)
    a = ap.parse_args(argv)
    f = _loop(run_booking(a.host, a.admin_email, a.admin_password,
                          concurrency=a.concurrency, slice_s=a.slice, slices=a.slices,
                          pool_size=a.pool))
    print(f"\nbookings, {a.concurrency} buyers, {a.slices} alternating slices of {a.slice:g} s"
          f" (load {os.getloadavg()[0]:.1f})\n")
    print_table(["side", "bookings/s", "p50 ms", "p99 ms", "errors"], rows(f))
    print(f"\nhub ÷ raw: {ratio(f.hub.rate, f.raw.rate)}")
    return 0


def _loop(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


if __name__ == "__main__":
    raise SystemExit(main())
