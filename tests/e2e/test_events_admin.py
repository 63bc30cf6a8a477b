"""Event listing and administration over REST (CONTRACT §2 ``GET /events``, ``/admin/events/*``,
``/admin/bookings``), against a real ``evently serve`` on real stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.api import auth

pytestmark = pytest.mark.e2e


def call(hub: Any, method: str, path: str, token: str | None = None,
         **kw: Any) -> httpx.Response:
    return httpx.request(method, hub.url + path, headers=auth(token) if token else {}, **kw)


def code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


def book(hub: Any, token: str, event_id: int, qty: int, **extra: Any) -> httpx.Response:
    return call(hub, "POST", f"/events/{event_id}/book", token, json={"qty": qty, **extra})


def seats(hub: Any, event_id: int) -> list[dict[str, Any]]:
    r = call(hub, "GET", f"/events/{event_id}/seats")
    assert r.status_code == 200, r.text
    return list(r.json()["seats"])


def event(hub: Any, event_id: int) -> dict[str, Any]:
    return dict(call(hub, "GET", f"/events/{event_id}").json())


def at(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


# -- listing -----------------------------------------------------------------------------------


def test_listing_filters_sorts_and_pages(hub: Any, make_user: Any, make_event: Any) -> None:
    org, buyer = make_user("organizer"), make_user()
    jazz = make_event(org["token"], name="Jazz Night", venue="Blue Hall", capacity=10,
                      start_time=at(3), end_time=at(3.1))
    opera = make_event(org["token"], name="opera gala", venue="Royal House", capacity=10,
                       start_time=at(1), end_time=at(1.1))
    past = make_event(org["token"], name="Old Jazz", venue="Cellar", capacity=10,
                      start_time=at(-2), end_time=at(-1.9))
    rock = make_event(org["token"], name="Rock", venue="Jazz Club", capacity=10,
                      start_time=at(2), end_time=at(2.1))
    assert book(hub, buyer["token"], opera["id"], 5).status_code == 201
    assert book(hub, buyer["token"], rock["id"], 2).status_code == 201

    body = call(hub, "GET", "/events").json()
    assert body["total"] == 4 and body["page"] == 1 and body["page_size"] == 20
    assert [e["id"] for e in body["items"]] == [past["id"], opera["id"], rock["id"], jazz["id"]]

    def ids(query: str) -> list[int]:
        r = call(hub, "GET", f"/events?{query}")
        assert r.status_code == 200, r.text
        return [e["id"] for e in r.json()["items"]]

    assert ids("sort=name") == [jazz["id"], past["id"], opera["id"], rock["id"]]
    assert ids("sort=name&order=desc") == [rock["id"], opera["id"], past["id"], jazz["id"]]
    assert ids("sort=utilization&order=desc")[:2] == [opera["id"], rock["id"]]
    assert ids("sort=created_at&order=desc") == [rock["id"], past["id"], opera["id"], jazz["id"]]
    # q matches name or venue, case-insensitively; % and _ are literal.
    assert sorted(ids("q=JAZZ")) == sorted([jazz["id"], past["id"], rock["id"]])
    assert ids("q=royal") == [opera["id"]]
    assert ids("q=%25") == [] and ids("q=_") == []
    assert ids("upcoming_only=true") == [opera["id"], rock["id"], jazz["id"]]
    assert ids("upcoming_only=true&q=jazz") == [rock["id"], jazz["id"]]
    page = call(hub, "GET", "/events?page=2&page_size=3").json()
    assert page["total"] == 4 and [e["id"] for e in page["items"]] == [jazz["id"]]
    assert call(hub, "GET", "/events?page=9").json()["items"] == []

    listed = {e["id"]: e for e in body["items"]}
    assert listed[opera["id"]]["booked_count"] == 5
    assert listed[opera["id"]]["available_count"] == 5


@pytest.mark.parametrize("query", [
    "page=0", "page=-1", "page=abc", "page_size=0", "page_size=101", "sort=price",
    "order=up", "upcoming_only=maybe", "q=" + "x" * 201, "status=gone",
])
def test_listing_rejects_bad_parameters(hub: Any, query: str) -> None:
    r = call(hub, "GET", f"/events?{query}")
    assert r.status_code == 422, r.text
    assert code(r) == "VALIDATION_ERROR" and r.json()["error"]["details"]["fields"]


def test_counts_are_exact_without_a_websocket(hub: Any, make_user: Any,
                                              make_event: Any) -> None:
    org, a, b = make_user("organizer"), make_user(), make_user()
    ev = make_event(org["token"], capacity=12)
    assert book(hub, a["token"], ev["id"], 3).status_code == 201
    hold = call(hub, "POST", f"/events/{ev['id']}/holds", b["token"], json={"qty": 2})
    assert hold.status_code == 201
    want = {"capacity": 12, "booked_count": 3, "held_count": 2, "available_count": 7,
            "waitlisted_count": 0}
    listed = call(hub, "GET", "/events").json()["items"][0]
    assert {k: listed[k] for k in want} == want
    assert {k: event(hub, ev["id"])[k] for k in want} == want
    statuses = [s["status"] for s in seats(hub, ev["id"])]
    assert statuses.count("sold") == 3 and statuses.count("held") == 2


# -- PATCH, deactivate, delete -------------------------------------------------------------------


def test_patch_event_authorization_and_validation(hub: Any, make_user: Any,
                                                  make_event: Any) -> None:
    org, other, user, admin = (make_user("organizer"), make_user("organizer"), make_user(),
                               make_user("admin"))
    ev = make_event(org["token"])
    path = f"/admin/events/{ev['id']}"
    assert call(hub, "PATCH", path, json={"name": "x"}).status_code == 401
    for token in (user["token"], other["token"]):
        r = call(hub, "PATCH", path, token, json={"name": "x"})
        assert r.status_code == 403 and code(r) == "FORBIDDEN"
    assert call(hub, "PATCH", "/admin/events/987654", org["token"],
                json={"name": "x"}).status_code == 404
    assert call(hub, "PATCH", "/admin/events/nope", org["token"],
                json={"name": "x"}).status_code == 404
    r = call(hub, "PATCH", path, org["token"], json={"name": "Renamed", "venue": "New Hall",
                                                     "hold_ttl_seconds": 120,
                                                     "auto_promote": True})
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["venue"], r.json()["hold_ttl_seconds"],
            r.json()["auto_promote"]) == ("Renamed", "New Hall", 120, True)
    r = call(hub, "PATCH", path, admin["token"], json={"end_time": "2000-01-01T00:00:00Z"})
    assert r.status_code == 422 and code(r) == "VALIDATION_ERROR"
    for bad, status in (({"capacity": 0}, 422), ({"capacity": "5"}, 400),
                        ({"status": "paused"}, 422), ({"colour": "red"}, 400),
                        ({"start_time": "yesterday"}, 400)):
        r = call(hub, "PATCH", path, admin["token"], json=bad)
        assert r.status_code in (status, 422), (bad, r.text)
        assert code(r) in ("BAD_REQUEST", "VALIDATION_ERROR")
    r = call(hub, "PATCH", path, admin["token"], content=b"{nope")
    assert r.status_code == 400


def test_capacity_raise_adds_seats_and_counts_stay_exact(hub: Any, make_user: Any,
                                                         make_event: Any) -> None:
    org, buyer = make_user("organizer"), make_user()
    ev = make_event(org["token"], capacity=8)
    assert book(hub, buyer["token"], ev["id"], 8).status_code == 201
    sold_out = book(hub, buyer["token"], ev["id"], 1)
    assert sold_out.status_code == 409 and code(sold_out) == "SOLD_OUT"
    r = call(hub, "PATCH", f"/admin/events/{ev['id']}", org["token"], json={"capacity": 23})
    assert r.status_code == 200, r.text
    assert (r.json()["capacity"], r.json()["booked_count"], r.json()["available_count"]) == \
        (23, 8, 15)
    listed = seats(hub, ev["id"])
    assert [s["label"] for s in listed] == [f"{row}{n}" for row in "AB" for n in range(1, 11)] \
        + ["C1", "C2", "C3"]
    assert [s["status"] for s in listed].count("available") == 15
    assert book(hub, buyer["token"], ev["id"], 2).status_code == 201
    assert event(hub, ev["id"])["available_count"] == 13


def test_capacity_raise_on_a_seat_map_adds_a_section(hub: Any, make_user: Any,
                                                     make_event: Any) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], seat_map={"sections": [{"name": "Stalls", "rows": 1,
                                                          "seats_per_row": 4}]})
    r = call(hub, "PATCH", f"/admin/events/{ev['id']}", org["token"], json={"capacity": 16})
    assert r.status_code == 200 and r.json()["capacity"] == 16
    labels = [s["label"] for s in seats(hub, ev["id"])]
    assert labels[:4] == ["Stalls A1", "Stalls A2", "Stalls A3", "Stalls A4"]
    assert labels[4:] == [f"Extra A{n}" for n in range(1, 11)] + ["Extra B1", "Extra B2"]


def test_capacity_lowering(hub: Any, make_user: Any, make_event: Any) -> None:
    org, buyer = make_user("organizer"), make_user()
    ev = make_event(org["token"], capacity=20)
    assert book(hub, buyer["token"], ev["id"], 5).status_code == 201
    path = f"/admin/events/{ev['id']}"
    r = call(hub, "PATCH", path, org["token"], json={"capacity": 4})
    assert r.status_code == 409 and code(r) == "CAPACITY_BELOW_SOLD"
    hold = call(hub, "POST", f"/events/{ev['id']}/holds", buyer["token"], json={"qty": 1})
    r = call(hub, "PATCH", path, org["token"], json={"capacity": 12})
    assert r.status_code == 409 and code(r) == "CAPACITY_BELOW_SOLD"
    assert call(hub, "DELETE", f"/holds/{hold.json()['hold_id']}",
                buyer["token"]).status_code == 204
    r = call(hub, "PATCH", path, org["token"], json={"capacity": 12})
    assert r.status_code == 200, r.text
    assert (r.json()["capacity"], r.json()["booked_count"], r.json()["available_count"]) == \
        (12, 5, 7)
    listed = seats(hub, ev["id"])
    assert len(listed) == 12 and [s["label"] for s in listed][-1] == "B2"
    assert [s["status"] for s in listed].count("sold") == 5
    # Raising again refills the rows.
    r = call(hub, "PATCH", path, org["token"], json={"capacity": 14})
    assert [s["label"] for s in seats(hub, ev["id"])][-2:] == ["B3", "B4"]
    assert book(hub, buyer["token"], ev["id"], 9).status_code == 201


def test_deactivate_and_reactivate(hub: Any, make_user: Any, make_event: Any) -> None:
    org, user = make_user("organizer"), make_user()
    ev = make_event(org["token"])
    path = f"/admin/events/{ev['id']}/deactivate"
    assert call(hub, "POST", path).status_code == 401
    assert call(hub, "POST", path, user["token"]).status_code == 403
    assert call(hub, "POST", "/admin/events/55555/deactivate", org["token"]).status_code == 404
    r = call(hub, "POST", path, org["token"])
    assert r.status_code == 200 and r.json()["status"] == "inactive"
    hold = call(hub, "POST", f"/events/{ev['id']}/holds", user["token"], json={"qty": 1})
    assert hold.status_code == 409 and code(hold) == "EVENT_INACTIVE"
    booked = book(hub, user["token"], ev["id"], 1)
    assert booked.status_code == 409 and code(booked) == "EVENT_INACTIVE"
    r = call(hub, "PATCH", f"/admin/events/{ev['id']}", org["token"], json={"status": "active"})
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert book(hub, user["token"], ev["id"], 1).status_code == 201


def test_delete_is_refused_while_confirmed_bookings_exist(hub: Any, make_user: Any,
                                                          make_event: Any) -> None:
    org, other, user = make_user("organizer"), make_user("organizer"), make_user()
    ev = make_event(org["token"])
    path = f"/admin/events/{ev['id']}"
    b = book(hub, user["token"], ev["id"], 2).json()
    assert call(hub, "DELETE", path).status_code == 401
    assert call(hub, "DELETE", path, user["token"]).status_code == 403
    assert call(hub, "DELETE", path, other["token"]).status_code == 403
    r = call(hub, "DELETE", path, org["token"])
    assert r.status_code == 409 and code(r) == "EVENT_HAS_BOOKINGS"
    assert call(hub, "DELETE", f"/bookings/{b['id']}", user["token"]).status_code == 200
    r = call(hub, "DELETE", path, org["token"])
    assert r.status_code == 204
    assert call(hub, "GET", f"/events/{ev['id']}").status_code == 404
    assert call(hub, "DELETE", path, org["token"]).status_code == 404


def test_generate_seats_only_before_sales(hub: Any, make_user: Any, make_event: Any) -> None:
    org, other, user = make_user("organizer"), make_user("organizer"), make_user()
    ev = make_event(org["token"], capacity=10)
    path = f"/admin/events/{ev['id']}/seats/generate"
    body = {"sections": [{"name": "Circle", "rows": 2, "seats_per_row": 3}]}
    assert call(hub, "POST", path, json=body).status_code == 401
    assert call(hub, "POST", path, other["token"], json=body).status_code == 403
    assert call(hub, "POST", "/admin/events/4444/seats/generate", org["token"],
                json=body).status_code == 404
    assert call(hub, "POST", path, org["token"], json={"sections": []}).status_code == 422
    assert call(hub, "POST", path, org["token"], json={}).status_code == 422
    r = call(hub, "POST", path, org["token"], json=body)
    assert r.status_code == 201, r.text
    assert r.json()["capacity"] == 6
    assert [s["label"] for s in seats(hub, ev["id"])][:2] == ["Circle A1", "Circle A2"]
    assert book(hub, user["token"], ev["id"], 1).status_code == 201
    r = call(hub, "POST", path, org["token"], json=body)
    assert r.status_code == 409


def test_attendees(hub: Any, make_user: Any, make_event: Any) -> None:
    org, other, admin = make_user("organizer"), make_user("organizer"), make_user("admin")
    alice, bob = make_user(name="Alice"), make_user(name="Bob")
    ev = make_event(org["token"])
    a = book(hub, alice["token"], ev["id"], 2,
             guest={"name": "Guest One", "email": "guest@example.test"}).json()
    b = book(hub, bob["token"], ev["id"], 1).json()
    call(hub, "DELETE", f"/bookings/{b['id']}", bob["token"])
    path = f"/admin/events/{ev['id']}/attendees"
    assert call(hub, "GET", path).status_code == 401
    assert call(hub, "GET", path, alice["token"]).status_code == 403
    assert call(hub, "GET", path, other["token"]).status_code == 403
    assert call(hub, "GET", "/admin/events/3333/attendees", admin["token"]).status_code == 404
    for token in (org["token"], admin["token"]):
        r = call(hub, "GET", path, token)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["total"] == 1 and body["event_id"] == ev["id"]
        (line,) = body["items"]
        assert line["booking_id"] == a["id"] and line["status"] == "CONFIRMED"
        assert line["user"] == {"id": alice["id"], "name": "Alice", "email": alice["email"]}
        assert line["guest"] == {"name": "Guest One", "email": "guest@example.test"}
        assert line["seats"] == a["seats"] and line["qty"] == 2


def test_admin_bookings_listing(hub: Any, make_user: Any, make_event: Any) -> None:
    org, admin, user = make_user("organizer"), make_user("admin"), make_user()
    e1, e2 = make_event(org["token"]), make_event(org["token"])
    made = [book(hub, user["token"], e, 1).json() for e in (e1["id"], e1["id"], e2["id"])]
    call(hub, "DELETE", f"/bookings/{made[0]['id']}", user["token"])
    assert call(hub, "GET", "/admin/bookings").status_code == 401
    assert call(hub, "GET", "/admin/bookings", org["token"]).status_code == 403
    all_ = call(hub, "GET", "/admin/bookings", admin["token"]).json()
    assert all_["total"] == 3 and [b["id"] for b in all_["items"]] == \
        [made[2]["id"], made[1]["id"], made[0]["id"]]
    e1_ = call(hub, "GET", f"/admin/bookings?event_id={e1['id']}", admin["token"]).json()
    assert {b["id"] for b in e1_["items"]} == {made[0]["id"], made[1]["id"]}
    cancelled = call(hub, "GET", "/admin/bookings?status=CANCELLED&event_id=&page=1",
                     admin["token"]).json()
    assert [b["id"] for b in cancelled["items"]] == [made[0]["id"]]
    paged = call(hub, "GET", "/admin/bookings?page=2&page_size=2", admin["token"]).json()
    assert paged["total"] == 3 and [b["id"] for b in paged["items"]] == [made[0]["id"]]
    for q in ("status=done", "event_id=x", "page_size=500"):
        r = call(hub, "GET", f"/admin/bookings?{q}", admin["token"])
        assert r.status_code == 422 and code(r) == "VALIDATION_ERROR"
    assert call(hub, "GET", "/admin/bookings?event_id=999", admin["token"]).status_code == 404


def test_event_time_zone_is_checked_stored_and_changed(hub: Any, make_user: Any,
                                                       make_event: Any) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"])
    assert ev["timezone"] == "UTC" and event(hub, ev["id"])["timezone"] == "UTC"
    paris = make_event(org["token"], timezone="Europe/Paris")
    assert paris["timezone"] == "Europe/Paris"
    assert event(hub, paris["id"])["timezone"] == "Europe/Paris"
    start = datetime.now(UTC) + timedelta(days=3)
    base = {"name": "Zone Night", "venue": "Hall", "start_time": start.isoformat(),
            "end_time": (start + timedelta(hours=1)).isoformat(), "capacity": 5}
    path = f"/admin/events/{ev['id']}"
    for bad in ("Mars/Olympus", "Europe", "../etc/passwd", "", "europe/paris", "UTC\x00"):
        r = call(hub, "POST", "/admin/events", org["token"], json={**base, "timezone": bad})
        assert r.status_code == 422 and code(r) == "VALIDATION_ERROR", (bad, r.text)
        fields = r.json()["error"]["details"]["fields"]
        assert any("timezone" in f["field"] for f in fields), fields
        r = call(hub, "PATCH", path, org["token"], json={"timezone": bad})
        assert r.status_code == 422 and code(r) == "VALIDATION_ERROR", (bad, r.text)
    r = call(hub, "POST", "/admin/events", org["token"], json={**base, "timezone": 1})
    assert r.status_code == 400 and code(r) == "BAD_REQUEST"
    assert event(hub, ev["id"])["timezone"] == "UTC"
    r = call(hub, "PATCH", path, org["token"], json={"timezone": "Asia/Tokyo"})
    assert r.status_code == 200 and r.json()["timezone"] == "Asia/Tokyo", r.text
    r = call(hub, "PATCH", path, org["token"], json={"name": "Kept Zone"})
    assert r.json()["timezone"] == "Asia/Tokyo"
    listed = call(hub, "GET", "/events", params={"q": "Kept Zone"}).json()["items"]
    assert [e["timezone"] for e in listed] == ["Asia/Tokyo"]
