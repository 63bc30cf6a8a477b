"""Rows written straight into the test database, for integration tests of ``storage/``.

Every NOT NULL column is given explicitly: the ORM's Python-side defaults do not apply to
plain SQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

__all__ = ["insert_event", "insert_user"]


async def insert_user(conn: asyncpg.Connection, email: str, role: str = "user") -> int:
    """A user (password hash is a placeholder: these tests never log in). Returns its id."""
    return int(await conn.fetchval(
        "INSERT INTO users (name, email, password_hash, role) VALUES ($1, $2, 'x', $3)"
        " RETURNING id", email.split("@")[0], email, role))


async def insert_event(conn: asyncpg.Connection, n_seats: int, status: str = "active",
                       ) -> tuple[int, list[int]]:
    """An event ten days ahead with ``n_seats`` seats in row A (fence 0).

    Returns ``(event_id, seat ids in seat-number order)``.
    """
    start = datetime.now(UTC) + timedelta(days=10)
    event_id = int(await conn.fetchval(
        "INSERT INTO events (name, venue, start_time, end_time, status, hold_ttl_seconds,"
        " waitlist_offer_seconds, auto_promote, view_epoch)"
        " VALUES ('Night', 'Hall', $1, $2, $3, 600, 300, false, 0) RETURNING id",
        start, start + timedelta(hours=2), status))
    ids = [int(r["id"]) for r in await conn.fetch(
        "INSERT INTO seats (event_id, section, row, number, label, rank, fence)"
        " SELECT $1, 'Floor', 'A', n, 'A-' || n, n, 0 FROM generate_series(1, $2) AS n"
        " RETURNING id", event_id, n_seats)]
    return event_id, sorted(ids)
