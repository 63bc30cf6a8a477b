"""What an e-mail of the outbox is about, read from PostgreSQL when it is sent.

An outbox row written with a notification (``storage.notifications``, the confirm function
of migration 0002) names that notification; its kind and payload, the account, the event and
the booking's guest are read here so the message can name the event, venue and start time and
go to the guest too. A row with no notification (or one whose notification is gone) is sent
as written (its stored subject and text body).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.ports.mail import EventFacts, MailFacts
from storage.models import BookingRow, EventRow, NotificationRow, OutboxRow, UserRow

__all__ = ["EventFacts", "MailFacts", "mail_facts"]


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
            event = EventFacts(ev.id, ev.name, ev.venue, ev.start_time, ev.end_time,
                               ev.timezone)
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
