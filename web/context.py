"""The process's resources and services, built by the app lifespan (STYLE.md §7)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis

from hub.accounts import AccountService
from hub.bookings import BookingService, HoldLimits
from hub.errors import NotFound
from hub.events import EventService
from hub.fanout import Broadcaster, Outbox, user_channel
from hub.model import Role
from hub.waitlist import WaitlistService
from storage.analytics import invalidate as invalidate_analytics
from storage.db import Database
from storage.idempotency import IdempotencyStore
from storage.live_stats import LiveStats
from storage.notifications import NotificationStore
from storage.pubsub import RedisChannels, publish
from storage.seatview import RedisSeatView
from storage.settings import Settings
from storage.store import PgStore
from storage.tokens import Denylist, RefreshStore
from storage.waitlist import PgWaitlist
from web import render
from web.security import BcryptHasher, Principal, TokenCodec

__all__ = ["Hub", "RedisNotifier", "utcnow"]

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """The clock, read once per request or message and passed down (STYLE.md §3)."""
    return datetime.now(UTC)


_RENDER: dict[str, Callable[[Any], dict[str, Any]]] = {
    "booking.confirmed": lambda r: {"booking": render.booking(r)},
    "booking.cancelled": lambda r: {"booking": render.booking(r)},
    "hold.expired": render.hold_expired,
    "waitlist.offered": lambda r: {"entry_id": r.entry_id, "event_id": r.event_id,
                                   "hold": render.hold(r.hold)},
    "waitlist.promoted": lambda r: {"entry_id": r.entry_id, "booking": render.booking(r.booking)},
    "notification": lambda r: {"notification": render.notification(r)},
}


STOP_STEP_SECONDS = 3
_BOOKING_CHANGES = {"booking.confirmed", "booking.cancelled", "waitlist.promoted"}


class RedisNotifier:
    """:class:`hub.ports.Notifier`: render a personal push and publish it on the user's
    channel, which every hub process with a session of that user listens to."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client

    async def notify(self, user_id: int, kind: str, record: object) -> None:
        if kind in _BOOKING_CHANGES:
            try:  # the analytics summary is dropped on every booking change
                await invalidate_analytics(self.client)
            except Exception:
                log.exception("could not drop the analytics cache")
        body = {"type": kind, **_RENDER[kind](record)}
        try:
            await publish(self.client, user_channel(user_id), body)
        except Exception:  # a lost push must not undo a committed booking
            log.exception("could not push %s to user %d", kind, user_id)


@dataclass
class Hub:
    """Everything a request handler needs, for one process."""

    settings: Settings
    db: Database
    redis: aioredis.Redis
    store: PgStore
    view: RedisSeatView
    tokens: TokenCodec
    accounts: AccountService
    events: EventService
    bookings: BookingService
    broadcaster: Broadcaster
    channels: RedisChannels
    idempotency: IdempotencyStore
    denylist: Denylist
    refresh: RefreshStore
    waitlist: WaitlistService
    notifications: NotificationStore
    live_stats: LiveStats
    analytics_outboxes: set[Outbox] = field(default_factory=set)
    connections: int = 0
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    @classmethod
    async def start(cls, settings: Settings) -> Hub:
        assert settings.database_url and settings.redis_url
        db = Database(settings.database_url, settings.db_pool_size)
        # A blocking pool: under a burst, commands wait for a connection instead of failing.
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.redis_url, max_connections=settings.redis_pool_size, timeout=5,
            health_check_interval=30)
        client = aioredis.Redis(connection_pool=pool)
        email = settings.email_enabled
        store = PgStore(db, email=email)
        view = RedisSeatView(client)
        notifier = RedisNotifier(client)
        limits = HoldLimits(hold_max_lifetime_seconds=settings.hold_max_lifetime_seconds,
                            max_held_seats_per_user=settings.max_held_seats_per_user,
                            confirm_grace_seconds=settings.confirm_grace_seconds)
        bookings = BookingService(store, view, notifier, limits)
        broadcaster_ref: list[Broadcaster] = []
        channels = RedisChannels(client, lambda ch, data: broadcaster_ref[0].dispatch(ch, data),
                                 on_reconnect=lambda: broadcaster_ref[0].resync_all())
        broadcaster = Broadcaster(channels)
        broadcaster_ref.append(broadcaster)
        hub = cls(
            settings=settings, db=db, redis=client, store=store, view=view,
            tokens=TokenCodec(settings.secret(), settings.access_token_ttl_seconds,
                              settings.refresh_token_ttl_seconds),
            accounts=AccountService(store, BcryptHasher(settings.bcrypt_rounds)),
            events=EventService(store, view, settings.hold_ttl_seconds,
                                settings.waitlist_offer_seconds),
            bookings=bookings, broadcaster=broadcaster, channels=channels,
            idempotency=IdempotencyStore(db),
            denylist=Denylist(client, settings.refresh_token_ttl_seconds),
            refresh=RefreshStore(db),
            waitlist=WaitlistService(PgWaitlist(db, email=email), view, bookings, notifier),
            notifications=NotificationStore(db),
            live_stats=LiveStats(client),
        )
        await channels.start()
        await hub._reconcile_on_start()
        hub.tasks.append(asyncio.create_task(hub._sweeper(), name="evently-sweeper"))
        hub.tasks.append(asyncio.create_task(hub._analytics(), name="evently-analytics"))
        if settings.email_enabled:
            hub.tasks.append(asyncio.create_task(hub._mailer(), name="evently-mailer"))
        return hub

    async def _reconcile_on_start(self) -> None:
        """Repair every loaded view from PostgreSQL (a crash between a commit and its view
        update is healed here; DESIGN invariant 3)."""
        now = utcnow()
        for event_id in await self.view.live_events():
            try:
                await self.bookings.reconcile(event_id, now)
            except Exception:
                log.exception("start-up reconciliation of event %d failed", event_id)

    async def seats_freed(self, event_id: int, seat_ids: list[int], now: datetime) -> None:
        """Seats became available (cancel, release, expiry, capacity increase): the waitlist
        is offered them. Every path that frees seats calls this."""
        if self.bookings.on_freed is not None:
            await self.bookings.on_freed(event_id, seat_ids, now)

    async def token_pair(self, user_id: int, role: Role, now: datetime,
                         family: str | None = None) -> dict[str, Any]:
        """A new access token and a refresh token (of ``family``, or a new family); the access
        token names the family in its ``fam`` claim, which ``POST /auth/logout`` revokes."""
        import secrets

        family = family or secrets.token_urlsafe(16)
        access, _ = self.tokens.issue(user_id, role, now, family=family)
        refresh, rclaims = self.tokens.issue(user_id, role, now, kind="refresh", family=family)
        await self.refresh.add(rclaims["jti"], user_id, family,
                               datetime.fromtimestamp(rclaims["exp"], UTC), now)
        return {"access_token": access, "refresh_token": refresh, "token_type": "bearer",
                "expires_in": self.tokens.access_ttl}

    async def check_revoked(self, principal: Principal) -> None:
        """Raises: TokenRevoked (logged out, banned, or a revoked refresh family)."""
        await self.denylist.check(principal.jti, principal.id, principal.issued_at)

    async def stop(self) -> None:
        """Stop the background tasks and close every connection; each step is bounded
        (``STOP_STEP_SECONDS``) so Ctrl-C always ends the process."""
        for t in self.tasks:
            t.cancel()
        steps: list[tuple[str, Any]] = [
            *((f"task {t.get_name()}", t) for t in self.tasks),
            ("pub/sub", self.channels.stop()), ("redis", self.redis.aclose()),
            ("postgres", self.db.close())]
        for name, step in steps:
            try:
                await asyncio.wait_for(step, STOP_STEP_SECONDS)
            except asyncio.CancelledError:
                pass
            except TimeoutError:
                log.warning("shutdown: %s did not stop within %s s", name, STOP_STEP_SECONDS)
            except Exception:
                log.exception("shutdown: %s failed", name)

    async def _mailer(self) -> None:
        """Send the e-mail outbox (``SMTP_*`` settings) every second."""
        import aiosmtplib

        from storage.outbox import OutboxSender

        st = self.settings

        async def send(message: Any) -> object:
            return await aiosmtplib.send(
                message, hostname=st.smtp_host, port=st.smtp_port, username=st.smtp_username,
                password=st.smtp_password, start_tls=st.smtp_starttls, timeout=10)

        sender = OutboxSender(self.db, send, st.smtp_from)
        while True:
            try:
                while await sender.send_due(utcnow()):
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("e-mail outbox pass failed")
            await asyncio.sleep(1)

    async def _analytics(self) -> None:
        """Every 0.9 s: publish this process's local counts, and push the aggregated
        ``analytics`` message to local admin sessions that asked (at least once a second)."""
        import orjson

        while True:
            await asyncio.sleep(0.9)
            try:
                subs = {e: len(s) for e, s in self.broadcaster.by_event.items()}
                await self.live_stats.publish_local(subs, self.connections)
                if self.analytics_outboxes:
                    now_ms = int(utcnow().timestamp() * 1000)
                    text = orjson.dumps(await self.live_stats.snapshot(now_ms)).decode()
                    for box in list(self.analytics_outboxes):
                        box.put(text)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("analytics tick failed")

    async def _sweeper(self) -> None:
        """Expire holds every ``SWEEP_INTERVAL_SECONDS`` (0.2 s) and keep the views of events
        with local subscribers present (a wiped view is rebuilt under a new epoch)."""
        interval = self.settings.sweep_interval_seconds
        tick = 0
        while True:
            await asyncio.sleep(interval)
            tick += 1
            try:
                swept = await self.bookings.sweep(utcnow())
                if swept:
                    from web import metrics

                    metrics.holds_expired(len(swept))
                if tick % 5 == 0:
                    for event_id in list(self.broadcaster.by_event):
                        if not await self.view.exists(event_id):
                            try:
                                await self.bookings.ensure_view(event_id, utcnow())
                            except NotFound:
                                pass  # a deleted event: its subscribers just stay idle
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sweep failed; retrying")
                await asyncio.sleep(1)
