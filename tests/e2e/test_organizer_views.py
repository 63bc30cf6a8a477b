"""Organizers see their own business: ``GET /me/events`` with live figures, the analytics
summary and live stream scoped to their events, and the guest list as formula-safe CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from tests.support.api import auth
from tests.support.stores import timing
from tests.support.wsclient import LiveClient

pytestmark = pytest.mark.e2e


def book(hub: Any, token: str, event_id: int, **body: Any) -> dict[str, Any]:
    r = httpx.post(hub.url + f"/events/{event_id}/book", json=body, headers=auth(token))
    assert r.status_code in (201, 202), r.text
    return dict(r.json())


def test_my_events_with_live_figures(hub: Any, make_user: Any, make_event: Any) -> None:
    org, rival, buyer, waiter = (make_user("organizer"), make_user("organizer"), make_user(),
                                 make_user())
    mine = make_event(org["token"], name="Mine", capacity=4)
    make_event(rival["token"], name="Theirs", capacity=4)
    book(hub, buyer["token"], mine["id"], qty=3)
    r = httpx.post(hub.url + f"/events/{mine['id']}/holds", json={"qty": 1},
                   headers=auth(buyer["token"]))
    assert r.status_code == 201
    assert book(hub, waiter["token"], mine["id"], qty=2, waitlist=True)["status"] == "WAITING"

    r = httpx.get(hub.url + "/me/events", headers=auth(org["token"]))
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 1 and [e["name"] for e in page["items"]] == ["Mine"]
    [e] = page["items"]
    assert (e["sold"], e["held"], e["available"], e["waitlisted"], e["utilization"]) == \
        (3, 1, 0, 2, 0.75)
    assert httpx.get(hub.url + "/me/events",
                     headers=auth(buyer["token"])).json()["error"]["code"] == "FORBIDDEN"
    assert httpx.get(hub.url + "/me/events").status_code == 401
    assert httpx.get(hub.url + "/me/events?sort=seats",
                     headers=auth(org["token"])).status_code == 422


def test_summary_is_scoped_to_the_organizers_events(hub: Any, make_user: Any,
                                                    make_event: Any) -> None:
    org, rival, buyer, admin = (make_user("organizer"), make_user("organizer"), make_user(),
                                make_user("admin"))
    mine = make_event(org["token"], name="Mine", capacity=10)
    theirs = make_event(rival["token"], name="Theirs", capacity=10)
    book(hub, buyer["token"], mine["id"], qty=2)
    gone = book(hub, buyer["token"], theirs["id"], qty=5)
    httpx.delete(hub.url + f"/bookings/{gone['id']}", headers=auth(buyer["token"]))
    book(hub, buyer["token"], theirs["id"], qty=1)

    s = httpx.get(hub.url + "/admin/analytics/summary", headers=auth(org["token"])).json()
    assert [e["name"] for e in s["events"]] == ["Mine"]
    assert s["totals"] == {"events": 1, "bookings": 1, "seats_sold": 2, "cancelled": 0,
                           "holds_active": 0, "waitlisted": 0}
    assert s["daily"][-1]["booked"] == 1
    everything = httpx.get(hub.url + "/admin/analytics/summary?refresh=1",
                           headers=auth(admin["token"])).json()
    assert everything["totals"]["events"] == 2 and everything["totals"]["bookings"] == 3


async def test_live_stream_is_scoped_to_the_organizers_events(
        hub: Any, make_user: Any, make_event: Any) -> None:
    org, rival, admin = make_user("organizer"), make_user("organizer"), make_user("admin")
    mine = make_event(org["token"], capacity=5)
    theirs = make_event(rival["token"], capacity=5)
    dash = await LiveClient.connect(hub.ws_url, org["token"])
    boss = await LiveClient.connect(hub.ws_url, admin["token"])
    try:
        assert (await dash.request("analytics.subscribe"))["type"] == "ok"
        assert (await boss.request("analytics.subscribe"))["type"] == "ok"
        for _ in range(2):
            msg = await dash.next_push("analytics", timing(3))
            assert [e["id"] for e in msg["events"]] == [mine["id"]]
        seen = await boss.next_push("analytics", timing(3))
        assert {mine["id"], theirs["id"]} <= {e["id"] for e in seen["events"]}
    finally:
        await dash.close()
        await boss.close()


def test_attendees_csv_is_escaped_and_formula_safe(hub: Any, make_user: Any,
                                                   make_event: Any) -> None:
    org, rival, admin = make_user("organizer"), make_user("organizer"), make_user("admin")
    buyer = make_user(name='=HYPERLINK("http://evil.test","x")')
    ev = make_event(org["token"], capacity=10)
    b1 = book(hub, buyer["token"], ev["id"], qty=2,
              guest={"name": 'Smith, "Jo"\nJr', "email": "jo@x.test"})
    b2 = book(hub, buyer["token"], ev["id"], qty=1, guest={"name": "@SUM(A1)", "email":
                                                           "+1@x.test"})
    gone = book(hub, buyer["token"], ev["id"], qty=1)
    httpx.delete(hub.url + f"/bookings/{gone['id']}", headers=auth(buyer["token"]))

    r = httpx.get(hub.url + f"/admin/events/{ev['id']}/attendees.csv", headers=auth(org["token"]))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [int(x["booking_id"]) for x in rows] == [b1["id"], b2["id"]]  # confirmed only
    assert rows[0]["guest_name"] == 'Smith, "Jo"\nJr' and rows[0]["qty"] == "2"
    assert rows[0]["seats"] == " ".join(b1["seats"])
    assert rows[0]["user_name"] == '\'=HYPERLINK("http://evil.test","x")'
    assert rows[1]["guest_name"] == "'@SUM(A1)" and rows[1]["guest_email"] == "'+1@x.test"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value

    assert httpx.get(hub.url + f"/admin/events/{ev['id']}/attendees.csv",
                     headers=auth(admin["token"])).status_code == 200
    r = httpx.get(hub.url + f"/admin/events/{ev['id']}/attendees.csv",
                  headers=auth(rival["token"]))
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    assert httpx.get(hub.url + "/admin/events/999999/attendees.csv",
                     headers=auth(admin["token"])).status_code == 404
