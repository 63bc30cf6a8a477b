"""``evently verify``: check DESIGN.md's invariants 1-6 against PostgreSQL and Redis.

Each check returns human-readable violations; an empty list means clean. ``repair`` rebuilds
the Redis view of any event whose view disagrees with PostgreSQL (invariant 3's repair).
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import text

from storage.db import Database
from storage.keys import event_key, event_meta
from storage.redis_conn import close_client, connect
from storage.settings import Settings

__all__ = ["check_event_view", "check_postgres", "run_verify"]

EXPIRY_SLACK_MS = 1000  # invariant 6: expired holds are announced within one second


async def check_postgres(db: Database, event_id: int | None) -> list[str]:
    """Invariants 1 and 3 in PostgreSQL alone."""
    where = "" if event_id is None else f"AND b.event_id = {int(event_id)}"
    where_e = "" if event_id is None else f"WHERE e.id = {int(event_id)}"
    problems: list[str] = []
    async with db.engine.connect() as conn:
        rows = (await conn.execute(text(f"""
            SELECT bs.seat_id, count(*) FROM booking_seats bs
            JOIN bookings b ON b.id = bs.booking_id
            WHERE bs.active {where} GROUP BY bs.seat_id HAVING count(*) > 1"""))).all()
        problems += [f"invariant 1: seat {r[0]} is in {r[1]} confirmed bookings" for r in rows]
        rows = (await conn.execute(text(f"""
            SELECT e.id,
              (SELECT count(*) FROM seats s WHERE s.event_id = e.id) AS seats,
              (SELECT count(*) FROM booking_seats bs WHERE bs.event_id = e.id AND bs.active) AS sold
            FROM events e {where_e}"""))).all()
        problems += [f"invariant 1: event {r[0]} sold {r[2]} seats of {r[1]}"
                     for r in rows if r[2] > r[1]]
        rows = (await conn.execute(text(f"""
            SELECT b.id, b.status, bs.seat_id, bs.active FROM bookings b
            JOIN booking_seats bs ON bs.booking_id = b.id
            WHERE (b.status = 'CONFIRMED') <> bs.active {where}"""))).all()
        problems += [f"invariant 3: booking {r[0]} is {r[1]} but seat {r[2]} active={r[3]}"
                     for r in rows]
        rows = (await conn.execute(text(f"""
            SELECT b.id FROM bookings b WHERE NOT EXISTS
              (SELECT 1 FROM booking_seats bs WHERE bs.booking_id = b.id) {where}"""))).all()
        problems += [f"invariant 3: booking {r[0]} has no seats" for r in rows]
        rows = (await conn.execute(text(f"""
            SELECT bs.seat_id, s.fence, b.fence FROM booking_seats bs
            JOIN bookings b ON b.id = bs.booking_id JOIN seats s ON s.id = bs.seat_id
            WHERE bs.active AND s.fence < b.fence {where}"""))).all()
        problems += [f"invariant 2: seat {r[0]} fence {r[1]} is below its booking's {r[2]}"
                     for r in rows]
    return problems


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


async def check_event_view(db: Database, r: aioredis.Redis, event_id: int,
                           now_ms: int) -> list[str]:
    """Invariants 2, 4, 5 and 6 for one event's Redis view (none loaded: nothing to check)."""
    meta = {_s(k): _s(v) for k, v in (await r.hgetall(event_meta(event_id))).items()}
    if not meta:
        return []
    out: list[str] = []
    view = {int(_s(k)): _s(v) for k, v in (await r.hgetall(event_key(event_id, "view"))).items()}
    async with db.engine.connect() as conn:
        sold_pg = {row[0] for row in (await conn.execute(text(
            "SELECT seat_id FROM booking_seats WHERE event_id = :e AND active"),
            {"e": event_id})).all()}
        seats_pg = {row[0] for row in (await conn.execute(text(
            "SELECT id FROM seats WHERE event_id = :e"), {"e": event_id})).all()}
    sold_view = {s for s, v in view.items() if v == "s"}
    if set(view) != seats_pg:
        out.append(f"invariant 5: event {event_id} view has {len(view)} seats, "
                   f"PostgreSQL {len(seats_pg)}")
    for s in sorted(sold_pg - sold_view):
        out.append(f"invariant 5: event {event_id} seat {s} is sold in PostgreSQL, "
                   f"'{view.get(s)}' in Redis")
    for s in sorted(sold_view - sold_pg):
        out.append(f"invariant 5: event {event_id} seat {s} is sold in Redis, not in PostgreSQL")
    avail = {int(_s(m)) for m in await r.zrange(event_key(event_id, "avail"), 0, -1)}
    avail_view = {s for s, v in view.items() if v == "a"}
    if avail != avail_view:
        out.append(f"invariant 5: event {event_id} available index differs from the view "
                   f"({len(avail)} vs {len(avail_view)})")
    held_view = {s: v[2:] for s, v in view.items() if v.startswith("h:")}
    pooled = {s for s, v in view.items() if v == "r"}
    pool = {int(_s(m)) for m in await r.smembers(event_key(event_id, "pool"))}
    if pool != pooled:
        out.append(f"invariant 5: event {event_id} waitlist pool differs from the view")
    reserve = {int(_s(m)) for m in await r.zrange(event_key(event_id, "pooldl"), 0, -1)}
    if reserve != pool:
        out.append(f"invariant 5: event {event_id} pooled seats without a reserve deadline "
                   f"(they would never return to sale): {sorted(pool - reserve)}")
    held_n, sold_n = int(meta.get("held", 0)), int(meta.get("sold", 0))
    if held_n != len(held_view) + len(pooled) or sold_n != len(sold_view):
        out.append(f"invariant 5: event {event_id} counters held={meta.get('held')} "
                   f"sold={meta.get('sold')} but the view has {len(held_view)} / {len(sold_view)}")
    expiries = {_s(t): int(float(sc)) for t, sc in
                await r.zrange(event_key(event_id, "exp"), 0, -1, withscores=True)}
    for seat, tok in sorted(held_view.items()):
        h = {_s(k): _s(v) for k, v in (await r.hgetall(event_key(event_id, "h:" + tok))).items()}
        if not h:
            if tok not in expiries:
                out.append(f"invariant 2: event {event_id} seat {seat} is held by a hold "
                           f"{tok} that no longer exists")
            continue
        if str(seat) not in h.get("seats", "").split(","):
            out.append(f"invariant 2: seat {seat} is marked for hold {tok}, which lacks it")
        if not h.get("fence"):
            out.append(f"invariant 2: hold {tok} has no fencing number")
    for tok, exp in expiries.items():
        if exp < now_ms - EXPIRY_SLACK_MS:
            out.append(f"invariant 6: event {event_id} hold {tok} expired "
                       f"{(now_ms - exp) / 1000:.1f} s ago and still holds seats")
    seq = int(meta.get("seq", 0))
    last = await r.xrevrange(event_key(event_id, "hist"), "+", "-", count=1)
    if last and int(_s(last[0][0]).split("-")[0]) != seq:
        out.append(f"invariant 4: event {event_id} seq {seq} but history ends at "
                   f"{_s(last[0][0])}")
    entries = await r.xrange(event_key(event_id, "hist"), "-", "+")
    seqs = [int(_s(i).split("-")[0]) for i, _ in entries]
    if any(b != a + 1 for a, b in itertools.pairwise(seqs)):
        out.append(f"invariant 4: event {event_id} history has a gap in seq")
    return out


async def run_verify(settings: Settings, event_id: int | None = None, *,
                     repair: bool = False) -> list[str]:
    """All checks; with ``repair``, events whose views disagree are rebuilt and rechecked."""
    assert settings.database_url and settings.redis_url
    db = Database.from_settings(settings, 2)
    r = connect(settings.redis_url, settings.redis_cluster, 4)
    try:
        problems = await check_postgres(db, event_id)
        async with db.engine.connect() as conn:
            sql = "SELECT id FROM events" + ("" if event_id is None else " WHERE id = :e")
            params = {} if event_id is None else {"e": event_id}
            ids = [row[0] for row in (await conn.execute(text(sql), params)).all()]
        for eid in ids:
            found = await check_event_view(db, r, eid, int(time.time() * 1000))
            if found and repair:
                from storage.seatview import RedisSeatView

                await RedisSeatView(r).drop(eid)
                found = [f"repaired (view dropped; rebuilt on next use): {f}" for f in found]
                problems += found
                continue
            problems += found
        return problems
    finally:
        await close_client(r)
        await db.close()
