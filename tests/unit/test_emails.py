"""The e-mail composer without a server: escaping, recipients, the plain fallback."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.ports.mail import EventFacts, MailFacts
from web.emails import compose, when


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
