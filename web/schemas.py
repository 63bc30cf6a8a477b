"""Request bodies as pydantic models: the same models validate input and feed OpenAPI.

Bodies are parsed strictly from JSON: malformed JSON, a non-object body, a wrong type or an
unknown field is 400 ``BAD_REQUEST``; a well-typed value that breaks a rule (range, length,
missing field) is 422 ``VALIDATION_ERROR``. Both list the offending fields in
``details.fields``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from hub.errors import BadRequest, ValidationFailed
from hub.holds import MAX_SEATS_PER_REQUEST
from hub.seatmap import MAX_SECTION_RANK

__all__ = [
    "BookIn",
    "ConfirmIn",
    "EventIn",
    "GuestIn",
    "HoldIn",
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


class StrictIn(BaseModel):
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
    start_time: AwareDatetime
    end_time: AwareDatetime
    capacity: Annotated[int, Field(ge=1, le=50_000)] | None = None
    seat_map: SeatMapIn | None = None
    hold_ttl_seconds: Annotated[int, Field(ge=1, le=3600)] | None = None
    waitlist_offer_seconds: Annotated[int, Field(ge=1, le=86_400)] | None = None
    auto_promote: bool = False


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
