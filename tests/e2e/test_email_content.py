"""What the e-mails say, parsed as they arrive at a real SMTP server (aiosmtpd): the
confirmation names event, venue, start time (in the event's zone), seats and booking id, goes
to the account and the guest, and carries an iCalendar file (with the zone's TZID and
VTIMEZONE); change, cancellation and waitlist-offer e-mails say what happened (the offer its
deadline)."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
from aiosmtpd.controller import Controller

from tests.e2e.test_email import setup_sale, wait_for
from tests.support.api import PASSWORD, auth
from tests.support.servers import HubProcess, free_port, hub_env

pytestmark = pytest.mark.e2e


class Mailbox:
    """Every envelope the server accepted: recipients and the parsed message."""

    def __init__(self) -> None:
        self.got: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.got.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def about(self, word: str) -> list[tuple[list[str], EmailMessage]]:
        return [(r, m) for r, m in self.got if word in str(m["Subject"])]


@pytest.fixture
def mailbox(clean_stores: Any) -> Iterator[tuple[Mailbox, HubProcess]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    hub = HubProcess(hub_env(clean_stores, SMTP_HOST="127.0.0.1", SMTP_PORT=str(port)))
    hub.start()
    try:
        yield box, hub
    finally:
        hub.stop()
        controller.stop()


def body(msg: EmailMessage, kind: str) -> str:
    part = msg.get_body(preferencelist=(kind,))
    assert part is not None, f"no {kind} part"
    return str(part.get_content())


def calendar_of(msg: EmailMessage) -> Any:
    [ics] = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert ics.get_filename() == "invite.ics"
    return icalendar.Calendar.from_ical(ics.get_payload(decode=True))


def signup(hub: HubProcess, name: str, address: str) -> str:
    httpx.post(hub.url + "/auth/signup", json={"name": name, "email": address,
                                               "password": PASSWORD})
    r = httpx.post(hub.url + "/auth/login", json={"email": address, "password": PASSWORD})
    return str(r.json()["access_token"])


def test_confirmation_change_and_cancellation(mailbox: tuple[Mailbox, HubProcess],
                                              clean_stores: Any) -> None:
    box, hub = mailbox
    ev, _ = setup_sale(hub, clean_stores, 10)
    token = signup(hub, "Bea Buyer", "bea@example.test")
    r = httpx.post(hub.url + f"/events/{ev['id']}/book", headers=auth(token), json={
        "qty": 3, "guest": {"name": "Gil Guest", "email": "gil@example.test"}})
    assert r.status_code == 201
    booking = r.json()
    wait_for(lambda: box.about("confirmed"), 15)
    [(rcpt, msg)] = box.about("confirmed")
    assert sorted(rcpt) == ["bea@example.test", "gil@example.test"]
    assert "Mail Night" in str(msg["Subject"])
    text, html = body(msg, "plain"), body(msg, "html")
    for needle in ("Mail Night", "Post Office", "Wed 1 Jan 2031, 20:00 UTC",
                   f"#{booking['id']}", ", ".join(booking["seats"]), "Gil Guest"):
        assert needle in text and needle in html, needle
    cal = calendar_of(msg)
    assert str(cal["method"]) == "PUBLISH"
    [vevent] = cal.walk("VEVENT")
    assert str(vevent["summary"]) == "Mail Night" and str(vevent["location"]) == "Post Office"
    assert vevent.decoded("dtstart") == datetime(2031, 1, 1, 20, tzinfo=UTC)
    assert vevent.decoded("dtend") == datetime(2031, 1, 1, 22, tzinfo=UTC)
    uid = str(vevent["uid"])
    assert str(booking["id"]) in uid

    given = booking["seat_ids"][:1]
    r = httpx.patch(hub.url + f"/bookings/{booking['id']}", headers=auth(token),
                    json={"release_seat_ids": given})
    assert r.status_code == 200
    wait_for(lambda: box.about("changed"), 15)
    [(rcpt, changed)] = box.about("changed")
    assert "gil@example.test" in rcpt
    text = body(changed, "plain")
    assert f"Given back: {booking['seats'][0]}" in text
    assert f"Seats you keep: {', '.join(booking['seats'][1:])}" in text
    [vevent] = calendar_of(changed).walk("VEVENT")
    assert str(vevent["uid"]) == uid and int(vevent["sequence"]) > 0

    assert httpx.delete(hub.url + f"/bookings/{booking['id']}",
                        headers=auth(token)).status_code == 200
    wait_for(lambda: box.about("cancelled"), 15)
    [(_, cancelled)] = box.about("cancelled")
    assert "Your booking was cancelled" in body(cancelled, "plain")
    assert str(calendar_of(cancelled)["method"]) == "CANCEL"


def test_waitlist_offer_states_its_deadline(mailbox: tuple[Mailbox, HubProcess],
                                            clean_stores: Any) -> None:
    box, hub = mailbox
    ev, _ = setup_sale(hub, clean_stores, 2)
    owner = signup(hub, "Olga", "olga@example.test")
    waiter = signup(hub, "Walt", "walt@example.test")
    booking = httpx.post(hub.url + f"/events/{ev['id']}/book", headers=auth(owner),
                         json={"qty": 2}).json()
    assert httpx.post(hub.url + f"/events/{ev['id']}/waitlist", headers=auth(waiter),
                      json={"qty": 1}).status_code == 201
    httpx.delete(hub.url + f"/bookings/{booking['id']}", headers=auth(owner))
    [entry] = httpx.get(hub.url + "/waitlists/me", headers=auth(waiter)).json()
    assert entry["status"] == "OFFERED"
    deadline = datetime.fromisoformat(entry["offer"]["expires_at"]).astimezone(UTC)
    wait_for(lambda: box.about("waiting"), 15)
    [(rcpt, msg)] = box.about("waiting")
    assert rcpt == ["walt@example.test"]
    stamp = f"{deadline:%a} {deadline.day} {deadline:%b %Y, %H:%M} UTC"
    assert stamp in str(msg["Subject"])
    assert f"held for you until {stamp}" in body(msg, "plain")
    assert "Mail Night" in body(msg, "html")


def test_confirmation_in_the_events_zone(mailbox: tuple[Mailbox, HubProcess],
                                         clean_stores: Any) -> None:
    box, hub = mailbox
    ev, _ = setup_sale(hub, clean_stores, 5, timezone="Europe/Paris")
    assert ev["timezone"] == "Europe/Paris"
    token = signup(hub, "Pia Paris", "pia@example.test")
    r = httpx.post(hub.url + f"/events/{ev['id']}/book", headers=auth(token), json={"qty": 1})
    assert r.status_code == 201, r.text
    wait_for(lambda: box.about("confirmed"), 15)
    [(_, msg)] = box.about("confirmed")
    text, html = body(msg, "plain"), body(msg, "html")
    # 20:00-22:00 UTC on 1 January is 21:00-23:00 in Paris (CET, UTC+01:00).
    for needle in ("Wed 1 Jan 2031, 21:00 CET (UTC+01:00)",
                   "Wed 1 Jan 2031, 23:00 CET (UTC+01:00)", "Europe/Paris"):
        assert needle in text and needle in html, needle
    assert "20:00 UTC" not in text
    cal = calendar_of(msg)
    [vevent] = cal.walk("VEVENT")
    for prop, hour in (("dtstart", 21), ("dtend", 23)):
        assert vevent[prop].params["TZID"] == "Europe/Paris"
        at = vevent.decoded(prop)
        assert at == datetime(2031, 1, 1, hour, tzinfo=ZoneInfo("Europe/Paris"))
        assert at.utcoffset() is not None and at.utcoffset().total_seconds() == 3600
    [vtz] = cal.walk("VTIMEZONE")
    assert str(vtz["tzid"]) == "Europe/Paris"
    assert cal.get_missing_tzids() == set()
    assert b"DTSTART;TZID=Europe/Paris:20310101T210000" in calendar_of(msg).to_ical()
