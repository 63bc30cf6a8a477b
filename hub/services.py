"""The services of one hub process, as one frozen bundle (STYLE.md §13).

``web.bootstrap.build`` is the one place that builds the adapters and these services and wires
the callbacks between them; the REST routes and the ``/ws`` session see only this bundle.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.accounts import AccountService, UserAdmin
from hub.analytics import AnalyticsService
from hub.audit import AuditService
from hub.booking_changes import BookingChanges
from hub.bookings import BookingService
from hub.box_office import BoxOffice
from hub.event_admin import EventAdmin
from hub.events import EventService
from hub.idempotency import IdempotencyService
from hub.live import LiveFeed
from hub.notifications import NotificationService
from hub.organizers import OrganizerDesk
from hub.people import PeopleService
from hub.ports.runtime import Readiness
from hub.self_service import SelfService
from hub.sessions import SessionService
from hub.waitlist import WaitlistService

__all__ = ["Services"]


@dataclass(frozen=True, slots=True)
class Services:
    """Every service a route or a WebSocket op calls."""

    accounts: AccountService  #: sign-up
    sessions: SessionService  #: log-in, tokens, who a bearer token is
    users: UserAdmin  #: ``/admin/users`` changes
    people: PeopleService  #: ``/admin/users`` reads: accounts with their stats
    events: EventService  #: event creation and reads
    event_admin: EventAdmin  #: ``/admin/events/*``, listings, attendees, admin bookings
    bookings: BookingService  #: holds, bookings, the live seat view
    booking_changes: BookingChanges  #: ``PATCH /bookings/{id}``, ``booking.update``
    waitlist: WaitlistService  #: waitlist entries and promotion
    box_office: BoxOffice  #: book-or-wait, join and leave waitlists
    notifications: NotificationService  #: ``/me/notifications``
    analytics: AnalyticsService  #: admin summary and homepage figures
    idempotency: IdempotencyService  #: ``Idempotency-Key`` for REST and ``/ws``
    live: LiveFeed  #: fan-out, open sessions, the admins' analytics stream
    readiness: Readiness  #: ``GET /readyz``
    self_service: SelfService  #: ``PATCH /auth/me``, password change and reset
    organizers: OrganizerDesk  #: ``/admin/organizer-requests``
    audit: AuditService  #: ``GET /admin/audit`` (and the writer other services call)
