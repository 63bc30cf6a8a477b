"""Accounts over REST: refresh rotation with reuse detection, logout, admin user management
and bans (CONTRACT §2 ``/auth/*``, ``/admin/users``), against a real ``evently serve``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.api import PASSWORD, auth

pytestmark = pytest.mark.e2e


def call(hub: Any, method: str, path: str, token: str | None = None,
         **kw: Any) -> httpx.Response:
    return httpx.request(method, hub.url + path, headers=auth(token) if token else {}, **kw)


def code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


def refresh(hub: Any, token: str) -> httpx.Response:
    return call(hub, "POST", "/auth/refresh", json={"refresh_token": token})


def test_refresh_rotates_and_reuse_revokes_the_family(hub: Any, make_user: Any) -> None:
    u = make_user()
    first = refresh(hub, u["refresh_token"])
    assert first.status_code == 200, first.text
    pair = first.json()
    assert pair["token_type"] == "bearer" and pair["expires_in"] > 0
    assert pair["refresh_token"] != u["refresh_token"]
    assert call(hub, "GET", "/auth/me", pair["access_token"]).status_code == 200

    second = refresh(hub, pair["refresh_token"])
    assert second.status_code == 200
    # The first token again: reuse. It is refused, and so is every token of its family,
    # including the newest one that was never used.
    reused = refresh(hub, u["refresh_token"])
    assert reused.status_code == 401 and code(reused) == "TOKEN_REVOKED"
    newest = refresh(hub, second.json()["refresh_token"])
    assert newest.status_code == 401 and code(newest) == "TOKEN_REVOKED"

    # Another login starts a new family that works.
    login = call(hub, "POST", "/auth/login", json={"email": u["email"], "password": PASSWORD})
    assert refresh(hub, login.json()["refresh_token"]).status_code == 200


@pytest.mark.parametrize(("body", "status", "err"), [
    ({"refresh_token": "not-a-jwt"}, 401, "UNAUTHENTICATED"),
    ({}, 422, "VALIDATION_ERROR"),
    ({"refresh_token": 5}, 400, "BAD_REQUEST"),
    ({"refresh_token": "x", "extra": 1}, 400, "BAD_REQUEST"),
])
def test_refresh_rejects_bad_input(hub: Any, body: dict[str, Any], status: int,
                                   err: str) -> None:
    r = call(hub, "POST", "/auth/refresh", json=body)
    assert r.status_code == status and code(r) == err


def test_an_access_token_is_not_a_refresh_token(hub: Any, make_user: Any) -> None:
    u = make_user()
    r = refresh(hub, u["token"])
    assert r.status_code == 401 and code(r) == "UNAUTHENTICATED"
    r = call(hub, "GET", "/auth/me", u["refresh_token"])
    assert r.status_code == 401


def test_logout_revokes_the_access_token_and_its_refresh_family(hub: Any,
                                                                make_user: Any) -> None:
    u = make_user()
    other = call(hub, "POST", "/auth/login",
                 json={"email": u["email"], "password": PASSWORD}).json()
    assert call(hub, "POST", "/auth/logout").status_code == 401
    r = call(hub, "POST", "/auth/logout", u["token"])
    assert r.status_code == 204 and r.content == b""
    me = call(hub, "GET", "/auth/me", u["token"])
    assert me.status_code == 401 and code(me) == "TOKEN_REVOKED"
    gone = refresh(hub, u["refresh_token"])
    assert gone.status_code == 401 and code(gone) == "TOKEN_REVOKED"
    # Another device's session (another family) is untouched.
    assert call(hub, "GET", "/auth/me", other["access_token"]).status_code == 200
    assert refresh(hub, other["refresh_token"]).status_code == 200


def test_admin_lists_and_creates_users(hub: Any, make_user: Any) -> None:
    admin = make_user("admin")
    users = [make_user() for _ in range(3)]
    r = call(hub, "GET", "/admin/users?page=1&page_size=2", admin["token"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 4 and body["page"] == 1 and body["page_size"] == 2
    assert [u["id"] for u in body["items"]] == [admin["id"], users[0]["id"]]
    assert "password" not in r.text and body["items"][0]["banned"] is False
    page2 = call(hub, "GET", "/admin/users?page=2&page_size=2", admin["token"]).json()
    assert [u["id"] for u in page2["items"]] == [users[1]["id"], users[2]["id"]]
    only = call(hub, "GET", "/admin/users?role=admin", admin["token"]).json()
    assert [u["id"] for u in only["items"]] == [admin["id"]]
    found = call(hub, "GET", f"/admin/users?q={users[2]['email'][:-5].upper()}",
                 admin["token"]).json()
    assert [u["id"] for u in found["items"]] == [users[2]["id"]]

    made = call(hub, "POST", "/admin/users", admin["token"],
                json={"name": "Olga", "email": "olga@example.test", "password": "pass-word-1",
                      "role": "organizer"})
    assert made.status_code == 201, made.text
    assert made.json()["role"] == "organizer"
    login = call(hub, "POST", "/auth/login",
                 json={"email": "olga@example.test", "password": "pass-word-1"})
    assert login.status_code == 200
    dup = call(hub, "POST", "/admin/users", admin["token"],
               json={"name": "O", "email": "OLGA@example.test", "password": "pass-word-1"})
    assert dup.status_code == 409 and code(dup) == "ALREADY_EXISTS"
    weak = call(hub, "POST", "/admin/users", admin["token"],
                json={"name": "O", "email": "o2@example.test", "password": "short"})
    assert weak.status_code == 422 and code(weak) == "VALIDATION_ERROR"
    role = call(hub, "POST", "/admin/users", admin["token"],
                json={"name": "O", "email": "o3@example.test", "password": "pass-word-1",
                      "role": "root"})
    assert role.status_code == 422


@pytest.mark.parametrize("query", ["page=0", "page_size=101", "page=x", "role=root"])
def test_user_listing_rejects_bad_queries(hub: Any, make_user: Any, query: str) -> None:
    admin = make_user("admin")
    r = call(hub, "GET", f"/admin/users?{query}", admin["token"])
    assert r.status_code == 422 and code(r) == "VALIDATION_ERROR"
    assert r.json()["error"]["details"]["fields"]


def test_user_management_is_for_admins_only(hub: Any, make_user: Any) -> None:
    user, org = make_user(), make_user("organizer")
    for token in (user["token"], org["token"]):
        assert call(hub, "GET", "/admin/users", token).status_code == 403
        r = call(hub, "PATCH", f"/admin/users/{user['id']}/role", token, json={"role": "admin"})
        assert r.status_code == 403 and code(r) == "FORBIDDEN"
        assert call(hub, "DELETE", f"/admin/users/{user['id']}", token).status_code == 403
        assert call(hub, "POST", "/admin/users", token, json={
            "name": "x", "email": "x@example.test", "password": "pass-word-1"}).status_code == 403
    assert call(hub, "GET", "/admin/users").status_code == 401
    assert call(hub, "DELETE", f"/admin/users/{user['id']}").status_code == 401


def test_role_change_applies_at_once(hub: Any, make_user: Any) -> None:
    admin, u = make_user("admin"), make_user()
    r = call(hub, "PATCH", f"/admin/users/{u['id']}/role", admin["token"],
             json={"role": "organizer"})
    assert r.status_code == 200 and r.json()["role"] == "organizer"
    # The old token carried the old role: it is refused; a refresh gives the new role.
    stale = call(hub, "GET", "/auth/me", u["token"])
    assert stale.status_code == 401 and code(stale) == "TOKEN_REVOKED"
    pair = refresh(hub, u["refresh_token"]).json()
    assert call(hub, "GET", "/auth/me", pair["access_token"]).json()["role"] == "organizer"
    for bad, status in (({"role": "root"}, 422), ({"role": "admin", "x": 1}, 400), ({}, 422)):
        assert call(hub, "PATCH", f"/admin/users/{u['id']}/role", admin["token"],
                    json=bad).status_code == status
    assert call(hub, "PATCH", "/admin/users/999999/role", admin["token"],
                json={"role": "user"}).status_code == 404
    assert call(hub, "PATCH", "/admin/users/abc/role", admin["token"],
                json={"role": "user"}).status_code == 404
    own = call(hub, "PATCH", f"/admin/users/{admin['id']}/role", admin["token"],
               json={"role": "user"})
    assert own.status_code == 403


def test_ban_refuses_login_and_revokes_tokens(hub: Any, make_user: Any) -> None:
    admin, u = make_user("admin"), make_user()
    r = call(hub, "DELETE", f"/admin/users/{u['id']}", admin["token"])
    assert r.status_code == 204
    me = call(hub, "GET", "/auth/me", u["token"])
    assert me.status_code == 401 and code(me) == "TOKEN_REVOKED"
    gone = refresh(hub, u["refresh_token"])
    assert gone.status_code == 401 and code(gone) == "TOKEN_REVOKED"
    login = call(hub, "POST", "/auth/login", json={"email": u["email"], "password": PASSWORD})
    assert login.status_code == 403 and code(login) == "FORBIDDEN"
    listed = call(hub, "GET", "/admin/users", admin["token"]).json()["items"]
    assert {x["id"]: x["banned"] for x in listed}[u["id"]] is True
    # Idempotent; unknown ids and oneself are refused.
    assert call(hub, "DELETE", f"/admin/users/{u['id']}", admin["token"]).status_code == 204
    assert call(hub, "DELETE", "/admin/users/424242", admin["token"]).status_code == 404
    assert call(hub, "DELETE", f"/admin/users/{admin['id']}", admin["token"]).status_code == 403
