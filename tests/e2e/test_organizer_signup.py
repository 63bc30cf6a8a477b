"""Signing up as an organizer under each ``ORGANIZER_SIGNUP`` policy (open, approval, closed)
and the admins' approval desk, against real ``evently serve`` processes (CONTRACT §2)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.api import PASSWORD, auth
from tests.support.servers import HubProcess, hub_env
from tests.support.stores import TestStores, run_sync, set_role

pytestmark = pytest.mark.e2e


def signup(hub: HubProcess, email: str, role: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"name": email.split("@")[0], "email": email, "password": PASSWORD}
    if role is not None:
        body["role"] = role
    return httpx.post(hub.url + "/auth/signup", json=body)


def login(hub: HubProcess, email: str) -> dict[str, Any]:
    r = httpx.post(hub.url + "/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return dict(r.json())


def create_event(hub: HubProcess, token: str) -> httpx.Response:
    return httpx.post(hub.url + "/admin/events", headers=auth(token), json={
        "name": "Org Night", "venue": "Hall", "start_time": "2031-01-01T20:00:00Z",
        "end_time": "2031-01-01T22:00:00Z", "capacity": 10})


def admin(hub: HubProcess, stores: TestStores) -> str:
    assert signup(hub, "boss@example.test").status_code == 201
    user_id = httpx.get(hub.url + "/auth/me", headers=auth(
        login(hub, "boss@example.test")["access_token"])).json()["id"]
    run_sync(set_role(stores, user_id, "admin"))
    return str(login(hub, "boss@example.test")["access_token"])


@pytest.fixture(scope="module")
def hubs(stores: TestStores) -> Iterator[dict[str, HubProcess]]:
    """One hub per policy on the same stores (the session's hub is ``open``, the default)."""
    started = {p: HubProcess(hub_env(stores, ORGANIZER_SIGNUP=p)).start()
               for p in ("approval", "closed")}
    try:
        yield started
    finally:
        for h in started.values():
            h.stop()


def test_open_signup_gives_the_role_and_never_admin(hub: HubProcess) -> None:
    r = signup(hub, "org@example.test", "organizer")
    assert r.status_code == 201 and r.json()["role"] == "organizer"
    assert create_event(hub, login(hub, "org@example.test")["access_token"]).status_code == 201
    plain = signup(hub, "plain@example.test")
    assert plain.status_code == 201 and plain.json()["role"] == "user"
    for role, status in (("admin", 422), ("boss", 422)):
        r = httpx.post(hub.url + "/auth/signup", json={
            "name": "x", "email": f"x{status}{role}@example.test", "password": PASSWORD,
            "role": role})
        assert r.status_code == status, r.text
    assert "organizer" in str(httpx.get(hub.url + "/openapi.json").json()[
        "components"]["schemas"]["SignupIn"]["properties"]["role"])


def test_closed_signup_refuses_organizers(hubs: dict[str, HubProcess],
                                          clean_stores: TestStores) -> None:
    hub = hubs["closed"]
    r = signup(hub, "org@example.test", "organizer")
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    assert signup(hub, "user@example.test", "user").status_code == 201
    # Nothing was created by the refused request.
    assert signup(hub, "org@example.test").status_code == 201


def test_approval_signup_waits_for_an_admin(hubs: dict[str, HubProcess],
                                            clean_stores: TestStores) -> None:
    hub = hubs["approval"]
    boss = admin(hub, clean_stores)
    r = signup(hub, "hopeful@example.test", "organizer")
    assert r.status_code == 201 and r.json()["role"] == "user"
    hopeful = login(hub, "hopeful@example.test")
    assert create_event(hub, hopeful["access_token"]).status_code == 403
    assert signup(hub, "other@example.test", "organizer").status_code == 201
    assert signup(hub, "plain@example.test").status_code == 201  # asks nothing

    listed = httpx.get(hub.url + "/admin/organizer-requests", headers=auth(boss))
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert page["total"] == 2 and [i["email"] for i in page["items"]] == [
        "hopeful@example.test", "other@example.test"]
    first, second = page["items"]
    assert first["status"] == "pending" and first["decided_at"] is None

    # Only admins see or decide.
    assert httpx.get(hub.url + "/admin/organizer-requests",
                     headers=auth(hopeful["access_token"])).status_code == 403
    assert httpx.post(hub.url + f"/admin/organizer-requests/{first['id']}/approve",
                      headers=auth(hopeful["access_token"])).status_code == 403

    ok = httpx.post(hub.url + f"/admin/organizer-requests/{first['id']}/approve",
                    headers=auth(boss))
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    # The old token carried the old role: refused; a refresh brings the new role.
    assert httpx.get(hub.url + "/auth/me",
                     headers=auth(hopeful["access_token"])).status_code == 401
    fresh = httpx.post(hub.url + "/auth/refresh",
                       json={"refresh_token": hopeful["refresh_token"]}).json()
    assert httpx.get(hub.url + "/auth/me", headers=auth(fresh["access_token"])).json()[
        "role"] == "organizer"
    assert create_event(hub, fresh["access_token"]).status_code == 201

    refused = httpx.post(hub.url + f"/admin/organizer-requests/{second['id']}/refuse",
                         headers=auth(boss))
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    assert login(hub, "other@example.test") and httpx.get(
        hub.url + "/auth/me", headers=auth(login(hub, "other@example.test")["access_token"])
    ).json()["role"] == "user"

    # Deciding again: the same way changes nothing, the other way is a conflict.
    again = httpx.post(hub.url + f"/admin/organizer-requests/{first['id']}/approve",
                       headers=auth(boss))
    assert again.status_code == 200 and again.json()["decided_at"] == ok.json()["decided_at"]
    flip = httpx.post(hub.url + f"/admin/organizer-requests/{second['id']}/approve",
                      headers=auth(boss))
    assert flip.status_code == 409 and flip.json()["error"]["code"] == "ALREADY_EXISTS"
    assert httpx.post(hub.url + "/admin/organizer-requests/999/approve",
                      headers=auth(boss)).status_code == 404
    assert httpx.post(hub.url + "/admin/organizer-requests/abc/refuse",
                      headers=auth(boss)).status_code == 404

    assert httpx.get(hub.url + "/admin/organizer-requests",
                     headers=auth(boss)).json()["total"] == 0  # none pending
    decided = httpx.get(hub.url + "/admin/organizer-requests?status=approved",
                        headers=auth(boss)).json()
    assert [i["email"] for i in decided["items"]] == ["hopeful@example.test"]
    assert httpx.get(hub.url + "/admin/organizer-requests?status=bogus",
                     headers=auth(boss)).status_code == 422
