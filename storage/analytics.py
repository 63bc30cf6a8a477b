"""Analytics facts from PostgreSQL and the live Redis views, and the report cache in Redis.

Keys: ``analytics:summary`` and ``analytics:homepage`` hold JSON reports with a TTL
(:mod:`hub.analytics`); :func:`invalidate` drops both. Every booking or event change calls it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import case, cast, func, literal_column, select
from sqlalchemy.types import Date

from hub.errors import Unavailable
from hub.model import EventStatus
from hub.ports import AnalyticsFacts, EventSales
from storage.db import Database
from storage.keys import REPORT_NAMES, event_key, event_meta, report_key
from storage.models import BookingRow, EventRow, WaitlistRow
from storage.redis_conn import execute
from storage.rows import booked_q, capacity_q

__all__ = ["REPORT_KEYS", "PgAnalyticsSource", "RedisReportCache", "invalidate"]

REPORT_KEYS = tuple(report_key(n) for n in REPORT_NAMES)


async def invalidate(redis: aioredis.Redis) -> None:
    """Drop the cached reports so the next read rebuilds them. Raises: Unavailable."""
    try:
        await redis.delete(*REPORT_KEYS)
    except RedisError as exc:
        raise Unavailable("Redis failed.") from exc


class RedisReportCache:
    """:class:`hub.ports.ReportCache` in Redis (JSON, RFC 3339 times)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client

    async def get(self, name: str) -> dict[str, Any] | None:
        try:
            raw = await self.client.get(report_key(name))
        except RedisError as exc:
            raise Unavailable("Redis failed.") from exc
        if raw is None:
            return None
        report: dict[str, Any] = orjson.loads(raw)
        return report

    async def put(self, name: str, report: dict[str, Any], ttl_seconds: int) -> None:
        try:
            await self.client.set(report_key(name), orjson.dumps(report), ex=ttl_seconds)
        except RedisError as exc:
            raise Unavailable("Redis failed.") from exc

    async def invalidate(self) -> None:
        await invalidate(self.client)


def _utc_day(column: Any) -> Any:
    # A literal, not a bound parameter: GROUP BY must repeat the select expression exactly.
    return cast(func.timezone(literal_column("'UTC'"), column), Date)


class PgAnalyticsSource:
    """:class:`hub.ports.AnalyticsSource`: counts from PostgreSQL, live holds from Redis
    (``held`` seats and the ``exp`` index of each loaded view)."""

    def __init__(self, db: Database, client: aioredis.Redis) -> None:
        self.db = db
        self.client = client

    async def facts(self, since: date, organizer_id: int | None = None) -> AnalyticsFacts:
        """Counts from PostgreSQL (the replica when there is one: a report may trail the
        primary by its replay lag) and live holds from Redis."""
        start = datetime.combine(since, time(), UTC)
        ev_conds: list[Any] = []
        bk_conds: list[Any] = []
        wl_conds: list[Any] = [WaitlistRow.status.in_(("WAITING", "OFFERED"))]
        if organizer_id is not None:
            own = select(EventRow.id).where(EventRow.organizer_id == organizer_id)
            ev_conds.append(EventRow.organizer_id == organizer_id)
            bk_conds.append(BookingRow.event_id.in_(own))
            wl_conds.append(WaitlistRow.event_id.in_(own))
        async with self.db.read() as s:
            events = (await s.execute(
                select(EventRow.id, EventRow.name, EventRow.status, EventRow.start_time,
                       capacity_q(), booked_q()).where(*ev_conds)
                .order_by(EventRow.start_time, EventRow.id))).all()
            bookings, cancelled = (await s.execute(select(
                func.count(), func.count(case((BookingRow.status == "CANCELLED", 1))))
                .select_from(BookingRow).where(*bk_conds))).one()
            waitlisted = await s.scalar(
                select(func.coalesce(func.sum(WaitlistRow.qty), 0)).where(*wl_conds))
            made_day = _utc_day(BookingRow.created_at)
            made = (await s.execute(
                select(made_day, func.count())
                .where(BookingRow.created_at >= start, *bk_conds).group_by(made_day))).all()
            gone_day = _utc_day(BookingRow.cancelled_at)
            gone = (await s.execute(
                select(gone_day, func.count())
                .where(BookingRow.cancelled_at >= start, *bk_conds).group_by(gone_day))).all()
        daily: dict[date, tuple[int, int]] = {}
        for day, n in made:
            daily[day] = (int(n), 0)
        for day, n in gone:
            daily[day] = (daily.get(day, (0, 0))[0], int(n))
        held, holds = await self._live([int(e[0]) for e in events])
        return AnalyticsFacts(
            events=[EventSales(id=e[0], name=e[1], status=EventStatus(e[2]), start_time=e[3],
                               capacity=int(e[4]), sold=int(e[5]), held=held.get(e[0], 0))
                    for e in events],
            bookings=int(bookings), cancelled=int(cancelled), holds_active=holds,
            waitlisted=int(waitlisted or 0), daily=daily)

    async def _live(self, event_ids: list[int]) -> tuple[dict[int, int], int]:
        """Held seats per event and the number of live holds over all events."""
        if not event_ids:
            return {}, 0
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for i in event_ids:
                    pipe.hget(event_meta(i), "held")
                    pipe.zcard(event_key(i, "exp"))
                replies = await execute(pipe)
        except RedisError as exc:
            raise Unavailable("Redis failed.") from exc
        held = {i: int(replies[2 * k] or 0) for k, i in enumerate(event_ids)}
        return held, sum(int(replies[2 * k + 1] or 0) for k in range(len(event_ids)))
