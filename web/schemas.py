"""Request bodies as pydantic models: the same models validate input and feed OpenAPI.

Bodies are parsed strictly from JSON: malformed JSON, a non-object body, a wrong type or an
unknown field is 400 ``BAD_REQUEST``; a well-typed value that breaks a rule (range, length,
missing field) is 422 ``VALIDATION_ERROR``. Both list the offending fields in
``details.fields``.

Rules every input model follows (:class:`InputModel`): no string holds a NUL character
(PostgreSQL text cannot store one), and a time (:data:`Instant`) lies in 1970..9998 UTC.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from hub.errors import BadRequest, ValidationFailed
from hub.holds import MAX_SEATS_PER_REQUEST
from hub.seatmap import MAX_SECTION_RANK

__all__ = [
    "BookIn",
    "BookingPatchIn",
    "ConfirmIn",
    "EventIn",
    "GuestIn",
    "HoldIn",
    "InputModel",
    "Instant",
    "LoginIn",
    "MeIn",
    "Password",
    "PasswordChangeIn",
    "PasswordResetConfirmIn",
    "PasswordResetIn",
    "SeatMapIn",
    "SectionIn",
    "SignupIn",
    "StrictIn",
    "TimeZoneName",
    "WaitlistIn",
    "error_fields",
    "parse_body",
    "parse_obj",
    "validation_error",
]

M = TypeVar("M", bound=BaseModel)

Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320,
                                         pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
SeatId = Annotated[int, Field(ge=1, le=2**62)]
#: A new password (bcrypt's 72-byte limit is checked in ``hub.accounts``).
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]
SeatIds = Annotated[list[SeatId], Field(min_length=1, max_length=MAX_SEATS_PER_REQUEST)]
Qty = Annotated[int, Field(ge=1, le=MAX_SEATS_PER_REQUEST)]

EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)


def _instant_in_range(value: datetime) -> datetime:
    # 9999-12-31T23:59:59-14:00 parses, but is year 10000 in UTC: PostgreSQL and datetime
    # arithmetic would overflow. Before 1970, epoch milliseconds (Redis) go negative.
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("a time between 1970 and 9998 (UTC)") from None
    if not EARLIEST <= utc < LATEST:
        raise ValueError("a time between 1970 and 9998 (UTC)")
    return value


#: An RFC 3339 time with a zone, from 1970-01-01 up to (not including) 9999-01-01 UTC.
Instant = Annotated[AwareDatetime, AfterValidator(_instant_in_range),
                    Field(description="RFC 3339 with a zone; 1970-01-01 to 9998-12-31 UTC.")]


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _known_zone(value: str) -> str:
    # Membership in the tz database's list (not ZoneInfo(value)) so that paths such as
    # "../etc" or a directory name ("Europe") are refused without touching the file system.
    if value not in _zones():
        raise ValueError("an IANA time zone name such as Europe/Paris or UTC")
    return value


#: An IANA time zone name known to the tz database (``zoneinfo``), e.g. ``Europe/Paris``.
TimeZoneName = Annotated[str, StringConstraints(min_length=1, max_length=64),
                         AfterValidator(_known_zone),
                         Field(description="IANA time zone name, e.g. Europe/Paris; "
                                           "default UTC.", examples=["Europe/Paris"])]


class InputModel(BaseModel):
    """Base of every request body and query model: no string field may hold a NUL character
    (422 ``VALIDATION_ERROR``), which PostgreSQL ``text`` cannot store."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL (U+0000) characters")
        return value


class StrictIn(InputModel):
    """A JSON body: strict types, unknown fields refused (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class SignupIn(StrictIn):
    name: Name
    email: Email
    password: Password
    role: Literal["user", "organizer"] = Field(
        "user", description="organizer: as ORGANIZER_SIGNUP allows (open, approval, closed)")


class MeIn(StrictIn):
    """``PATCH /auth/me``."""

    name: Name


class PasswordChangeIn(StrictIn):
    """``POST /auth/password``."""

    old_password: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    new_password: Password


class PasswordResetIn(StrictIn):
    """``POST /auth/password-reset``."""

    email: Email


class PasswordResetConfirmIn(StrictIn):
    """``POST /auth/password-reset/confirm``."""

    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    new_password: Password


class LoginIn(StrictIn):
    email: Email
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]


SectionRank = Annotated[int, Field(
    ge=1, le=MAX_SECTION_RANK,
    description="Preference for best available (1 = best). Ranked sections come first, "
                "lowest rank first, then unranked ones; ties keep the list order.")]


class SectionIn(StrictIn):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    rows: Annotated[int, Field(ge=1, le=500)]
    seats_per_row: Annotated[int, Field(ge=1, le=500)]
    rank: SectionRank | None = None


#: A seat map has 1..50 sections.
Sections = Annotated[list[SectionIn], Field(min_length=1, max_length=50)]


class SeatMapIn(StrictIn):
    sections: Sections


class EventIn(StrictIn):
    name: Name
    venue: Name
    start_time: Instant
    end_time: Instant
    capacity: Annotated[int, Field(ge=1, le=50_000)] | None = None
    seat_map: SeatMapIn | None = None
    hold_ttl_seconds: Annotated[int, Field(ge=1, le=3600)] | None = None
    waitlist_offer_seconds: Annotated[int, Field(ge=1, le=86_400)] | None = None
    auto_promote: bool = False
    timezone: TimeZoneName = "UTC"


class HoldIn(StrictIn):
    seat_ids: SeatIds | None = None
    qty: Qty | None = None


class WaitlistIn(StrictIn):
    qty: Qty


class GuestIn(StrictIn):
    name: Name
    email: Email


class ConfirmIn(StrictIn):
    guest: GuestIn | None = None


class BookingPatchIn(StrictIn):
    """``PATCH /bookings/{id}`` and the ``booking.update`` op: new guest details and/or
    seats to give back (giving back every seat cancels the booking)."""

    guest: GuestIn | None = None
    release_seat_ids: Annotated[list[SeatId], Field(max_length=MAX_SEATS_PER_REQUEST)] | None = (
        None)


class BookIn(StrictIn):
    seat_ids: SeatIds | None = None
    qty: Qty | None = None
    guest: GuestIn | None = None
    waitlist: bool = False


_BAD_REQUEST_TYPES = ("json_invalid", "extra_forbidden", "model_type", "model_attributes_type",
                      "dict_type", "list_type", "is_instance_of")


def error_fields(exc: ValidationError, whole: str = "body") -> list[dict[str, str]]:
    """``details.fields`` of a pydantic failure: ``[{field, message}]``, the field a dotted
    path (``seat_map.sections.0.rows``), or ``whole`` for the input as a whole."""
    return [{"field": ".".join(str(p) for p in e["loc"]) or whole, "message": e["msg"]}
            for e in exc.errors(include_url=False, include_context=False, include_input=False)]


def validation_error(exc: ValidationError) -> BadRequest | ValidationFailed:
    """The contract error for a pydantic failure (see module docstring)."""
    fields = error_fields(exc)
    kinds = {e["type"] for e in exc.errors()}
    if any(k in _BAD_REQUEST_TYPES or k.endswith("_type") or k.endswith("_parsing")
           for k in kinds):
        return BadRequest("The request body has wrong types or unknown fields.", fields=fields)
    return ValidationFailed(fields=fields)


def parse_body(model: type[M], raw: bytes, *, optional: bool = False) -> M:
    """Parse a JSON body into ``model``. An empty body is ``{}`` when ``optional``.

    Raises: BadRequest, ValidationFailed.
    """
    if not raw.strip():
        if optional:
            return model.model_validate({})
        raise BadRequest("A JSON body is required.")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise validation_error(exc) from None


def parse_obj(model: type[M], data: Any) -> M:
    """Validate already-decoded JSON (a WebSocket message). Raises: BadRequest, ValidationFailed."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None
