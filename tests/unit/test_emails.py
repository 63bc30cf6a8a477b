"""The e-mail composer without a server: escaping, recipients, the plain fallback."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import icalendar

from hub.ports.mail import EventFacts, MailFacts
from web.emails import compose, ics, when


def facts(**over: object) -> MailFacts:
    base: dict[str, object] = dict(
        outbox_id=7, kind="booking.confirmed", to=["a@x.test", "g@x.test"],
        subject="Your booking is confirmed", body="plain", user_name="Ann",
        payload={"booking_id": 3, "event_id": 1, "seats": ["A1", "A2"]},
        event=EventFacts(1, "<b>Gala</b>", "Hall & Co", datetime(2031, 1, 1, 20, tzinfo=UTC),
                         datetime(2031, 1, 1, 22, tzinfo=UTC)),
        guest={"name": "Gus", "email": "g@x.test"},
        created_at=datetime(2030, 1, 1, tzinfo=UTC))
    base.update(over)
    return MailFacts(**base)  # type: ignore[arg-type]


def test_html_is_escaped_and_text_is_not() -> None:
    msg = compose(facts(), "Evently <no-reply@x.test>", "<1@x>")
    html = msg.get_body(preferencelist=("html",))
    text = msg.get_body(preferencelist=("plain",))
    assert html is not None and text is not None
    assert "&lt;b&gt;Gala&lt;/b&gt;" in html.get_content()
    assert "Hall &amp; Co" in html.get_content()
    assert "<b>Gala</b>" in text.get_content()
    assert msg["To"] == "a@x.test, Gus <g@x.test>"


def test_rows_without_a_notification_go_as_written() -> None:
    msg = compose(facts(kind=None, event=None, to=["a@x.test"], body="Reset: 123\n"),
                  "E <e@x.test>", "<2@x>")
    assert msg.get_content_type() == "text/plain" and msg.get_content() == "Reset: 123\n"
    assert msg["To"] == "a@x.test" and not list(msg.iter_attachments())


def test_when_is_utc_and_says_so() -> None:
    assert when("2031-01-01T21:30:00+01:00") == "Wed 1 Jan 2031, 20:30 UTC"


def test_when_in_a_zone_names_abbreviation_and_offset() -> None:
    at = "2031-07-01T18:00:00Z"
    assert when(at, "Europe/Paris") == "Tue 1 Jul 2031, 20:00 CEST (UTC+02:00)"
    assert when(at, "America/New_York") == "Tue 1 Jul 2031, 14:00 EDT (UTC-04:00)"
    assert when(at, "Asia/Kolkata") == "Tue 1 Jul 2031, 23:30 IST (UTC+05:30)"
    # a zone whose abbreviation is numeric is shown by its offset alone
    assert when(at, "Europe/Istanbul") == "Tue 1 Jul 2031, 21:00 UTC+03:00"
    assert when(at, "UTC") == "Tue 1 Jul 2031, 18:00 UTC"


def _zoned(tz: str) -> MailFacts:
    ev = EventFacts(1, "Gala", "Hall", datetime(2031, 1, 1, 20, tzinfo=UTC),
                    datetime(2031, 1, 1, 22, tzinfo=UTC), tz)
    return facts(event=ev)


def test_ics_carries_the_zone_with_a_vtimezone() -> None:
    data = ics(_zoned("America/New_York"))
    assert data is not None
    assert b"DTSTART;TZID=America/New_York:20310101T150000" in data
    assert b"DTEND;TZID=America/New_York:20310101T170000" in data
    cal = icalendar.Calendar.from_ical(data)
    [vtz] = cal.walk("VTIMEZONE")
    assert str(vtz["tzid"]) == "America/New_York" and cal.get_missing_tzids() == set()
    assert cal.walk("VEVENT")[0].decoded("dtstart") == datetime(2031, 1, 1, 20, tzinfo=UTC)


def test_utc_events_keep_utc_times_without_a_vtimezone() -> None:
    data = ics(_zoned("UTC"))
    assert data is not None and b"DTSTART:20310101T200000Z" in data
    assert b"VTIMEZONE" not in data


def test_bodies_and_offer_deadline_use_the_zone() -> None:
    msg = compose(facts(event=_zoned("Asia/Tokyo").event), "E <e@x.test>", "<3@x>")
    assert isinstance(msg, EmailMessage)
    text = msg.get_body(preferencelist=("plain",))
    assert text is not None and "Thu 2 Jan 2031, 05:00 JST (UTC+09:00)" in text.get_content()
    offer = compose(facts(kind="waitlist.offered", event=_zoned("Asia/Tokyo").event,
                          payload={"event_id": 1, "seats": ["A1"],
                                   "expires_at": "2031-01-01T10:00:00+00:00"}),
                    "E <e@x.test>", "<4@x>")
    assert "(until Wed 1 Jan 2031, 19:00 JST (UTC+09:00))" in str(offer["Subject"])
