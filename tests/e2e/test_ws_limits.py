"""``/ws`` resource limits (issue 10): the idle close, the socket caps per client address and
per user, the subscription cap and the ``subscribe`` rate, against a real ``evently serve``
with small limits and real WebSocket clients."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.support import stores as test_stores
from tests.support.servers import HubProcess, hub_env
from tests.support.stores import timing
from tests.support.wsclient import LiveClient

pytestmark = pytest.mark.e2e

IDLE, PER_ADDRESS, PER_USER, SUBS, SUBSCRIBE_RATE = 1.0, 8, 2, 3, 10


@pytest.fixture(scope="module")
def limits_hub(stores: test_stores.TestStores) -> Iterator[HubProcess]:
    hub = HubProcess(hub_env(
        stores, RATE_LIMIT_ENABLED="true", WS_IDLE_SECONDS=str(IDLE),
        WS_MAX_SOCKETS_PER_ADDRESS=str(PER_ADDRESS), WS_MAX_SOCKETS_PER_USER=str(PER_USER),
        WS_MAX_SUBSCRIPTIONS=str(SUBS),
        RATE_LIMIT_WS_SUBSCRIBE=f"{SUBSCRIBE_RATE}/second")).start()
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture
def lim(limits_hub: HubProcess, hub: HubProcess) -> HubProcess:
    """The limited hub on emptied stores (``hub`` cleans them; users are made through it)."""
    return limits_hub


async def closed_with(ws: websockets.ClientConnection, within: float) -> int | None:
    """The close code the server sent within ``within`` seconds; None if still open."""
    try:
        await asyncio.wait_for(ws.wait_closed(), within)
    except TimeoutError:
        return None
    return ws.close_code


async def answers_ping(ws: websockets.ClientConnection | LiveClient) -> bool:
    if isinstance(ws, LiveClient):
        try:
            return bool((await ws.request("ping", timeout=3))["type"] == "pong")
        except (ConnectionClosed, TimeoutError):
            return False
    try:
        await ws.send('{"op":"ping","ref":"p"}')
        async with asyncio.timeout(3):
            while True:
                msg = orjson.loads(await ws.recv())
                if isinstance(msg, dict) and msg.get("type") == "pong":
                    return True
    except (ConnectionClosed, TimeoutError):
        return False


async def test_a_silent_socket_is_closed_and_viewers_stay(
        lim: HubProcess, make_user: Any, make_event: Any) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], capacity=5)
    silent = await websockets.connect(lim.ws_url)
    started = time.monotonic()
    pinger = await websockets.connect(lim.ws_url)
    viewer = await LiveClient.connect(lim.ws_url)
    assert (await viewer.subscribe(ev["id"]))["type"] == "ok"
    member = await LiveClient.connect(lim.ws_url, org["token"])
    try:
        await asyncio.sleep(IDLE / 2)
        assert await answers_ping(pinger)  # a ping is not enough to stay
        assert await closed_with(silent, timing(IDLE + 3)) == 1008
        assert time.monotonic() - started < timing(IDLE + 3)  # the busy machine's slack
        assert (silent.close_reason or "").startswith("idle")
        assert await closed_with(pinger, timing(3)) == 1008
        await asyncio.sleep(IDLE + 0.5)
        # The anonymous viewer and the signed-in member stay, and still get answers.
        assert await answers_ping(viewer) and await answers_ping(member)
        # A viewer that stops watching everything is idle again.
        assert (await viewer.request("unsubscribe", event_id=ev["id"]))["type"] == "ok"
        assert await closed_with(viewer.ws, timing(IDLE + 3)) == 1008
    finally:
        for ws in (silent, pinger):
            await ws.close()
        await viewer.close()
        await member.close()


async def _upgrade(url: str) -> websockets.ClientConnection | int:
    try:
        return await websockets.connect(url, open_timeout=5)
    except InvalidStatus as exc:
        assert orjson.loads(exc.response.body or b"{}")["error"]["code"] == "RATE_LIMITED"
        assert int(exc.response.headers["Retry-After"]) >= 1
        return int(exc.response.status_code)


async def test_sockets_per_client_address_are_capped(lim: HubProcess) -> None:
    opened: list[websockets.ClientConnection] = []
    try:
        for _ in range(PER_ADDRESS):
            ws = await _upgrade(lim.ws_url)
            assert not isinstance(ws, int), ws
            opened.append(ws)
        assert await _upgrade(lim.ws_url) == 429  # refused before the handshake
        await opened.pop().close()
        deadline = time.monotonic() + 3  # the server gives the slot back once it sees the close
        while isinstance(again := await _upgrade(lim.ws_url), int):
            assert time.monotonic() < deadline, "the closed socket's slot never came back"
            await asyncio.sleep(0.05)
        opened.append(again)
        assert await answers_ping(again)
    finally:
        for ws in opened:
            await ws.close()


def test_the_address_is_the_one_a_trusted_proxy_reports(
        stores: test_stores.TestStores, clean_stores: test_stores.TestStores) -> None:
    proxied = HubProcess(hub_env(stores, RATE_LIMIT_ENABLED="true", WS_MAX_SOCKETS_PER_ADDRESS="1",
                                 FORWARDED_ALLOW_IPS="127.0.0.1")).start()

    async def run() -> None:
        def via(address: str) -> Any:
            return websockets.connect(proxied.ws_url, open_timeout=5,
                                      additional_headers={"X-Forwarded-For": address})
        first = await via("203.0.113.1")
        try:
            with pytest.raises(InvalidStatus) as refused:
                await via("203.0.113.1")
            assert refused.value.response.status_code == 429
            second = await via("203.0.113.2")  # another client behind the proxy
            assert await answers_ping(second) and await answers_ping(first)
            await second.close()
        finally:
            await first.close()

    try:
        test_stores.run_sync(run())
    finally:
        proxied.stop()


async def test_sockets_per_user_are_capped(lim: HubProcess, make_user: Any) -> None:
    user = make_user()
    first = [await LiveClient.connect(lim.ws_url, user["token"]) for _ in range(PER_USER)]
    extra = await LiveClient.connect(lim.ws_url)
    bearer = None
    try:
        reply = await extra.request("auth", token=user["token"])
        assert reply["type"] == "error" and reply["code"] == "RATE_LIMITED", reply
        assert await closed_with(extra.ws, timing(5)) == 1008
        # The same cap for a token sent on the upgrade request.
        bearer = await websockets.connect(
            lim.ws_url, additional_headers={"Authorization": f"Bearer {user['token']}"})
        msg = orjson.loads(await asyncio.wait_for(bearer.recv(), 3))
        assert msg["type"] == "error" and msg["code"] == "RATE_LIMITED", msg
        assert await closed_with(bearer, timing(5)) == 1008
        # Re-authenticating an open session does not count twice; a freed slot is reusable.
        assert (await first[0].request("auth", token=user["token"]))["type"] == "ok"
        await first.pop().close()
        deadline = time.monotonic() + 3
        while True:
            again = await LiveClient.connect(lim.ws_url)
            reply = await again.request("auth", token=user["token"])
            if reply["type"] == "ok":
                first.append(again)
                break
            await again.close()
            assert time.monotonic() < deadline, reply
            await asyncio.sleep(0.05)
        other = make_user()
        other_client = await LiveClient.connect(lim.ws_url, other["token"])  # another user
        await other_client.close()
    finally:
        for c in [*first, extra]:
            await c.close()
        if bearer is not None:
            await bearer.close()


async def test_subscriptions_per_session_are_capped(
        lim: HubProcess, make_user: Any, make_event: Any) -> None:
    org = make_user("organizer")
    events = [make_event(org["token"], capacity=3)["id"] for _ in range(SUBS + 1)]
    c = await LiveClient.connect(lim.ws_url)
    try:
        for ev in events[:SUBS]:
            assert (await c.subscribe(ev))["type"] == "ok"
        reply = await c.subscribe(events[SUBS])
        assert reply["type"] == "error" and reply["code"] == "VALIDATION_ERROR", reply
        assert reply["details"]["limit"] == SUBS
        assert reply["details"]["fields"][0]["field"] == "event_id"
        metrics = httpx.get(lim.url + "/metrics", timeout=10).text
        assert _counter(metrics, "subscriptions") >= 1
        assert (await c.subscribe(events[0]))["type"] == "ok"  # one already watched: fine
        assert (await c.request("unsubscribe", event_id=events[1]))["type"] == "ok"
        assert (await c.subscribe(events[SUBS]))["type"] == "ok"
        assert set(c.seats) == set(events)  # every accepted subscribe got its snapshot
    finally:
        await c.close()


def _counter(metrics: str, limit: str) -> float:
    found = re.search(rf'^evently_ws_limited_total{{limit="{limit}"}} (\S+)$', metrics, re.M)
    return float(found.group(1)) if found else 0.0


async def test_two_hundred_resubscribes_do_not_read_two_hundred_snapshots(
        lim: HubProcess, make_user: Any, make_event: Any) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], capacity=50)["id"]
    c = await LiveClient.connect(lim.ws_url)
    try:
        started = time.monotonic()
        replies = await asyncio.gather(*(c.subscribe(ev) for _ in range(200)))
        elapsed = time.monotonic() - started
        ok = [r for r in replies if r["type"] == "ok"]
        limited = [r for r in replies if r.get("code") == "RATE_LIMITED"]
        assert len(ok) + len(limited) == 200, [r for r in replies if r not in ok + limited][:3]
        # At most the rate per started second went through (the window may roll over once).
        assert 1 <= len(ok) <= SUBSCRIBE_RATE * (int(elapsed) + 2), (len(ok), elapsed)
        assert all(r["details"]["retry_after"] >= 1 for r in limited)
        await asyncio.sleep(0.3)
        assert c.snapshots == len(ok)  # a refused subscribe reads no snapshot
        # The session still watches the event, and another session has its own budget.
        other = await LiveClient.connect(lim.ws_url)
        try:
            assert (await other.subscribe(ev))["type"] == "ok"
        finally:
            await other.close()
        await asyncio.sleep(1.1)
        assert (await c.subscribe(ev))["type"] == "ok"  # the window moved on
        metrics = httpx.get(lim.url + "/metrics", timeout=10).text
        assert _counter(metrics, "subscribe_rate") >= len(limited)
    finally:
        await c.close()
