"""The one error tree of Evently Hub.

Every failure a client can see is a subclass of :class:`Evently` with a contract ``code``
(CONTRACT.md §2) and an HTTP ``status``. The web layer maps the base class to the wire once,
for REST and WebSocket alike; nothing else formats errors.

    Evently
    ├── BadRequest                 400 BAD_REQUEST
    ├── Unauthenticated            401 UNAUTHENTICATED
    │   ├── TokenExpired           401 TOKEN_EXPIRED
    │   ├── TokenRevoked           401 TOKEN_REVOKED
    │   └── InvalidCredentials     401 INVALID_CREDENTIALS
    ├── Forbidden                  403 FORBIDDEN
    ├── NotFound                   404 NOT_FOUND
    ├── PayloadTooLarge            413 PAYLOAD_TOO_LARGE (.limit bytes, when known)
    ├── Conflict                   409 (abstract)
    │   ├── SeatUnavailable        409 SEAT_UNAVAILABLE  (.seat_ids)
    │   ├── NotEnoughSeats         409 NOT_ENOUGH_SEATS
    │   ├── SoldOut                409 SOLD_OUT
    │   ├── HoldExpired            409 HOLD_EXPIRED
    │   ├── EventInactive          409 EVENT_INACTIVE
    │   ├── CapacityBelowSold      409 CAPACITY_BELOW_SOLD
    │   ├── EventHasBookings       409 EVENT_HAS_BOOKINGS
    │   ├── IdempotencyKeyInUse    409 IDEMPOTENCY_KEY_IN_USE
    │   └── AlreadyExists          409 ALREADY_EXISTS
    ├── ValidationFailed           422 VALIDATION_ERROR  (details.fields)
    ├── IdempotencyKeyReused       422 IDEMPOTENCY_KEY_REUSED
    ├── RateLimited                429 RATE_LIMITED      (.retry_after seconds)
    ├── HoldLimit                  429 HOLD_LIMIT
    ├── Internal                   500 INTERNAL          (a bug; the log has the details)
    └── Unavailable                503 UNAVAILABLE       (a backing store is down)
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AlreadyExists",
    "BadRequest",
    "CapacityBelowSold",
    "Conflict",
    "EventHasBookings",
    "EventInactive",
    "Evently",
    "Forbidden",
    "HoldExpired",
    "HoldLimit",
    "IdempotencyKeyInUse",
    "IdempotencyKeyReused",
    "Internal",
    "InvalidCredentials",
    "NotEnoughSeats",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "SeatUnavailable",
    "SeatsAvailable",
    "SoldOut",
    "TokenExpired",
    "TokenRevoked",
    "Unauthenticated",
    "Unavailable",
    "ValidationFailed",
    "error_for_code",
]


class Evently(Exception):
    """Base of every contract error.

    Attributes:
        code: the contract code, e.g. ``"SEAT_UNAVAILABLE"``.
        status: the HTTP status the REST layer answers with.
        message: a human sentence.
        details: JSON-able extra facts (``seat_ids``, ``fields``, ...).
    """

    code: ClassVar[str] = "INTERNAL"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Something went wrong."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        self.details: dict[str, Any] = details
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, details={self.details!r})"


class BadRequest(Evently):
    code, status, default_message = "BAD_REQUEST", 400, "The request could not be read."


class Unauthenticated(Evently):
    code, status, default_message = "UNAUTHENTICATED", 401, "Authentication is required."


class TokenExpired(Unauthenticated):
    code, default_message = "TOKEN_EXPIRED", "The token has expired."


class TokenRevoked(Unauthenticated):
    code, default_message = "TOKEN_REVOKED", "The token has been revoked."


class InvalidCredentials(Unauthenticated):
    code, default_message = "INVALID_CREDENTIALS", "Email or password is wrong."


class Forbidden(Evently):
    code, status, default_message = "FORBIDDEN", 403, "You may not do that."


class NotFound(Evently):
    code, status, default_message = "NOT_FOUND", 404, "No such object."


class PayloadTooLarge(Evently):
    """The request body is over the route's limit; ``details.limit`` is that limit in bytes
    when the refusing layer knows it (web/body_limit.py always does)."""

    code, status, default_message = ("PAYLOAD_TOO_LARGE", 413,
                                     "The request body is over this route's limit.")

    def __init__(self, message: str | None = None, *, limit: int | None = None) -> None:
        if limit is None:
            super().__init__(message)
        else:
            super().__init__(message, limit=limit)
        self.limit = limit


class Conflict(Evently):
    status = 409


class SeatUnavailable(Conflict):
    """Some of the asked seats are held or sold; ``details.seat_ids`` lists them."""

    code, default_message = "SEAT_UNAVAILABLE", "Some seats are no longer available."

    def __init__(self, seat_ids: list[int], message: str | None = None) -> None:
        super().__init__(message, seat_ids=sorted(seat_ids))
        self.seat_ids = sorted(seat_ids)


class NotEnoughSeats(Conflict):
    code, default_message = "NOT_ENOUGH_SEATS", "Not enough seats are available."


class SoldOut(Conflict):
    code, default_message = "SOLD_OUT", "The event is sold out."


class HoldExpired(Conflict):
    code, default_message = "HOLD_EXPIRED", "The hold has expired or was released."


class EventInactive(Conflict):
    code, default_message = "EVENT_INACTIVE", "The event is not on sale."


class CapacityBelowSold(Conflict):
    code, default_message = "CAPACITY_BELOW_SOLD", "Capacity cannot go below the seats sold."


class EventHasBookings(Conflict):
    code, default_message = "EVENT_HAS_BOOKINGS", "The event has confirmed bookings."


class IdempotencyKeyInUse(Conflict):
    code, default_message = "IDEMPOTENCY_KEY_IN_USE", "A request with this key is in flight."


class SeatsAvailable(Conflict):
    """A waitlist join for seats that can be held now (hold them instead)."""

    code, default_message = "SEATS_AVAILABLE", "Those seats can be held now; no need to wait."


class AlreadyExists(Conflict):
    code, default_message = "ALREADY_EXISTS", "It exists already."


class ValidationFailed(Evently):
    """Input that parsed but broke a rule; ``details.fields`` lists ``{field, message}``."""

    code, status, default_message = "VALIDATION_ERROR", 422, "The input is not valid."


class IdempotencyKeyReused(Evently):
    code, status = "IDEMPOTENCY_KEY_REUSED", 422
    default_message = "This idempotency key was used with a different request."


class RateLimited(Evently):
    """Too many requests; ``retry_after`` is in whole seconds (the ``Retry-After`` header)."""

    code, status, default_message = "RATE_LIMITED", 429, "Too many requests."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class HoldLimit(Evently):
    """The user would hold more than ``MAX_HELD_SEATS_PER_USER`` seats of one event."""

    code, status = "HOLD_LIMIT", 429
    default_message = "You hold too many seats already."


class Internal(Evently):
    """A bug (an unexpected exception, a reply no code knows): 500 ``INTERNAL``. Never used
    for a store that is down; that is :class:`Unavailable`."""

    code, status = "INTERNAL", 500
    default_message = "The server failed unexpectedly."


class Unavailable(Evently):
    code, status = "UNAVAILABLE", 503
    default_message = "A backing store is unavailable; nothing was changed."


_BY_CODE: dict[str, type[Evently]] = {}


def _index(cls: type[Evently]) -> None:
    for sub in cls.__subclasses__():
        if "code" in vars(sub):  # an abstract group (Conflict) inherits a code; skip it
            _BY_CODE.setdefault(sub.code, sub)
        _index(sub)


_index(Evently)


def error_for_code(code: str, message: str | None = None, **details: Any) -> Evently:
    """Build the error of a contract ``code`` (as returned by a Lua script).

    A code that is not a contract code (a script and this table disagree) gives
    :class:`Internal` naming it, so the caller answers 500 ``INTERNAL`` and logs it; it never
    escapes as a ``KeyError``.
    """
    cls = _BY_CODE.get(code)
    if cls is None:
        return Internal(f"Unexpected reply code {code!r} from a store script.")
    if cls is SeatUnavailable:
        return SeatUnavailable(list(details.get("seat_ids", [])), message)
    if cls is PayloadTooLarge:
        limit = details.get("limit")
        return PayloadTooLarge(message, limit=None if limit is None else int(limit))
    if cls is RateLimited:
        return RateLimited(int(details.get("retry_after", 1)), message)
    err = cls(message, **details)
    return err
