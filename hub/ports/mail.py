"""What an e-mail of the outbox is about (built by ``storage.mail_facts`` when the row is
sent, rendered by ``web.emails``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["EventFacts", "MailFacts"]


@dataclass(frozen=True, slots=True)
class EventFacts:
    """The event an e-mail is about. Times are aware datetimes (UTC from PostgreSQL);
    ``timezone`` is the IANA zone they are shown in."""

    id: int
    name: str
    venue: str
    start_time: datetime
    end_time: datetime
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class MailFacts:
    """One outbox row with what its message needs.

    ``kind`` is the notification kind (``booking.confirmed``, …) or None for a row sent as
    written; ``to`` the account's address first, then the guest's when the booking names a
    different one.
    """

    outbox_id: int
    kind: str | None
    to: list[str]
    subject: str
    body: str
    user_name: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    event: EventFacts | None = None
    guest: dict[str, str] | None = None
    created_at: datetime | None = None  #: when the row was written (the ``.ics`` DTSTAMP)
