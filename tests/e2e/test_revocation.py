"""Revocation by login family (DESIGN invariant 9, issue 10 "Sessions and secrets"): logout
and refresh-token reuse refuse every access token of the login, and every live WebSocket
session of that login, on every hub process, closes with 4401 within a second. A ban closes
every session of the user.

Two real ``evently serve`` processes share the stores; the clients are real websockets."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import jwt
import pytest
import redis.asyncio as aioredis
import websockets

from storage.keys import deny_family
from tests.support.api import PASSWORD, auth, server_map
from tests.support.stores import timing
from tests.support.wsclient import LiveClient

pytestmark = pytest.mark.e2e

CLOSE_REVOKED = 4401


def call(hub: Any, method: str, path: str, token: str | None = None,
         **kw: Any) -> httpx.Response:
    return httpx.request(method, hub.url + path, headers=auth(token) if token else {}, **kw)


def code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


def login(hub: Any, user: dict[str, Any]) -> dict[str, Any]:
    r = call(hub, "POST", "/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert r.status_code == 200, r.text
    return dict(r.json())


def refresh(hub: Any, token: str) -> httpx.Response:
    return call(hub, "POST", "/auth/refresh", json={"refresh_token": token})


def family(token: str) -> str:
    """The ``fam`` claim of a token (read without verifying: the test only needs the id)."""
    return str(jwt.decode(token, options={"verify_signature": False})["fam"])


def assert_revoked(hub: Any, token: str) -> None:
    me = call(hub, "GET", "/auth/me", token)
    assert me.status_code == 401 and code(me) == "TOKEN_REVOKED", me.text


async def closed_code(client: LiveClient, within: float) -> int | None:
    """The close code the hub sent, waiting at most ``within`` seconds for it."""
    await asyncio.wait_for(client.ws.wait_closed(), within)
    return client.ws.close_code


# -- the family denylist (REST) -----------------------------------------------------------


def test_logout_refuses_an_older_access_token_of_the_same_login(
        hub: Any, make_user: Any, clean_stores: Any) -> None:
    u = make_user()
    older = u["token"]
    pair = refresh(hub, u["refresh_token"]).json()  # a newer access token, same family
    other = login(hub, u)  # another device: another family
    assert call(hub, "GET", "/auth/me", older).status_code == 200

    assert call(hub, "POST", "/auth/logout", pair["access_token"]).status_code == 204
    assert_revoked(hub, pair["access_token"])
    assert_revoked(hub, older)  # issued before the refresh, never presented to logout
    gone = refresh(hub, pair["refresh_token"])
    assert gone.status_code == 401 and code(gone) == "TOKEN_REVOKED"
    assert call(hub, "GET", "/auth/me", other["access_token"]).status_code == 200

    # The family entry lives for one access-token lifetime, no longer.
    async def ttl() -> int:
        r = aioredis.Redis.from_url(clean_stores.redis_url)
        try:
            return int(await r.ttl(deny_family(family(older))))
        finally:
            await r.aclose()
    left = asyncio.run(ttl())
    assert 0 < left <= pair["expires_in"] + 1, left


def test_refresh_reuse_refuses_the_attackers_fresh_access_token(hub: Any,
                                                               make_user: Any) -> None:
    victim = make_user()
    stolen = victim["refresh_token"]
    attacker = refresh(hub, stolen).json()  # the thief rotates first
    assert call(hub, "GET", "/auth/me", attacker["access_token"]).status_code == 200

    reused = refresh(hub, stolen)  # the victim's client presents the spent token
    assert reused.status_code == 401 and code(reused) == "TOKEN_REVOKED"
    assert_revoked(hub, attacker["access_token"])
    assert_revoked(hub, victim["token"])
    gone = refresh(hub, attacker["refresh_token"])
    assert gone.status_code == 401 and code(gone) == "TOKEN_REVOKED"
    # A fresh login is a new family and works.
    again = login(hub, victim)
    assert call(hub, "GET", "/auth/me", again["access_token"]).status_code == 200


# -- open WebSocket sessions on every process -----------------------------------------------


async def test_logout_on_one_hub_closes_the_family_sessions_on_another(
        hub: Any, second_hub: Any, make_user: Any, make_event: Any) -> None:
    admin, u = make_user("admin"), make_user()
    ev = make_event(admin["token"], capacity=5)
    newer = refresh(hub, u["refresh_token"]).json()["access_token"]
    other = login(hub, u)["access_token"]
    on_b = await LiveClient.connect(second_hub.ws_url, u["token"])  # the older token
    also_a = await LiveClient.connect(hub.ws_url, newer)
    other_device = await LiveClient.connect(second_hub.ws_url, other)
    try:
        assert (await on_b.subscribe(ev["id"]))["type"] == "ok"
        t0 = time.monotonic()
        assert call(hub, "POST", "/auth/logout", newer).status_code == 204
        assert await closed_code(on_b, timing(1)) == CLOSE_REVOKED
        assert await closed_code(also_a, timing(1)) == CLOSE_REVOKED
        assert time.monotonic() - t0 <= timing(1), "closed within 1 s of the logout"

        # The other login's session lives on and may still hold.
        held = await other_device.request("hold", event_id=ev["id"], qty=1)
        assert held["type"] == "ok", held
        # A new session cannot come back with a token of the revoked family.
        late = await LiveClient.connect(second_hub.ws_url)
        try:
            reply = await late.request("auth", token=u["token"])
            assert reply["type"] == "error" and reply["code"] == "TOKEN_REVOKED"
            refused = await late.request("hold", event_id=ev["id"], qty=1)
            assert refused["type"] == "error" and refused["code"] == "UNAUTHENTICATED"
        finally:
            await late.close()
    finally:
        for c in (on_b, also_a, other_device):
            await c.close()
    assert list(server_map(hub, ev["id"]).values()).count("held") == 1


async def test_a_hold_racing_the_logout_is_refused(hub: Any, second_hub: Any,
                                                   make_user: Any, make_event: Any) -> None:
    """The hold is sent to hub B right after hub A answered the logout, before B may have
    read the revocation's push: B reads the denylist before every state-changing op."""
    admin, u = make_user("admin"), make_user()
    ev = make_event(admin["token"], capacity=5)
    for _ in range(5):
        c = await LiveClient.connect(second_hub.ws_url, u["token"])
        try:
            async with httpx.AsyncClient() as http:
                r = await http.post(hub.url + "/auth/logout", headers=auth(u["token"]))
            assert r.status_code == 204
            try:
                reply = await c.request("hold", timeout=timing(2), event_id=ev["id"], qty=1)
                assert reply["type"] == "error" and reply["code"] == "TOKEN_REVOKED", reply
            except (TimeoutError, websockets.ConnectionClosed):
                pass  # closed before it answered: refused too
            assert await closed_code(c, timing(1)) == CLOSE_REVOKED
        finally:
            await c.close()
        u["token"] = login(hub, u)["access_token"]
    assert set(server_map(hub, ev["id"]).values()) == {"available"}


async def test_an_op_reads_the_denylist_even_when_the_push_is_lost(
        second_hub: Any, make_user: Any, make_event: Any, clean_stores: Any) -> None:
    """The family is denied in Redis but no push is published (as if it were lost): the
    next state-changing op is refused with TOKEN_REVOKED, and the session closes with 4401."""
    admin, u = make_user("admin"), make_user()
    ev = make_event(admin["token"], capacity=5)
    c = await LiveClient.connect(second_hub.ws_url, u["token"])
    try:
        assert (await c.request("ping"))["type"] == "pong"
        r = aioredis.Redis.from_url(clean_stores.redis_url)
        try:
            await r.set(deny_family(family(u["token"])), 1, ex=60)
        finally:
            await r.aclose()
        reply = await c.request("hold", event_id=ev["id"], qty=1)
        assert reply["type"] == "error" and reply["code"] == "TOKEN_REVOKED", reply
        assert await closed_code(c, timing(1)) == CLOSE_REVOKED
    finally:
        await c.close()
    assert set(server_map(second_hub, ev["id"]).values()) == {"available"}


async def test_a_push_missed_during_a_pubsub_outage_still_closes_the_session(
        second_hub: Any, make_user: Any, clean_stores: Any) -> None:
    """The family is denied while no push reaches hub B; B's pub/sub connection is then cut
    (only this test database's): on reconnecting, B checks its sessions' tokens again."""
    u = make_user()
    c = await LiveClient.connect(second_hub.ws_url, u["token"])
    r = aioredis.Redis.from_url(clean_stores.redis_url)
    try:
        await r.set(deny_family(family(u["token"])), 1, ex=60)
        db = r.connection_pool.connection_kwargs.get("db", 0)
        killed = 0
        for client in await r.client_list(_type="pubsub"):
            if int(client["db"]) == db:
                killed += await r.client_kill_filter(_id=client["id"])
        assert killed >= 1
        assert await closed_code(c, timing(5)) == CLOSE_REVOKED
    finally:
        await r.aclose()
        await c.close()


async def test_refresh_reuse_closes_the_attackers_session_on_another_hub(
        hub: Any, second_hub: Any, make_user: Any) -> None:
    victim = make_user()
    stolen = victim["refresh_token"]
    attacker = refresh(second_hub, stolen).json()
    thief = await LiveClient.connect(second_hub.ws_url, attacker["access_token"])
    own = await LiveClient.connect(hub.ws_url, login(hub, victim)["access_token"])
    try:
        t0 = time.monotonic()
        assert refresh(hub, stolen).status_code == 401
        assert await closed_code(thief, timing(1)) == CLOSE_REVOKED
        assert time.monotonic() - t0 <= timing(1)
        # The victim's other login is another family: untouched.
        assert (await own.request("ping"))["type"] == "pong"
    finally:
        await thief.close()
        await own.close()


async def test_a_ban_closes_every_session_of_the_user_on_every_hub(
        hub: Any, second_hub: Any, make_user: Any) -> None:
    admin, u = make_user("admin"), make_user()
    sessions = [await LiveClient.connect(second_hub.ws_url, u["token"]),
                await LiveClient.connect(hub.ws_url, login(hub, u)["access_token"]),
                await LiveClient.connect(second_hub.ws_url, login(hub, u)["access_token"])]
    bystander = await LiveClient.connect(second_hub.ws_url, make_user()["token"])
    try:
        t0 = time.monotonic()
        assert call(hub, "DELETE", f"/admin/users/{u['id']}", admin["token"]).status_code == 204
        for c in sessions:
            assert await closed_code(c, timing(1)) == CLOSE_REVOKED
        assert time.monotonic() - t0 <= timing(1)
        assert (await bystander.request("ping"))["type"] == "pong"
    finally:
        for c in [*sessions, bystander]:
            await c.close()
