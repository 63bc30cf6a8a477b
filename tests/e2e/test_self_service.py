"""Account self-service against a real ``evently serve`` with a real SMTP server (aiosmtpd):
rename, password change (every other login revoked as log-out revokes one, its WebSocket
sessions closed with 4401, the caller's login untouched),
password reset by e-mail (same answer for unknown addresses, single use, 15 minutes, rate
limited), and ``last_login_at`` (CONTRACT §2 ``/auth/*``)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
import websockets

from tests.support.api import PASSWORD, auth
from tests.support.mailbox import Mailbox, mailbox
from tests.support.servers import HubProcess, hub_env
from tests.support.stores import TestStores, pg_url, run_sync, set_role, timing

pytestmark = pytest.mark.e2e
NEW_PASSWORD = "battery-staple-42"


@pytest.fixture(scope="module")
def box() -> Iterator[Mailbox]:
    with mailbox() as b:
        yield b


@pytest.fixture(scope="module")
def self_hub(stores: TestStores, box: Mailbox) -> Iterator[HubProcess]:
    """A hub that sends e-mail and limits reset requests to 3 a minute per address."""
    hub = HubProcess(hub_env(stores, SMTP_HOST="127.0.0.1", SMTP_PORT=str(box.port),
                             RATE_LIMIT_ENABLED="true", RATE_LIMIT_PASSWORD_RESET="3/minute",
                             RATE_LIMIT_LOGIN="1000/minute", RATE_LIMIT_SIGNUP="1000/minute",
                             RATE_LIMIT_LOGIN_IP="1000/minute",
                             RATE_LIMIT_SIGNUP_IP="1000/minute")).start()
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture
def hub(self_hub: HubProcess, clean_stores: TestStores, box: Mailbox) -> HubProcess:
    box.received.clear()
    return self_hub


def signup(hub: HubProcess, email: str, **extra: Any) -> httpx.Response:
    return httpx.post(hub.url + "/auth/signup", json={"name": "Pat", "email": email,
                                                      "password": PASSWORD, **extra})


def login(hub: HubProcess, email: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(hub.url + "/auth/login", json={"email": email, "password": password})


def code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


def test_rename(hub: HubProcess) -> None:
    assert signup(hub, "pat@example.test").status_code == 201
    token = login(hub, "pat@example.test").json()["access_token"]
    r = httpx.patch(hub.url + "/auth/me", json={"name": "  Pat Doe "}, headers=auth(token))
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Pat Doe" and r.json()["email"] == "pat@example.test"
    assert httpx.get(hub.url + "/auth/me", headers=auth(token)).json()["name"] == "Pat Doe"
    for body, status in (({"name": "   "}, 422), ({"name": 5}, 400), ({}, 422),
                         ({"name": "x", "role": "admin"}, 400)):
        r = httpx.patch(hub.url + "/auth/me", json=body, headers=auth(token))
        assert r.status_code == status, (body, r.text)
    assert httpx.patch(hub.url + "/auth/me", json={"name": "x"}).status_code == 401


async def _ws_session(hub: HubProcess, token: str) -> websockets.ClientConnection:
    ws = await websockets.connect(hub.ws_url)
    await ws.send(orjson.dumps({"op": "auth", "token": token, "ref": 1}).decode())
    assert orjson.loads(await ws.recv())["type"] == "ok"
    return ws


async def test_password_change_revokes_every_other_session(hub: HubProcess) -> None:
    email = "change@example.test"
    assert signup(hub, email).status_code == 201
    mine, other = login(hub, email).json(), login(hub, email).json()
    ws = await _ws_session(hub, other["access_token"])
    own_ws = await _ws_session(hub, mine["access_token"])
    try:
        wrong = httpx.post(hub.url + "/auth/password", headers=auth(mine["access_token"]),
                           json={"old_password": "not-it-at-all", "new_password": NEW_PASSWORD})
        assert wrong.status_code == 401 and code(wrong) == "INVALID_CREDENTIALS"
        short = httpx.post(hub.url + "/auth/password", headers=auth(mine["access_token"]),
                           json={"old_password": PASSWORD, "new_password": "short"})
        assert short.status_code == 422
        r = httpx.post(hub.url + "/auth/password", headers=auth(mine["access_token"]),
                       json={"old_password": PASSWORD, "new_password": NEW_PASSWORD})
        assert r.status_code == 204, r.text
        # The other login's session is closed at once, and its tokens are refused.
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), timing(3))
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        # This login's session goes on: it still answers, and was not closed meanwhile.
        await own_ws.send(orjson.dumps({"op": "ping", "ref": 2}).decode())
        assert orjson.loads(await asyncio.wait_for(own_ws.recv(), timing(3)))["type"] == "pong"
    finally:
        await ws.close()
        await own_ws.close()
    me = httpx.get(hub.url + "/auth/me", headers=auth(other["access_token"]))
    assert me.status_code == 401 and code(me) == "TOKEN_REVOKED"
    refused = httpx.post(hub.url + "/auth/refresh",
                         json={"refresh_token": other["refresh_token"]})
    assert refused.status_code == 401 and code(refused) == "TOKEN_REVOKED"
    # This login keeps its access token and refreshes into a fresh pair; the passwords
    # swapped.
    assert httpx.get(hub.url + "/auth/me",
                     headers=auth(mine["access_token"])).status_code == 200
    fresh = httpx.post(hub.url + "/auth/refresh", json={"refresh_token": mine["refresh_token"]})
    assert fresh.status_code == 200, fresh.text
    assert httpx.get(hub.url + "/auth/me",
                     headers=auth(fresh.json()["access_token"])).status_code == 200
    assert login(hub, email).status_code == 401
    assert login(hub, email, NEW_PASSWORD).status_code == 200


def _token_of(message: Any) -> str:
    body = message.get_body(("plain",)).get_content()
    found = re.search(r"reset code: (\S+)", body)
    assert found, body
    return found.group(1)


def test_password_reset_by_email(hub: HubProcess, box: Mailbox) -> None:
    email = "Reset.Me@example.test"
    assert signup(hub, email).status_code == 201
    old = login(hub, email).json()
    known = httpx.post(hub.url + "/auth/password-reset", json={"email": "reset.me@EXAMPLE.test"})
    unknown = httpx.post(hub.url + "/auth/password-reset", json={"email": "nobody@example.test"})
    # The same answer either way: status, body, headers that could tell them apart.
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content == b""
    (message,) = box.wait_for(email)
    assert message["Subject"] == "Reset your Evently password"
    token = _token_of(message)
    assert box.to("nobody@example.test") == []

    bad = httpx.post(hub.url + "/auth/password-reset/confirm",
                     json={"token": "not-a-token", "new_password": NEW_PASSWORD})
    assert bad.status_code == 422 and code(bad) == "VALIDATION_ERROR"
    r = httpx.post(hub.url + "/auth/password-reset/confirm",
                   json={"token": token, "new_password": NEW_PASSWORD})
    assert r.status_code == 204, r.text
    assert login(hub, email).status_code == 401
    assert login(hub, email, NEW_PASSWORD).status_code == 200
    # Every earlier session is revoked; the token works once.
    assert httpx.get(hub.url + "/auth/me",
                     headers=auth(old["access_token"])).status_code == 401
    assert httpx.post(hub.url + "/auth/refresh",
                      json={"refresh_token": old["refresh_token"]}).status_code == 401
    again = httpx.post(hub.url + "/auth/password-reset/confirm",
                       json={"token": token, "new_password": "third-password-1"})
    assert again.status_code == 422


def test_a_reset_token_expires_after_15_minutes(hub: HubProcess, box: Mailbox,
                                                stores: TestStores) -> None:
    email = "late@example.test"
    assert signup(hub, email).status_code == 201
    assert httpx.post(hub.url + "/auth/password-reset", json={"email": email}).status_code == 202
    token = _token_of(box.wait_for(email)[0])

    async def window() -> tuple[float, None]:
        conn = await asyncpg.connect(pg_url(stores))
        try:
            minutes = await conn.fetchval(
                "SELECT extract(epoch FROM expires_at - created_at) / 60 FROM password_resets")
            # Age the token past its window, as 15 minutes of waiting would.
            await conn.execute("UPDATE password_resets SET expires_at = now() - interval '1 s',"
                               " created_at = now() - interval '901 s'")
            return float(minutes), None
        finally:
            await conn.close()

    minutes, _ = run_sync(window())
    assert minutes == 15
    r = httpx.post(hub.url + "/auth/password-reset/confirm",
                   json={"token": token, "new_password": NEW_PASSWORD})
    assert r.status_code == 422
    assert login(hub, email).status_code == 200


def test_reset_requests_are_rate_limited_per_address(hub: HubProcess) -> None:
    for _ in range(3):
        r = httpx.post(hub.url + "/auth/password-reset", json={"email": "x@example.test"})
        assert r.status_code == 202
    r = httpx.post(hub.url + "/auth/password-reset", json={"email": "x@example.test"})
    assert r.status_code == 429 and code(r) == "RATE_LIMITED"
    assert int(r.headers["Retry-After"]) >= 1
    # Another address has its own budget.
    assert httpx.post(hub.url + "/auth/password-reset",
                      json={"email": "y@example.test"}).status_code == 202


def test_last_login_is_recorded(hub: HubProcess, stores: TestStores) -> None:
    assert signup(hub, "admin@example.test").status_code == 201
    assert signup(hub, "seen@example.test").status_code == 201
    users = {u["email"]: u for u in httpx.get(hub.url + "/admin/users", headers=auth(
        _admin_token(hub, stores))).json()["items"]}
    assert users["seen@example.test"]["last_login_at"] is None
    assert login(hub, "seen@example.test").status_code == 200
    users = {u["email"]: u for u in httpx.get(hub.url + "/admin/users", headers=auth(
        _admin_token(hub, stores))).json()["items"]}
    assert users["seen@example.test"]["last_login_at"] is not None
    assert users["admin@example.test"]["last_login_at"] is not None


def _admin_token(hub: HubProcess, stores: TestStores) -> str:
    me = login(hub, "admin@example.test").json()["access_token"]
    user_id = httpx.get(hub.url + "/auth/me", headers=auth(me)).json()["id"]
    run_sync(set_role(stores, user_id, "admin"))
    return str(login(hub, "admin@example.test").json()["access_token"])


def test_guessing_the_old_password_is_rate_limited(hub: HubProcess) -> None:
    assert signup(hub, "guess@example.test").status_code == 201
    token = login(hub, "guess@example.test").json()["access_token"]
    statuses = [httpx.post(hub.url + "/auth/password", headers=auth(token), json={
        "old_password": f"guess-{n}", "new_password": NEW_PASSWORD}).status_code
        for n in range(11)]
    assert statuses == [401] * 10 + [429]  # RATE_LIMIT_PASSWORD: 10/minute per user
