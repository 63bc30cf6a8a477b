"""Events and users created through the PostgreSQL adapters, for integration tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.model import Event, User
from hub.ports import NewEvent
from hub.seatmap import seats_for_capacity
from storage.events import PgEvents
from storage.users import PgUsers

__all__ = ["NOW", "new_event", "new_user"]

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a fixed "now": time is an argument


async def new_user(users: PgUsers, name: str, role: str = "user") -> User:
    """``name@example.test`` with a placeholder password hash."""
    return await users.add_user(name.title(), f"{name}@example.test", "x", role, NOW)


async def new_event(events: PgEvents, capacity: int, name: str = "Night",
                    days_ahead: int = 10, hold_ttl_seconds: int = 600) -> Event:
    """An active event of ``capacity`` seats in rows of 10 (``A1``…), ``days_ahead`` of NOW."""
    start = NOW + timedelta(days=days_ahead)
    return await events.create_event(NewEvent(
        name=name, venue="Hall", start_time=start, end_time=start + timedelta(hours=2),
        hold_ttl_seconds=hold_ttl_seconds, waitlist_offer_seconds=300, auto_promote=False,
        organizer_id=None, seats=seats_for_capacity(capacity), now=NOW))
