"""Hold ids, hold limits and the one conversion of times to the epoch milliseconds the Redis
seat view keeps (``now_ms``, ``expires_ms``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.errors import NotFound

__all__ = ["MAX_SEATS_PER_REQUEST", "HoldLimits", "ms", "parse_hold_id", "to_ms"]

#: Seats one hold, booking or waitlist entry may ask for (CONTRACT §2; the one declaration).
MAX_SEATS_PER_REQUEST = 50


def to_ms(now: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return int(now.timestamp() * 1000)


def ms(seconds: int) -> int:
    """A duration in whole seconds as milliseconds (TTLs and lifetimes the view keeps)."""
    return seconds * 1000


def parse_hold_id(hold_id: str) -> tuple[int, str]:
    """``"42.Zt3…"`` → ``(42, "Zt3…")``: the event id, then the lease token.

    Raises:
        NotFound: the id is not one this hub issues.
    """
    event_part, _, token = hold_id.partition(".")
    # ASCII only: str.isdigit/isalnum accept "²" or "ǅ", which int() or a key would choke on
    if not (hold_id.isascii() and event_part.isdigit() and 0 < len(event_part) <= 18
            and 8 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()):
        raise NotFound("No such hold.")
    return int(event_part), token


@dataclass(frozen=True, slots=True)
class HoldLimits:
    """Settings the hold rules follow (CONTRACT §1), in seconds and seats.

    ``confirm_grace_seconds`` is how long a hold stays reserved while its confirm transaction
    runs; the transaction gives up waiting for row locks after half of it
    (:attr:`confirm_lock_timeout_ms`), and once the grace has passed the sweeper settles the
    hold from PostgreSQL (DESIGN invariant 8).
    """

    hold_max_lifetime_seconds: int = 1800
    max_held_seats_per_user: int = 10
    confirm_grace_seconds: int = 5
    max_seats_per_request: int = MAX_SEATS_PER_REQUEST

    @property
    def confirm_lock_timeout_ms(self) -> int:
        """The confirm transaction's PostgreSQL ``lock_timeout``: half the grace, ≥ 100 ms."""
        return max(self.confirm_grace_seconds * 500, 100)
