"""Analytics reports: the admin summary and the public homepage figures (CONTRACT §2
``/admin/analytics/summary``, ``/stats/homepage``), computed from facts read by ``storage``.

Definitions (seats unless said otherwise):

* ``totals.bookings`` — bookings ever made (confirmed and cancelled); ``totals.cancelled`` —
  those cancelled; ``cancellation_rate`` = cancelled / bookings (0 when there are none).
* ``totals.seats_sold`` — seats of CONFIRMED bookings; ``utilization`` = sold / capacity.
* ``totals.holds_active`` — holds (not seats) live in Redis, waitlist offers included.
* ``totals.waitlisted`` — seats asked for by WAITING and OFFERED entries (as ``waitlisted_count``).
* ``daily`` — the last :data:`DAYS` UTC days, oldest first: bookings made and bookings
  cancelled that day.
* Homepage: ``upcoming_events`` are active events that have not started;
  ``seats_available`` = their capacity − sold − held; ``bookings_today`` = bookings made since
  UTC midnight; ``popular`` = the :data:`POPULAR` upcoming events with the highest utilization.

The summary is cached for :data:`SUMMARY_TTL_SECONDS` and dropped on every booking or event
change; the homepage for :data:`HOMEPAGE_TTL_SECONDS`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hub.model import Actor, EventStatus, Role
from hub.policy import require_event_creator
from hub.ports import AnalyticsFacts, AnalyticsSource, EventSales, ReportCache

__all__ = [
    "DAYS",
    "HOMEPAGE_TTL_SECONDS",
    "POPULAR",
    "SUMMARY_TTL_SECONDS",
    "AnalyticsFacts",
    "AnalyticsService",
    "AnalyticsSource",
    "EventSales",
    "ReportCache",
    "homepage",
    "summarize",
    "utilization",
]

DAYS = 30
POPULAR = 5
SUMMARY_TTL_SECONDS = 60
HOMEPAGE_TTL_SECONDS = 10


def utilization(sold: int, capacity: int) -> float:
    """sold / capacity rounded to 4 places; 0 for an event without seats."""
    return round(sold / capacity, 4) if capacity > 0 else 0.0


def summarize(facts: AnalyticsFacts, now: datetime) -> dict[str, Any]:
    """The admin summary document (shape: CONTRACT §2)."""
    today = now.date()
    days = [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    return {
        "generated_at": now,
        "totals": {
            "events": len(facts.events),
            "bookings": facts.bookings,
            "seats_sold": sum(e.sold for e in facts.events),
            "cancelled": facts.cancelled,
            "holds_active": facts.holds_active,
            "waitlisted": facts.waitlisted,
        },
        "cancellation_rate": round(facts.cancelled / facts.bookings, 4) if facts.bookings else 0.0,
        "daily": [{"date": d.isoformat(), "booked": facts.daily.get(d, (0, 0))[0],
                   "cancelled": facts.daily.get(d, (0, 0))[1]} for d in days],
        "events": [{"id": e.id, "name": e.name, "capacity": e.capacity, "sold": e.sold,
                    "utilization": utilization(e.sold, e.capacity)} for e in facts.events],
    }


def homepage(facts: AnalyticsFacts, now: datetime) -> dict[str, Any]:
    """The public homepage figures (shape: CONTRACT §2)."""
    upcoming = [e for e in facts.events
                if e.status is EventStatus.ACTIVE and e.start_time >= now]
    popular = sorted(upcoming, key=lambda e: (-utilization(e.sold, e.capacity), e.start_time,
                                              e.id))[:POPULAR]
    return {
        "upcoming_events": len(upcoming),
        "seats_available": sum(max(e.capacity - e.sold - e.held, 0) for e in upcoming),
        "bookings_today": facts.daily.get(now.date(), (0, 0))[0],
        "popular": [{"id": e.id, "name": e.name,
                     "utilization": utilization(e.sold, e.capacity)} for e in popular],
    }


class AnalyticsService:
    """Cached reports. ``now`` must be an aware UTC datetime (days are UTC days)."""

    def __init__(self, source: AnalyticsSource, cache: ReportCache) -> None:
        self.source = source
        self.cache = cache

    async def summary(self, actor: Actor, now: datetime, refresh: bool = False) -> dict[str, Any]:
        """The summary: an admin's covers every event (from the cache unless ``refresh``); an
        organizer's covers only the events they organize and is computed on every call (it
        is not cached, so it is never stale). Raises: Forbidden (plain users)."""
        require_event_creator(actor)
        if actor.role is not Role.ADMIN:
            since = now.date() - timedelta(days=DAYS - 1)
            return summarize(await self.source.facts(since, organizer_id=actor.id), now)
        if not refresh and (cached := await self.cache.get("summary")) is not None:
            return cached
        report = summarize(await self._facts(now), now)
        await self.cache.put("summary", report, SUMMARY_TTL_SECONDS)
        return report

    async def homepage(self, now: datetime) -> dict[str, Any]:
        """The homepage figures (anyone), cached briefly."""
        if (cached := await self.cache.get("homepage")) is not None:
            return cached
        report = homepage(await self._facts(now), now)
        await self.cache.put("homepage", report, HOMEPAGE_TTL_SECONDS)
        return report

    async def _facts(self, now: datetime) -> AnalyticsFacts:
        return await self.source.facts(now.date() - timedelta(days=DAYS - 1))
