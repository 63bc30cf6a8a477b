"""Request bodies and query strings of the account, event-admin and analytics routes.

Bodies follow :mod:`web.schemas` (strict JSON, unknown fields refused: 400 ``BAD_REQUEST``
for types and unknown fields, 422 ``VALIDATION_ERROR`` for rules). Query strings are text, so
they are parsed leniently (``"2"`` is 2, ``"true"``/``"1"`` are true) and any problem is 422
``VALIDATION_ERROR`` with ``details.fields``; empty values count as absent and unknown
parameters are ignored (cache busters).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from hub.errors import ValidationFailed
from web.schemas import (
    Email,
    InputModel,
    Instant,
    Name,
    Password,
    Sections,
    StrictIn,
    TimeZoneName,
    error_fields,
)

__all__ = [
    "AdminBookingsQuery",
    "AttendeesQuery",
    "AuditQuery",
    "EventListQuery",
    "EventPatchIn",
    "MyBookingsQuery",
    "MyEventsQuery",
    "OrganizerRequestsQuery",
    "RefreshIn",
    "RoleIn",
    "SeatsGenerateIn",
    "SummaryQuery",
    "UserCreateIn",
    "UsersQuery",
    "parse_query",
]

Q = TypeVar("Q", bound=BaseModel)
RoleName = Literal["user", "organizer", "admin"]
Page = Annotated[int, Field(ge=1, le=1_000_000)]


class RefreshIn(StrictIn):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class UserCreateIn(StrictIn):
    name: Name
    email: Email
    password: Password
    role: RoleName = "user"


class RoleIn(StrictIn):
    role: RoleName


class EventPatchIn(StrictIn):
    """``PATCH /admin/events/{id}``: every field optional; absent or null leaves it as is."""

    name: Name | None = None
    venue: Name | None = None
    start_time: Instant | None = None
    end_time: Instant | None = None
    capacity: Annotated[int, Field(ge=1, le=50_000)] | None = None
    hold_ttl_seconds: Annotated[int, Field(ge=1, le=3600)] | None = None
    waitlist_offer_seconds: Annotated[int, Field(ge=1, le=86_400)] | None = None
    auto_promote: bool | None = None
    status: Literal["active", "inactive"] | None = None
    timezone: TimeZoneName | None = None


class SeatsGenerateIn(StrictIn):
    """``POST /admin/events/{id}/seats/generate``: a new seat map (or a plain capacity)."""

    sections: Sections | None = None
    capacity: Annotated[int, Field(ge=1, le=50_000)] | None = None


class _Query(InputModel):
    model_config = ConfigDict(extra="ignore", strict=False)

    page: Page = 1
    page_size: Annotated[int, Field(ge=1, le=100)] = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


class EventListQuery(_Query):
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    sort: Literal["start_time", "name", "utilization", "created_at"] = "start_time"
    order: Literal["asc", "desc"] = "asc"
    upcoming_only: bool = False
    status: Literal["active", "inactive"] | None = None


class UsersQuery(_Query):
    """``GET /admin/users``: search, role filter, and sort by any count (nulls last)."""

    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    role: RoleName | None = None
    sort: Literal["id", "name", "created_at", "bookings", "seats", "cancellations",
                  "events_organized", "last_login_at"] = "id"
    order: Literal["asc", "desc"] = "asc"


class AuditQuery(_Query):
    actor_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    event_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None


class OrganizerRequestsQuery(_Query):
    status: Literal["pending", "approved", "refused"] | None = "pending"


class AdminBookingsQuery(_Query):
    event_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    status: Literal["CONFIRMED", "CANCELLED"] | None = None


class MyBookingsQuery(_Query):
    """``GET /me/bookings``: newest first, optionally of one status; without ``page_size``
    every booking comes (as before paging existed), with it one page of them."""

    status: Literal["CONFIRMED", "CANCELLED"] | None = None
    page_size: Annotated[int, Field(ge=1, le=100)] | None = None  # type: ignore[assignment]

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size if self.page_size else 0


class MyEventsQuery(_Query):
    """``GET /me/events``: a page of the caller's events."""

    sort: Literal["start_time", "name", "utilization", "created_at"] = "start_time"
    order: Literal["asc", "desc"] = "asc"


class AttendeesQuery(_Query):
    """The guest list comes whole for events up to 1,000 bookings."""

    page_size: Annotated[int, Field(ge=1, le=1000)] = 1000


class SummaryQuery(InputModel):
    model_config = ConfigDict(extra="ignore", strict=False)

    refresh: bool = False


def parse_query(model: type[Q], params: Mapping[str, str]) -> Q:
    """Validate a query string (the last value of a repeated name wins).

    Raises: ValidationFailed (``details.fields``: ``[{field, message}]``).
    """
    data = {k: v for k, v in params.items() if v != ""}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("The query string is not valid.",
                               fields=error_fields(exc, "query")) from None
