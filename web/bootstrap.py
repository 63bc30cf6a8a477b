"""The composition root (STYLE.md §13): the one place that builds every adapter and service of
a hub process and wires the callbacks between them.

``build(settings)`` is called once by the app lifespan (``web.app``); it returns a
:class:`web.runtime.Runtime`: the frozen :class:`hub.services.Services` bundle that routes and
``/ws`` sessions see, the web layer's own pieces (token codec, rate limiter, ``/ws`` limits),
and the :class:`web.background.Background` that runs the loops and closes everything on stop.
Nothing else constructs a storage class.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import redis.asyncio as aioredis

from hub.accounts import AccountService, UserAdmin
from hub.analytics import AnalyticsService
from hub.audit import AuditService
from hub.booking_changes import BookingChanges
from hub.bookings import BookingService
from hub.box_office import BoxOffice
from hub.event_admin import EventAdmin
from hub.events import EventService
from hub.fanout import Broadcaster
from hub.holds import HoldLimits
from hub.idempotency import IdempotencyService
from hub.live import LiveFeed
from hub.notifications import NotificationService
from hub.organizers import OrganizerDesk
from hub.people import PeopleService
from hub.self_service import SelfService
from hub.services import Services
from hub.sessions import SessionService
from hub.waitlist import WaitlistService
from storage.analytics import PgAnalyticsSource, RedisReportCache
from storage.audit import PgAuditLog
from storage.bookings import PgBookings
from storage.db import Database
from storage.events import PgEvents
from storage.idempotency import IdempotencyStore
from storage.keys import user_channel
from storage.live_stats import LiveStats
from storage.notifications import NotificationStore
from storage.organizers import PgOrganizerRequests
from storage.pubsub import RedisChannels, publish
from storage.redis_conn import close_client, connect
from storage.resets import PgPasswordResets
from storage.seatview import RedisSeatView
from storage.settings import Settings
from storage.sharded_pubsub import ShardedChannels
from storage.tokens import Denylist, RedisSessionEnder, RefreshStore
from storage.user_stats import PgPeople
from storage.users import PgUsers
from storage.waitlist import PgWaitlist
from web import metrics
from web.background import Background
from web.clock import utcnow
from web.notifier import PushNotifier
from web.ratelimit import Limiter
from web.runtime import Runtime, WsLimits
from web.security import BcryptHasher, TokenCodec
from web.ws_limits import SocketCaps

__all__ = ["StoreProbe", "build"]

log = logging.getLogger(__name__)
_tasks: set[asyncio.Task[None]] = set()  # repairs after a pub/sub reconnect (kept referenced)


class StoreProbe:
    """:class:`hub.ports.runtime.Readiness`: PostgreSQL and Redis each answer a ping."""

    def __init__(self, db: Database, client: aioredis.Redis) -> None:
        self.db = db
        self.client = client

    async def check(self) -> dict[str, bool]:
        pg = await self.db.ping()
        try:
            rd = bool(await self.client.ping())
        except Exception:
            rd = False
        return {"postgres": pg, "redis": rd}


async def build(settings: Settings) -> Runtime:
    """Build and start one process's runtime: connections, adapters, services, pub/sub, the
    start-up reconciliation of every loaded view, and the background loops.

    ``settings.database_url`` and ``settings.redis_url`` must be set.
    """
    assert settings.database_url and settings.redis_url
    db = Database.from_settings(settings)
    # One Redis on a blocking pool, or a Redis Cluster client (REDIS_CLUSTER; docs/scaling.md).
    cluster = settings.redis_cluster
    client = connect(settings.redis_url, cluster, settings.redis_pool_size)
    email = settings.email_enabled

    async def publish_to_user(user_id: int, message: dict[str, Any]) -> None:
        await publish(client, user_channel(user_id), message)

    users, events_store = PgUsers(db), PgEvents(db)
    bookings_store = PgBookings(db, email=email)
    view = RedisSeatView(client)
    notifier = PushNotifier(publish_to_user)
    reports = RedisReportCache(client)
    refresh = RefreshStore(db)
    denylist = Denylist(client, settings.refresh_token_ttl_seconds,
                        settings.access_token_ttl_seconds)
    ender = RedisSessionEnder(client)
    tokens = TokenCodec(settings.secret(), settings.access_token_ttl_seconds,
                        settings.refresh_token_ttl_seconds)

    # The waitlist is told of freed seats by the booking service: passed in when it is built.
    waitlist = WaitlistService(PgWaitlist(db, email=email), view, notifier,
                               settings.max_held_seats_per_user)
    bookings = BookingService(
        events_store, bookings_store, view, notifier,
        HoldLimits(hold_max_lifetime_seconds=settings.hold_max_lifetime_seconds,
                   max_held_seats_per_user=settings.max_held_seats_per_user,
                   confirm_grace_seconds=settings.confirm_grace_seconds),
        reports, waitlist)
    hasher, requests = BcryptHasher(settings.bcrypt_rounds), PgOrganizerRequests(db)
    accounts = AccountService(users, hasher, organizer_signup=settings.organizer_signup,
                              requests=requests)
    audit = AuditService(PgAuditLog(db))
    sessions = SessionService(accounts, users, refresh, denylist, tokens, ender)
    events = EventService(events_store, view, settings.hold_ttl_seconds,
                          settings.waitlist_offer_seconds)

    # Pub/sub and the broadcaster need each other: the driver calls back into the broadcaster.
    broadcaster_ref: list[Broadcaster] = []
    services_ref: list[Services] = []

    def on_reconnect() -> None:
        if not cluster:
            broadcaster_ref[0].resync_all()
            return
        # A failover may have promoted a replica that missed the last writes (seq may have
        # gone back): the views whose channel moved go under a fresh epoch, every loaded view
        # is repaired from PostgreSQL, then every subscriber takes a fresh snapshot.
        async def repair() -> None:
            assert isinstance(channels, ShardedChannels)
            moved = set(channels.moved_events)
            channels.moved_events.clear()
            for event_id in sorted(moved):
                try:
                    source = await events_store.view_source(event_id)
                    await view.rebase(event_id, source.epoch)
                except Exception:
                    log.exception("new epoch for event %d after a failover failed", event_id)
            await _reconcile_on_start(services_ref[0], view)
            broadcaster_ref[0].resync_all()

        _tasks.add(task := asyncio.get_running_loop().create_task(repair()))
        task.add_done_callback(_tasks.discard)

    channels: RedisChannels | ShardedChannels = (ShardedChannels if cluster else RedisChannels)(
        client, on_event=lambda data: broadcaster_ref[0].dispatch_event(data),
        on_user=lambda user_id, data: broadcaster_ref[0].dispatch_user(user_id, data),
        on_reconnect=on_reconnect)
    broadcaster = Broadcaster(channels)
    broadcaster_ref.append(broadcaster)
    metrics.install(broadcaster)

    services = Services(
        accounts=accounts,
        sessions=sessions,
        users=UserAdmin(accounts, users, refresh, denylist, ender, audit),
        people=PeopleService(PgPeople(db)),
        events=events,
        event_admin=EventAdmin(events, events_store, bookings_store, view,
                               bookings.seats_freed, bookings.ensure_view, reports.invalidate,
                               audit),
        bookings=bookings,
        booking_changes=BookingChanges(bookings),
        waitlist=waitlist,
        box_office=BoxOffice(bookings, waitlist),
        notifications=NotificationService(NotificationStore(db)),
        analytics=AnalyticsService(PgAnalyticsSource(db, client), reports),
        idempotency=IdempotencyService(IdempotencyStore(db)),
        live=LiveFeed(broadcaster, LiveStats(client, view.live_events),
                      events_store.organized_event_ids),
        readiness=StoreProbe(db, client),
        self_service=SelfService(users, hasher, PgPasswordResets(db), sessions),
        organizers=OrganizerDesk(requests, denylist, ender, audit),
        audit=audit,
    )
    services_ref.append(services)
    await channels.start()
    await _reconcile_on_start(services, view)
    background = Background(
        services, settings.sweep_interval_seconds, view.exists, _mailer(settings, db),
        closers=[("pub/sub", channels.stop),
                 # the client and the pool(s) it was built with
                 ("redis", lambda: close_client(client)),
                 ("postgres", db.close)])
    background.start()
    return Runtime(
        services=services, tokens=tokens,
        limiter=Limiter(settings, None if cluster else client.connection_pool),
        ws=WsLimits(settings.ws_max_message_bytes, settings.ws_outbox_limit,
                    frozenset(settings.origins), settings.ws_idle_seconds,
                    settings.ws_max_subscriptions,
                    SocketCaps(settings.ws_max_sockets_per_address,
                               settings.ws_max_sockets_per_user,
                               settings.rate_limit_enabled)),
        background=background, metrics_token=settings.metrics_token)


async def _reconcile_on_start(services: Services, view: RedisSeatView) -> None:
    """Repair every loaded view from PostgreSQL (a crash between a commit and its view update
    is healed here; DESIGN invariant 3)."""
    now = utcnow()
    for event_id in await view.live_events():
        try:
            await services.bookings.reconcile(event_id, now)
        except Exception:
            log.exception("start-up reconciliation of event %d failed", event_id)


def _mailer(settings: Settings, db: Database) -> Any:
    """The e-mail outbox pass (``SMTP_*`` settings), or None when e-mail is off."""
    if not settings.email_enabled:
        return None
    import aiosmtplib

    from storage.outbox import OutboxSender
    from web.emails import compose

    async def send(message: Any) -> object:
        return await aiosmtplib.send(
            message, hostname=settings.smtp_host, port=settings.smtp_port,
            username=settings.smtp_username, password=settings.smtp_password,
            start_tls=settings.smtp_starttls, timeout=10)

    return OutboxSender(db, send, settings.smtp_from, compose=compose).send_due
