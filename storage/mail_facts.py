"""What an e-mail of the outbox is about, read from PostgreSQL when it is sent.

An outbox row written with a notification (``storage.notifications``, the confirm function
of migration 0002) names that notification; its kind and payload, the account, the event and
the booking's guest are read here so the message can name the event, venue and start time and
go to the guest too. A row with no notification (or one whose notification is gone) is sent
as written (its stored subject and text body).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import BookingRow, EventRow, NotificationRow, OutboxRow, UserRow

__all__ = ["EventFacts", "MailFacts", "mail_facts"]


@dataclass(frozen=True, slots=True)
class EventFacts:
    """The event an e-mail is about. Times are aware datetimes (UTC from PostgreSQL)."""

    id: int
    name: str
    venue: str
    start_time: datetime
    end_time: datetime


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


async def mail_facts(s: AsyncSession, row: OutboxRow) -> MailFacts:
    """The facts of ``row``, read in the sender's transaction ``s``."""
    plain = MailFacts(row.id, None, [row.to_address], row.subject, row.body,
                      created_at=row.created_at)
    note = (await s.get(NotificationRow, row.notification_id)
            if row.notification_id is not None else None)
    if note is None:
        return plain
    payload = dict(note.payload or {})
    user = await s.get(UserRow, note.user_id)
    event = None
    if isinstance(payload.get("event_id"), int):
        ev = await s.get(EventRow, payload["event_id"])
        if ev is not None:
            event = EventFacts(ev.id, ev.name, ev.venue, ev.start_time, ev.end_time)
    guest = None
    to = [row.to_address]
    if isinstance(payload.get("booking_id"), int):
        booking = await s.get(BookingRow, payload["booking_id"])
        if booking is not None and booking.guest_email:
            guest = {"name": booking.guest_name or "", "email": booking.guest_email}
            if booking.guest_email.lower() != row.to_address.lower():
                to.append(booking.guest_email)
    return MailFacts(row.id, note.kind, to, row.subject, row.body,
                     user_name=user.name if user is not None else "", payload=payload,
                     event=event, guest=guest, created_at=row.created_at)
