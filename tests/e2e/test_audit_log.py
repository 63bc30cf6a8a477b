"""The audit trail: every admin and organizer action lands in PostgreSQL and reads back at
``GET /admin/audit`` (filtered by actor and event, paginated, admins only)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.api import auth

pytestmark = pytest.mark.e2e


def audit(hub: Any, token: str, query: str = "") -> httpx.Response:
    return httpx.get(hub.url + "/admin/audit" + query, headers=auth(token))


def test_admin_and_organizer_actions_are_audited(hub: Any, make_user: Any,
                                                 make_event: Any) -> None:
    boss, org, user = make_user("admin"), make_user("organizer"), make_user()
    mine = make_event(org["token"], name="Org Gig")
    ev = make_event(boss["token"])
    h = auth(boss["token"])
    url = hub.url + f"/admin/events/{ev['id']}"
    assert httpx.patch(url, json={"name": "Renamed", "capacity": 30},
                       headers=h).status_code == 200
    assert httpx.post(url + "/seats/generate", json={"capacity": 12}, headers=h).status_code == 201
    assert httpx.post(url + "/deactivate", headers=h).status_code == 200
    assert httpx.delete(url, headers=h).status_code == 204
    assert httpx.patch(hub.url + f"/admin/users/{user['id']}/role", json={"role": "organizer"},
                       headers=h).status_code == 200
    assert httpx.delete(hub.url + f"/admin/users/{user['id']}", headers=h).status_code == 204
    # A refused action leaves no trace.
    assert httpx.patch(hub.url + f"/admin/events/{mine['id']}", json={"name": "x"},
                       headers=auth(make_user()["token"])).status_code == 403

    r = audit(hub, boss["token"])
    assert r.status_code == 200, r.text
    page = r.json()
    actions = [(e["action"], e["actor_id"], e["event_id"], e["target_user_id"])
               for e in page["items"]]
    assert actions == [  # newest first
        ("user.ban", boss["id"], None, user["id"]),
        ("user.role", boss["id"], None, user["id"]),
        ("event.delete", boss["id"], ev["id"], None),
        ("event.deactivate", boss["id"], ev["id"], None),
        ("event.seats_generate", boss["id"], ev["id"], None),
        ("event.update", boss["id"], ev["id"], None),
        ("event.create", boss["id"], ev["id"], None),
        ("event.create", org["id"], mine["id"], None),
    ]
    assert page["total"] == 8
    by_action = {e["action"]: e for e in page["items"]}
    assert by_action["user.role"]["details"] == {"before": "user", "after": "organizer"}
    assert by_action["event.update"]["details"]["changes"] == {"name": "Renamed",
                                                               "capacity": 30}
    assert by_action["event.seats_generate"]["details"] == {"seats": 12}
    assert by_action["user.ban"]["actor_role"] == "admin"

    org_only = audit(hub, boss["token"], f"?actor_id={org['id']}").json()
    assert [(e["action"], e["actor_role"]) for e in org_only["items"]] == [
        ("event.create", "organizer")]
    of_event = audit(hub, boss["token"], f"?event_id={ev['id']}&page=2&page_size=2").json()
    assert of_event["total"] == 5 and of_event["page"] == 2
    assert [e["action"] for e in of_event["items"]] == ["event.seats_generate", "event.update"]
    assert audit(hub, boss["token"], "?event_id=0").status_code == 422
    assert audit(hub, boss["token"], "?page=x").status_code == 422
    assert audit(hub, org["token"]).status_code == 403
    assert httpx.get(hub.url + "/admin/audit").status_code == 401
