"""``evently_confirm()`` (migration 0002) called directly on PostgreSQL: the fence check, the
unsold check, the partial unique index on active booking seats, and two confirms of the same
seats at once (DESIGN invariant 3: no seat is ever sold twice)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from tests.support.rows import insert_event, insert_user
from tests.support.stores import TestStores, pg_url

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CONFIRM = "SELECT evently_confirm($1, $2, $3::bigint[], $4, $5, $6, $7, $8, $9)"


@pytest.fixture
async def conn(clean_stores: TestStores) -> AsyncIterator[asyncpg.Connection]:
    c = await asyncpg.connect(pg_url(clean_stores))
    try:
        yield c
    finally:
        await c.close()


async def confirm(conn: asyncpg.Connection, event_id: int, user_id: int, seats: list[int],
                  fence: int, email: bool = False, hold: str = "1.tok") -> dict[str, Any]:
    out = await conn.fetchval(CONFIRM, event_id, user_id, seats, fence, hold, None, None,
                              NOW, email)
    return dict(json.loads(out))


async def active_seats(conn: asyncpg.Connection) -> list[int]:
    return [r[0] for r in await conn.fetch(
        "SELECT seat_id FROM booking_seats WHERE active ORDER BY seat_id")]


async def test_a_confirm_writes_booking_seats_fences_and_notice(conn: asyncpg.Connection) -> None:
    user = await insert_user(conn, "ann@example.test")
    event, seats = await insert_event(conn, 4)
    out = await confirm(conn, event, user, seats[:2], fence=7, email=True)
    assert "error" not in out and out["labels"] == ["A-1", "A-2"]
    row = await conn.fetchrow("SELECT * FROM bookings WHERE id = $1", out["booking_id"])
    assert (row["status"], row["fence"], row["hold_id"], row["user_id"]) == (
        "CONFIRMED", 7, "1.tok", user)
    assert await active_seats(conn) == seats[:2]
    fences = await conn.fetch("SELECT id, fence FROM seats ORDER BY id")
    assert [f["fence"] for f in fences] == [7, 7, 0, 0]
    notice = await conn.fetchrow("SELECT kind, payload FROM notifications")
    assert notice["kind"] == "booking.confirmed"
    assert json.loads(notice["payload"])["seat_ids"] == seats[:2]
    assert await conn.fetchval("SELECT to_address FROM email_outbox") == "ann@example.test"


async def test_no_email_row_unless_asked(conn: asyncpg.Connection) -> None:
    user = await insert_user(conn, "ann@example.test")
    event, seats = await insert_event(conn, 1)
    await confirm(conn, event, user, seats, fence=1, email=False)
    assert await conn.fetchval("SELECT count(*) FROM email_outbox") == 0


async def test_a_stale_fence_is_refused_before_writing(conn: asyncpg.Connection) -> None:
    user = await insert_user(conn, "ann@example.test")
    event, seats = await insert_event(conn, 2)
    await conn.execute("UPDATE seats SET fence = 5 WHERE id = $1", seats[1])
    assert await confirm(conn, event, user, seats, fence=4) == {"error": "HOLD_EXPIRED"}
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 0
    assert "error" not in await confirm(conn, event, user, seats, fence=5)  # equal is current


async def test_a_sold_seat_is_refused_and_named(conn: asyncpg.Connection) -> None:
    ann, bob = [await insert_user(conn, f"{n}@example.test") for n in ("ann", "bob")]
    event, seats = await insert_event(conn, 3)
    await confirm(conn, event, ann, seats[:2], fence=1)
    out = await confirm(conn, event, bob, seats[1:], fence=2)
    assert out == {"error": "SEAT_UNAVAILABLE", "seat_ids": [seats[1]]}
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 1
    assert await active_seats(conn) == seats[:2]


async def test_a_cancelled_seat_can_be_sold_again(conn: asyncpg.Connection) -> None:
    user = await insert_user(conn, "ann@example.test")
    event, seats = await insert_event(conn, 1)
    first = await confirm(conn, event, user, seats, fence=1)
    await conn.execute("UPDATE booking_seats SET active = false WHERE booking_id = $1",
                       first["booking_id"])
    assert "error" not in await confirm(conn, event, user, seats, fence=2)


async def test_seats_of_another_event_and_bad_events(conn: asyncpg.Connection) -> None:
    user = await insert_user(conn, "ann@example.test")
    event, seats = await insert_event(conn, 2)
    _, foreign = await insert_event(conn, 1)
    out = await confirm(conn, event, user, [seats[0], foreign[0]], fence=1)
    assert out == {"error": "SEAT_UNAVAILABLE", "seat_ids": [foreign[0]]}
    closed, closed_seats = await insert_event(conn, 1, status="inactive")
    assert await confirm(conn, closed, user, closed_seats, 1) == {"error": "EVENT_INACTIVE"}
    assert await confirm(conn, 999_999, user, seats, 1) == {"error": "NOT_FOUND"}
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 0


async def test_the_partial_unique_index_backs_the_check(conn: asyncpg.Connection) -> None:
    user = await insert_user(conn, "ann@example.test")
    event, seats = await insert_event(conn, 1)
    await confirm(conn, event, user, seats, fence=1)
    other = await conn.fetchval(
        "INSERT INTO bookings (event_id, user_id, status, fence) VALUES ($1, $2, 'CONFIRMED', 2)"
        " RETURNING id", event, user)
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.execute("INSERT INTO booking_seats (booking_id, seat_id, event_id, active)"
                           " VALUES ($1, $2, $3, true)", other, seats[0], event)
    await conn.execute("INSERT INTO booking_seats (booking_id, seat_id, event_id, active)"
                       " VALUES ($1, $2, $3, false)", other, seats[0], event)  # inactive: fine


async def test_a_second_confirm_waits_for_the_first_then_refuses(
        conn: asyncpg.Connection, clean_stores: TestStores) -> None:
    ann, bob = [await insert_user(conn, f"{n}@example.test") for n in ("ann", "bob")]
    event, seats = await insert_event(conn, 3)
    other = await asyncpg.connect(pg_url(clean_stores))
    try:
        tx = conn.transaction()
        await tx.start()
        first = await confirm(conn, event, ann, seats[:2], fence=1)  # seat rows now locked
        second = asyncio.create_task(confirm(other, event, bob, seats[1:], fence=2))
        await asyncio.sleep(0.3)
        assert not second.done(), "the second confirm did not wait for the seat row locks"
        await tx.commit()
        refused = await asyncio.wait_for(second, 10)
    finally:
        await other.close()
    assert "error" not in first
    assert refused == {"error": "SEAT_UNAVAILABLE", "seat_ids": [seats[1]]}
    assert await active_seats(conn) == seats[:2]


async def test_many_confirms_of_one_seat_at_once_sell_it_once(clean_stores: TestStores) -> None:
    setup = await asyncpg.connect(pg_url(clean_stores))
    users = [await insert_user(setup, f"u{i}@example.test") for i in range(8)]
    event, seats = await insert_event(setup, 2)
    conns = [await asyncpg.connect(pg_url(clean_stores)) for _ in users]
    try:
        outs = await asyncio.gather(*(confirm(c, event, u, seats, fence=i + 1)
                                      for i, (c, u) in enumerate(zip(conns, users, strict=True))))
        sold = await active_seats(setup)
    finally:
        for c in [*conns, setup]:
            await c.close()
    winners = [o for o in outs if "error" not in o]
    assert len(winners) == 1 and sold == seats
    assert all(o["error"] in ("SEAT_UNAVAILABLE", "HOLD_EXPIRED") for o in outs if "error" in o)
