"""The e-mails people get: text and HTML bodies from Jinja2 templates
(``web/templates/email/``), with an iCalendar file (RFC 5545, the ``icalendar`` library) for
booking confirmations, changes and cancellations.

:func:`compose` is the outbox sender's ``compose`` (``storage.outbox``), wired in
``web.bootstrap``. Kinds and what they say:

* ``booking.confirmed`` — event, venue, start and end, seat labels, booking id; ``.ics``
  attached (``METHOD:PUBLISH``). Sent to the account and to the booking's guest.
* ``booking.changed`` — seats given back and/or new guest details, the seats kept; an updated
  ``.ics`` (same ``UID``, higher ``SEQUENCE``).
* ``booking.cancelled`` — the seats let go; an ``.ics`` with ``METHOD:CANCEL``.
* ``waitlist.offered`` — the seats held and the deadline to confirm them.
* anything else (``waitlist.expired``, ``waitlist.promoted``, rows with no notification) —
  a short notice, or the row's stored text as written.

Events have no time zone of their own, so every time is shown in UTC and says so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

import icalendar
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from hub.ports.mail import MailFacts
from storage.outbox import plain_message

__all__ = ["SUBJECTS", "compose", "ics", "when"]

#: subject line per kind; ``{event}`` is the event's name.
SUBJECTS = {
    "booking.confirmed": "Your booking is confirmed: {event}",
    "booking.changed": "Your booking was changed: {event}",
    "booking.cancelled": "Your booking was cancelled: {event}",
    "waitlist.offered": "Seats are waiting for you: {event}",
    "waitlist.promoted": "You got seats from the waitlist: {event}",
    "waitlist.expired": "Your waitlist offer has expired: {event}",
}
_TEMPLATED = {"booking.confirmed", "booking.changed", "booking.cancelled", "waitlist.offered"}
_ICS_METHOD = {"booking.confirmed": "PUBLISH", "booking.changed": "PUBLISH",
               "booking.cancelled": "CANCEL"}
_DOMAIN = "evently.local"


def when(value: datetime | str | None) -> str:
    """``Fri 1 Jan 2031, 20:00 UTC`` for an aware datetime or an RFC 3339 string."""
    if value is None:
        return ""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    at = at.astimezone(UTC)
    return f"{at:%a} {at.day} {at:%b %Y, %H:%M} UTC"


_env = Environment(loader=PackageLoader("web", "templates/email"),
                   autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                   keep_trailing_newline=True)
_env.filters["when"] = when


def ics(facts: MailFacts) -> bytes | None:
    """The calendar file of a booking e-mail, or None when there is no event or booking."""
    method = _ICS_METHOD.get(facts.kind or "")
    booking_id = facts.payload.get("booking_id")
    if method is None or facts.event is None or not isinstance(booking_id, int):
        return None
    ev = facts.event
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Evently Hub//Bookings//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    item = icalendar.Event()
    item.add("uid", f"booking-{booking_id}@{_DOMAIN}")
    # Each later message about the booking must carry a higher SEQUENCE (RFC 5545 3.8.7.4);
    # outbox ids only grow.
    item.add("sequence", 0 if facts.kind == "booking.confirmed" else facts.outbox_id)
    item.add("dtstamp", facts.created_at or ev.start_time)
    item.add("dtstart", ev.start_time)
    item.add("dtend", ev.end_time)
    item.add("summary", ev.name)
    item.add("location", ev.venue)
    seats = ", ".join(facts.payload.get("seats") or [])
    item.add("description", f"Booking #{booking_id}. Seats: {seats}.")
    item.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    cal.add_component(item)
    return bytes(cal.to_ical())


def _context(facts: MailFacts, subject: str) -> dict[str, Any]:
    p = facts.payload
    kind = facts.kind or ""
    return {
        "subject": subject, "user_name": facts.user_name or "there", "event": facts.event,
        "booking_id": p.get("booking_id"), "guest": facts.guest,
        "seats": list(p.get("seats") or []), "released_seats": list(p.get("released_seats") or []),
        "guest_changed": bool(p.get("guest_changed")), "expires_at": p.get("expires_at"),
        "headline": SUBJECTS.get(kind, facts.subject).split(":")[0],
    }


def compose(facts: MailFacts, sender: str, message_id: str) -> EmailMessage:
    """The message of one outbox row: ``To`` the account (and the guest), text and HTML
    alternatives, and an ``invite.ics`` where :func:`ics` gives one."""
    if facts.kind is None or facts.event is None:
        return plain_message(facts, sender, message_id)
    subject = SUBJECTS.get(facts.kind, facts.subject + ": {event}").format(
        event=facts.event.name)
    if facts.kind == "waitlist.offered" and facts.payload.get("expires_at"):
        subject += f" (until {when(facts.payload['expires_at'])})"
    context = _context(facts, subject)
    name = facts.kind if facts.kind in _TEMPLATED else "notice"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(facts.to[:1] + [formataddr((facts.guest["name"] if facts.guest
                                                      else "", a)) for a in facts.to[1:]])
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg.set_content(_env.get_template(f"{name}.txt").render(context))
    msg.add_alternative(_env.get_template(f"{name}.html").render(context), subtype="html")
    calendar = ics(facts)
    if calendar is not None:
        msg.add_attachment(calendar, maintype="text", subtype="calendar",
                           filename="invite.ics",
                           params={"method": _ICS_METHOD[facts.kind]})
    return msg
