"""Ports of analytics: the facts the reports are computed from (PostgreSQL + the live view)
and the report cache (Redis), both in ``storage.analytics``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from hub.model import EventStatus

__all__ = ["AnalyticsFacts", "AnalyticsSource", "EventSales", "ReportCache"]


@dataclass(frozen=True, slots=True)
class EventSales:
    """One event's sales: ``capacity``, ``sold`` and ``held`` are seats (``held`` is live)."""

    id: int
    name: str
    status: EventStatus
    start_time: datetime
    capacity: int
    sold: int
    held: int = 0


@dataclass(frozen=True, slots=True)
class AnalyticsFacts:
    """What the reports are computed from. ``bookings``/``cancelled`` count bookings,
    ``holds_active`` holds, ``waitlisted`` seats; ``daily`` maps a UTC date to
    ``(bookings made, bookings cancelled)``."""

    events: list[EventSales]
    bookings: int
    cancelled: int
    holds_active: int
    waitlisted: int
    daily: dict[date, tuple[int, int]] = field(default_factory=dict)


class AnalyticsSource(Protocol):
    """Reads the facts from PostgreSQL and the live view."""

    async def facts(self, since: date, organizer_id: int | None = None) -> AnalyticsFacts:
        """Every event's sales and the totals (only those of ``organizer_id``'s events when
        given); ``daily`` covers ``since`` (a UTC date) to today. Raises: Unavailable."""
        ...


class ReportCache(Protocol):
    """Reports kept as JSON documents (times as RFC 3339 strings) for ``ttl_seconds``."""

    async def get(self, name: str) -> dict[str, Any] | None:
        """The cached report ``name`` (``summary``, ``homepage``), or None."""
        ...

    async def put(self, name: str, report: dict[str, Any], ttl_seconds: int) -> None:
        """Cache ``report`` for ``ttl_seconds`` seconds."""
        ...

    async def invalidate(self) -> None:
        """Drop every cached report (after a booking or event change). Raises: Unavailable."""
        ...
