"""Every interface ``hub`` talks to the outside through (STYLE.md §8), one module per noun.

``storage/`` implements them on real PostgreSQL and Redis; ``web/`` implements the few that
are wire formats (the password hasher, the notifier's rendering). Import them from here.

=====================  ===================================================  ====================
module                 interfaces                                           implemented in
=====================  ===================================================  ====================
:mod:`.seats`          :class:`SeatView` (holds, live seat status)          ``storage.seatview``
:mod:`.events`         :class:`EventStore`                                  ``storage.events``
:mod:`.bookings`       :class:`BookingStore`                                ``storage.bookings``
:mod:`.users`          :class:`UserStore`, :class:`RefreshTokens`,          ``storage.users``,
                       :class:`AccessRevocation`, :class:`SessionEnder`,    ``storage.tokens``,
                       :class:`PasswordHasher`                              ``web.security``
:mod:`.accounts`       :class:`OrganizerRequestStore`,                      ``storage.organizers``,
                       :class:`PasswordResetStore`, :class:`AuditLog`       ``storage.resets``,
                                                                            ``storage.audit``
:mod:`.waitlist`       :class:`WaitlistStore`, :class:`PromotionTx`         ``storage.waitlist``
:mod:`.push`           :class:`Notifier`, :class:`ChannelDriver`            ``web.notifier``,
                                                                            ``storage.pubsub``
:mod:`.analytics`      :class:`AnalyticsSource`, :class:`ReportCache`       ``storage.analytics``
:mod:`.runtime`        :class:`TokenCodec`, :class:`IdempotencyKeys`,       ``web.security``,
                       :class:`Notifications`, :class:`LiveStats`,          ``storage.*``,
                       :class:`Readiness`, :class:`WaitlistHooks`           ``hub.waitlist``
=====================  ===================================================  ====================

Units: ``*_ms`` are epoch milliseconds (or durations in ms), ``*_seconds`` seconds, ``now``
a timezone-aware UTC ``datetime`` read once per request by the caller (STYLE.md §3). Seat ids
are ``seats.id`` values, never labels. Where a lease length ``ttl_ms`` is passed to the seat
view, **0 means the event's TTL** (see :mod:`.seats`).
"""

from __future__ import annotations

from hub.ports.accounts import (
    AuditEntry,
    AuditLog,
    OrganizerRequest,
    OrganizerRequestStore,
    PasswordResetStore,
    ResetMail,
)
from hub.ports.analytics import AnalyticsFacts, AnalyticsSource, EventSales, ReportCache
from hub.ports.bookings import BookingChange, BookingStore, ChangedBooking, ConfirmCommand
from hub.ports.events import EventQuery, EventStore, NewEvent, SeatPlan
from hub.ports.push import ChannelDriver, Notifier
from hub.ports.runtime import (
    IdempotencyKeys,
    LiveStats,
    Notifications,
    Principal,
    PromotionBooker,
    Readiness,
    StoredAnswer,
    TokenCodec,
    WaitlistHooks,
)
from hub.ports.seats import (
    EventCounts,
    HoldRequest,
    SeatView,
    Snapshot,
    SweptHold,
    ViewMissing,
    ViewSource,
)
from hub.ports.users import (
    AccessRevocation,
    PasswordHasher,
    RefreshTokens,
    SessionEnder,
    SpentRefresh,
    UserStore,
)
from hub.ports.waitlist import PromotionTx, WaitlistStore

__all__ = [
    "AccessRevocation",
    "AnalyticsFacts",
    "AnalyticsSource",
    "AuditEntry",
    "AuditLog",
    "BookingChange",
    "BookingStore",
    "ChangedBooking",
    "ChannelDriver",
    "ConfirmCommand",
    "EventCounts",
    "EventQuery",
    "EventSales",
    "EventStore",
    "HoldRequest",
    "IdempotencyKeys",
    "LiveStats",
    "NewEvent",
    "Notifications",
    "Notifier",
    "OrganizerRequest",
    "OrganizerRequestStore",
    "PasswordHasher",
    "PasswordResetStore",
    "Principal",
    "PromotionBooker",
    "PromotionTx",
    "Readiness",
    "RefreshTokens",
    "ReportCache",
    "ResetMail",
    "SeatPlan",
    "SeatView",
    "SessionEnder",
    "Snapshot",
    "SpentRefresh",
    "StoredAnswer",
    "SweptHold",
    "TokenCodec",
    "UserStore",
    "ViewMissing",
    "ViewSource",
    "WaitlistHooks",
    "WaitlistStore",
]
