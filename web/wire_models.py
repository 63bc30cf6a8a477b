"""Response shapes of CONTRACT.md §2 as pydantic models, for the OpenAPI document only.

The wire forms are made by :mod:`web.render`; these models describe them (extra fields are
allowed, so a field added to a rendering does not break clients that validate). Request
bodies the contract names that :mod:`web.schemas` does not have yet are here too, marked
``*In``; :mod:`web.openapi` prefers a model of the same name in :mod:`web.schemas`.
Times are RFC 3339 strings with a zone; ids are integers except ``hold_id``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = [
    "AdminUser",
    "AdminUserPage",
    "AnalyticsSummary",
    "Booking",
    "BookingPage",
    "ErrorEnvelope",
    "Event",
    "EventPage",
    "Health",
    "Hold",
    "HoldStatus",
    "HomepageStats",
    "MyEvent",
    "MyEventPage",
    "Notification",
    "Ready",
    "SeatsView",
    "TokenPair",
    "User",
    "WaitlistEntry",
]

Role = Literal["user", "organizer", "admin"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorBody(_Out):
    code: str = Field(description="A contract code, e.g. SEAT_UNAVAILABLE.")
    message: str
    details: dict[str, Any] = Field(
        description="Facts such as seat_ids, fields ([{field, message}]) or retry_after.")


class ErrorEnvelope(_Out):
    """Every error answer: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorBody


class User(_Out):
    id: int
    name: str
    email: str
    role: Role
    created_at: AwareDatetime


class AdminUser(User):
    """An account as admins see it, with its activity (``/admin/users`` rows and detail)."""

    banned: bool
    bookings: int = Field(description="Bookings ever made (confirmed and cancelled).")
    seats: int = Field(description="Seats its confirmed bookings hold now.")
    cancellations: int = Field(description="Its bookings now cancelled.")
    events_organized: int = Field(description="Events it organizes.")
    last_login_at: AwareDatetime | None = Field(description="Null when never recorded.")


class AdminUserPage(_Out):
    items: list[AdminUser]
    total: int
    page: int
    page_size: int


class TokenPair(_Out):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"]
    expires_in: int = Field(description="Seconds until the access token expires.")


class Event(_Out):
    id: int
    name: str
    venue: str
    start_time: AwareDatetime
    end_time: AwareDatetime
    timezone: str = Field(description="IANA time zone the event takes place in "
                                      "(e.g. Europe/Paris); times are shown in it.")
    status: Literal["active", "inactive"]
    capacity: int
    booked_count: int
    held_count: int
    available_count: int
    waitlisted_count: int
    hold_ttl_seconds: int
    organizer_id: int | None


class MyEvent(Event):
    """An event with its organizer's figures (seats; ``utilization`` = sold / capacity)."""

    sold: int
    held: int
    available: int
    waitlisted: int
    utilization: float = Field(ge=0, le=1)


class MyEventPage(_Out):
    items: list[MyEvent]
    total: int
    page: int
    page_size: int


class EventPage(_Out):
    items: list[Event]
    total: int
    page: int
    page_size: int


class Seat(_Out):
    id: int
    label: str
    section: str
    row: str
    number: int
    status: Literal["available", "held", "sold"]


class SeatsView(_Out):
    event_id: int
    epoch: int = Field(description="Changes when the live view is rebuilt.")
    seq: int = Field(description="Rises by one per change of the event's seats.")
    seats: list[Seat]


class Hold(_Out):
    hold_id: str = Field(description="Opaque.")
    event_id: int
    seat_ids: list[int]
    labels: list[str]
    expires_at: AwareDatetime


class Booking(_Out):
    id: int
    event_id: int
    user_id: int
    qty: int
    seat_ids: list[int]
    seats: list[str] = Field(description="Seat labels, in the order of seat_ids.")
    status: Literal["CONFIRMED", "CANCELLED"]
    guest: dict[str, Any] | None
    created_at: AwareDatetime
    cancelled_at: AwareDatetime | None


class HoldStatus(_Out):
    """``GET /holds/{id}``: a live hold (the Hold fields and ``status`` "active" or
    "confirming"), or how it ended: "confirmed" (with ``booking_id`` and ``booking``),
    "released" or "expired" (kept an hour)."""

    hold_id: str
    event_id: int
    status: Literal["active", "confirming", "confirmed", "released", "expired"]
    seat_ids: list[int] | None = None
    labels: list[str] | None = None
    expires_at: AwareDatetime | None = None
    booking_id: int | None = None
    booking: Booking | None = None


class BookingPage(_Out):
    items: list[Booking]
    total: int
    page: int
    page_size: int


class Offer(_Out):
    hold_id: str
    expires_at: AwareDatetime


class WaitlistEntry(_Out):
    id: int
    event_id: int
    user_id: int
    qty: int
    position: int | None
    status: Literal["WAITING", "OFFERED", "ACCEPTED", "EXPIRED", "LEFT"]
    offer: Offer | None
    created_at: AwareDatetime


class Notification(_Out):
    id: int
    kind: str
    payload: dict[str, Any]
    created_at: AwareDatetime
    read_at: AwareDatetime | None


class AnalyticsTotals(_Out):
    events: int
    bookings: int
    seats_sold: int
    cancelled: int
    holds_active: int
    waitlisted: int


class AnalyticsDay(_Out):
    date: str
    booked: int
    cancelled: int


class AnalyticsEvent(_Out):
    id: int
    name: str
    capacity: int
    sold: int
    utilization: float


class AnalyticsSummary(_Out):
    generated_at: AwareDatetime
    totals: AnalyticsTotals
    cancellation_rate: float
    daily: list[AnalyticsDay]
    events: list[AnalyticsEvent]


class PopularEvent(_Out):
    id: int
    name: str
    utilization: float


class HomepageStats(_Out):
    upcoming_events: int
    seats_available: int
    bookings_today: int
    popular: list[PopularEvent]


class Health(_Out):
    status: Literal["ok"]


class Ready(_Out):
    status: str
    postgres: str
    redis: str


class OrganizerRequest(_Out):
    """A sign-up that asked to organize (``ORGANIZER_SIGNUP=approval``)."""

    id: int
    user_id: int
    name: str
    email: str
    status: Literal["pending", "approved", "refused"]
    created_at: AwareDatetime
    decided_at: AwareDatetime | None
    decided_by: int | None = Field(description="The deciding admin's user id.")


class OrganizerRequestPage(_Out):
    items: list[OrganizerRequest]
    total: int
    page: int
    page_size: int


class AuditEntry(_Out):
    """One admin or organizer action."""

    id: int
    at: AwareDatetime
    actor_id: int
    actor_role: Role
    action: str = Field(description="event.create, event.update, event.deactivate, "
                                    "event.delete, event.seats_generate, user.create, "
                                    "user.role, user.ban, organizer_request.approve, "
                                    "organizer_request.refuse")
    event_id: int | None
    target_user_id: int | None
    details: dict[str, Any]


class AuditPage(_Out):
    items: list[AuditEntry]
    total: int
    page: int
    page_size: int


__all__ += ["AuditEntry", "AuditPage", "OrganizerRequest", "OrganizerRequestPage"]
