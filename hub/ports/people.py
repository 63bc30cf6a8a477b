"""Accounts with their activity, for admins (CONTRACT §2 ``GET /admin/users``,
``GET /admin/users/{id}``); read by ``storage.user_stats``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from hub.model import Role, User

__all__ = ["SORT_KEYS", "PeopleSource", "Person", "PersonQuery", "UserStats"]

#: What ``GET /admin/users`` sorts by: the account id, a count, or a time.
SORT_KEYS = ("id", "name", "created_at", "bookings", "seats", "cancellations",
             "events_organized", "last_login_at")


@dataclass(frozen=True, slots=True)
class UserStats:
    """An account's activity.

    ``bookings`` — bookings ever made (confirmed and cancelled); ``seats`` — seats its
    CONFIRMED bookings hold now; ``cancellations`` — its bookings now CANCELLED;
    ``events_organized`` — events whose organizer it is; ``last_login_at`` — its last log-in,
    None when never recorded.
    """

    bookings: int = 0
    seats: int = 0
    cancellations: int = 0
    events_organized: int = 0
    last_login_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """An account and its :class:`UserStats`."""

    user: User
    stats: UserStats


@dataclass(frozen=True, slots=True)
class PersonQuery:
    """A page of accounts: ``q`` matches name or email (case-insensitive, literal); ``sort``
    is one of :data:`SORT_KEYS` (ties by id); nulls sort last."""

    offset: int = 0
    limit: int = 20
    q: str | None = None
    role: Role | None = None
    sort: str = "id"
    order: Literal["asc", "desc"] = "asc"


class PeopleSource(Protocol):
    """Accounts with their activity (PostgreSQL)."""

    async def people(self, query: PersonQuery) -> tuple[list[Person], int]:
        """A page of accounts with stats, and the number matching."""
        ...

    async def person(self, user_id: int) -> Person:
        """One account with stats. Raises: NotFound."""
        ...
