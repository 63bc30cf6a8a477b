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

Times are shown in the event's zone (``EventFacts.timezone``, an IANA name) with its
abbreviation and UTC offset (``Wed 1 Jan 2031, 20:00 CET (UTC+01:00)``; plain ``UTC`` for
UTC events). The calendar file's ``DTSTART``/``DTEND`` carry that zone as ``TZID`` with a
matching ``VTIMEZONE`` (RFC 5545 3.6.5); UTC events keep UTC times (``Z``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from hub.ports.mail import MailFacts
from storage.outbox import plain_message

__all__ = ["SUBJECTS", "compose", "ics", "when", "zone"]

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
_LAST_RULE = date(9998, 12, 1)  # icalendar overflows computing rules up to date.max


def zone(name: str | None) -> tzinfo:
    """The tzinfo of an IANA zone name; ``UTC`` for ``"UTC"``, None, or a name the tz
    database does not know (names are checked on input, so that means tzdata lost it)."""
    if not name or name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def when(value: datetime | str | None, tz: str | None = "UTC") -> str:
    """An aware datetime or an RFC 3339 string as a time in zone ``tz`` (an IANA name):
    ``Wed 1 Jan 2031, 20:00 UTC``, ``Wed 1 Jan 2031, 21:00 CET (UTC+01:00)``, or
    ``… 23:00 UTC+03:00`` where the zone has no lettered abbreviation."""
    if value is None:
        return ""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    info = zone(tz)
    at = at.astimezone(info)
    day = f"{at:%a} {at.day} {at:%b %Y, %H:%M}"
    if info is UTC:
        return f"{day} UTC"
    raw = f"{at:%z}"  # "+0100"
    offset = f"UTC{raw[:3]}:{raw[3:5]}"
    abbr = at.tzname() or ""
    if not abbr or abbr[0] in "+-" or abbr == offset:
        return f"{day} {offset}"
    return f"{day} {abbr} ({offset})"


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
    info = zone(ev.timezone)
    # Local times with TZID=<zone> (RFC 5545 3.3.5 form 3); UTC events keep the "Z" form.
    item.add("dtstart", ev.start_time.astimezone(info))
    item.add("dtend", ev.end_time.astimezone(info))
    item.add("summary", ev.name)
    item.add("location", ev.venue)
    seats = ", ".join(facts.payload.get("seats") or [])
    item.add("description", f"Booking #{booking_id}. Seats: {seats}.")
    item.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    cal.add_component(item)
    if info is not UTC:
        # The VTIMEZONE every TZID must have (RFC 5545 3.6.5), its rules spanning the event
        # with a year's margin each side.
        margin = timedelta(days=366)
        first = ev.start_time.astimezone(info).date()
        last = ev.end_time.astimezone(info).date()
        upto = min(last + margin, _LAST_RULE) if last < _LAST_RULE else _LAST_RULE
        cal.add_missing_timezones(min(first - margin, upto), upto)
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
        subject += f" (until {when(facts.payload['expires_at'], facts.event.timezone)})"
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
