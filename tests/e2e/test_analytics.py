"""The admin analytics summary and the homepage figures (CONTRACT §2
``/admin/analytics/summary``, ``/stats/homepage``), against a real ``evently serve``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.api import auth

pytestmark = pytest.mark.e2e


def get(hub: Any, path: str, token: str | None = None) -> httpx.Response:
    return httpx.get(hub.url + path, headers=auth(token) if token else {})


def book(hub: Any, token: str, event_id: int, qty: int) -> dict[str, Any]:
    r = httpx.post(f"{hub.url}/events/{event_id}/book", json={"qty": qty}, headers=auth(token))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_summary_is_for_admins_and_organizers(hub: Any, make_user: Any) -> None:
    assert get(hub, "/admin/analytics/summary").status_code == 401
    r = get(hub, "/admin/analytics/summary", make_user("user")["token"])
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    admin = make_user("admin")
    r = get(hub, "/admin/analytics/summary?refresh=maybe", admin["token"])
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR"


def test_summary_figures(hub: Any, make_user: Any, make_event: Any) -> None:
    admin, org, a, b = (make_user("admin"), make_user("organizer"), make_user(), make_user())
    e1 = make_event(org["token"], name="Big", capacity=10)
    e2 = make_event(org["token"], name="Small", capacity=4)
    first = book(hub, a["token"], e1["id"], 3)
    book(hub, b["token"], e1["id"], 2)
    book(hub, a["token"], e2["id"], 4)
    assert httpx.delete(f"{hub.url}/bookings/{first['id']}",
                        headers=auth(a["token"])).status_code == 200
    hold = httpx.post(f"{hub.url}/events/{e1['id']}/holds", json={"qty": 1},
                      headers=auth(b["token"]))
    assert hold.status_code == 201
    r = get(hub, "/admin/analytics/summary?refresh=1", admin["token"])
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["totals"] == {"events": 2, "bookings": 3, "seats_sold": 6, "cancelled": 1,
                           "holds_active": 1, "waitlisted": 0}
    assert s["cancellation_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert {e["id"]: (e["name"], e["capacity"], e["sold"], e["utilization"])
            for e in s["events"]} == {e1["id"]: ("Big", 10, 2, 0.2),
                                      e2["id"]: ("Small", 4, 4, 1.0)}
    today = datetime.now(UTC).date().isoformat()
    assert len(s["daily"]) == 30 and s["daily"][-1] == {"date": today, "booked": 3,
                                                        "cancelled": 1}
    assert all(d["booked"] == 0 for d in s["daily"][:-1])
    assert datetime.fromisoformat(s["generated_at"]).tzinfo is not None


def test_cache_is_dropped_by_event_changes_and_refresh_rebuilds(hub: Any, make_user: Any,
                                                               make_event: Any) -> None:
    admin, org, buyer = make_user("admin"), make_user("organizer"), make_user()
    ev = make_event(org["token"], capacity=10)
    first = get(hub, "/admin/analytics/summary", admin["token"]).json()
    assert first["totals"]["events"] == 1
    again = get(hub, "/admin/analytics/summary", admin["token"]).json()
    assert again["generated_at"] == first["generated_at"]  # from the cache

    # An event change drops the cache: the next read is rebuilt.
    r = httpx.patch(f"{hub.url}/admin/events/{ev['id']}", json={"capacity": 15},
                    headers=auth(org["token"]))
    assert r.status_code == 200
    changed = get(hub, "/admin/analytics/summary", admin["token"]).json()
    assert changed["generated_at"] != first["generated_at"]
    assert changed["events"][0]["capacity"] == 15
    make_event(org["token"])
    assert get(hub, "/admin/analytics/summary", admin["token"]).json()["totals"]["events"] == 2

    # refresh=1 rebuilds at once whatever the cache holds.
    book(hub, buyer["token"], ev["id"], 3)
    fresh = get(hub, "/admin/analytics/summary?refresh=1", admin["token"]).json()
    assert fresh["totals"]["seats_sold"] == 3 and fresh["totals"]["bookings"] == 1
    assert (datetime.fromisoformat(fresh["generated_at"])
            > datetime.fromisoformat(changed["generated_at"]))
    cached = get(hub, "/admin/analytics/summary", admin["token"]).json()
    assert cached["totals"]["seats_sold"] == 3


def test_homepage_stats(hub: Any, make_user: Any, make_event: Any) -> None:
    org, buyer = make_user("organizer"), make_user()
    soon = datetime.now(UTC) + timedelta(days=1)
    past = datetime.now(UTC) - timedelta(days=1)
    hot = make_event(org["token"], name="Hot", capacity=10)
    cold = make_event(org["token"], name="Cold", capacity=10)
    make_event(org["token"], name="Gone", capacity=10, start_time=past.isoformat(),
               end_time=(past + timedelta(hours=1)).isoformat())
    off = make_event(org["token"], name="Off", capacity=10, start_time=soon.isoformat(),
                     end_time=(soon + timedelta(hours=1)).isoformat())
    httpx.post(f"{hub.url}/admin/events/{off['id']}/deactivate", headers=auth(org["token"]))
    book(hub, buyer["token"], hot["id"], 6)
    book(hub, buyer["token"], cold["id"], 1)
    r = get(hub, "/stats/homepage")
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["upcoming_events"] == 2
    assert s["seats_available"] == 13
    assert s["bookings_today"] == 2
    assert s["popular"] == [{"id": hot["id"], "name": "Hot", "utilization": 0.6},
                            {"id": cold["id"], "name": "Cold", "utilization": 0.1}]
