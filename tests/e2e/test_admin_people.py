"""Admin views of people: ``GET /admin/users/{id}`` (profile + stats) and the
``GET /admin/users`` rows with the same counts, filtered by role, sorted by any count."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.api import auth

pytestmark = pytest.mark.e2e


def book(hub: Any, token: str, event_id: int, qty: int) -> dict[str, Any]:
    r = httpx.post(hub.url + f"/events/{event_id}/book", json={"qty": qty}, headers=auth(token))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_profile_and_rows_carry_the_counts(hub: Any, make_user: Any, make_event: Any) -> None:
    admin, org, ann, bob = (make_user("admin"), make_user("organizer"), make_user(),
                            make_user())
    ev1, ev2 = make_event(org["token"], capacity=10), make_event(org["token"], capacity=10)
    b1 = book(hub, ann["token"], ev1["id"], 3)
    book(hub, ann["token"], ev2["id"], 2)
    httpx.delete(hub.url + f"/bookings/{b1['id']}", headers=auth(ann["token"]))
    book(hub, bob["token"], ev1["id"], 1)

    r = httpx.get(hub.url + f"/admin/users/{ann['id']}", headers=auth(admin["token"]))
    assert r.status_code == 200, r.text
    me = r.json()
    assert (me["email"], me["bookings"], me["seats"], me["cancellations"],
            me["events_organized"]) == (ann["email"], 2, 2, 1, 0)
    assert "last_login_at" in me and "password_hash" not in me
    organizer = httpx.get(hub.url + f"/admin/users/{org['id']}",
                          headers=auth(admin["token"])).json()
    assert organizer["events_organized"] == 2 and organizer["bookings"] == 0

    def rows(**q: Any) -> list[dict[str, Any]]:
        r = httpx.get(hub.url + "/admin/users", params=q, headers=auth(admin["token"]))
        assert r.status_code == 200, r.text
        return list(r.json()["items"])

    by_seats = rows(sort="seats", order="desc")
    assert [u["id"] for u in by_seats[:2]] == [ann["id"], bob["id"]]
    assert by_seats[0]["cancellations"] == 1
    assert [u["id"] for u in rows(role="organizer")] == [org["id"]]
    assert rows(sort="cancellations", order="desc")[0]["id"] == ann["id"]
    assert rows(sort="events_organized", order="desc")[0]["id"] == org["id"]
    assert len(rows(sort="last_login_at")) == 4

    assert httpx.get(hub.url + "/admin/users", params={"sort": "password"},
                     headers=auth(admin["token"])).status_code == 422
    assert httpx.get(hub.url + f"/admin/users/{ann['id']}",
                     headers=auth(org["token"])).json()["error"]["code"] == "FORBIDDEN"
    assert httpx.get(hub.url + "/admin/users/999999",
                     headers=auth(admin["token"])).status_code == 404
    assert httpx.get(hub.url + "/admin/users/abc",
                     headers=auth(admin["token"])).status_code in (404, 422)
