"""Abuse tests for seat hoarding and waitlist abuse (issue 10), on real hub processes, over
REST and WebSocket: offers count toward the held-seat cap, one waiter cannot freeze an event,
joins only when the seats cannot be held, release + re-hold keeps the lifetime cap, and the
rate limits of waitlist join/leave, extend, release and cancel span both transports."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.support.api import auth
from tests.support.servers import HubProcess, hub_env
from tests.support.stores import TestStores, timing
from tests.support.wsclient import LiveClient

pytestmark = pytest.mark.e2e

LIFETIME = 4  # HOLD_MAX_LIFETIME_SECONDS of the hub under test


@pytest.fixture(scope="module")
def strict(stores: TestStores, hub_server: HubProcess) -> Iterator[HubProcess]:
    """A hub (same stores and secret as ``hub``) with a short hold lifetime and the new
    per-user rate limits on, with small windows."""
    env = hub_env(stores, HOLD_MAX_LIFETIME_SECONDS=str(LIFETIME), RATE_LIMIT_ENABLED="true",
                  RATE_LIMIT_WAITLIST="6/minute", RATE_LIMIT_HOLD_CHANGES="3/minute",
                  RATE_LIMIT_CANCELS="2/minute")
    hub = HubProcess(env).start()
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture
def h(strict: HubProcess, hub: HubProcess) -> HubProcess:
    """The strict hub, on stores emptied for this test (which also empties rate windows)."""
    return strict


def post(h: HubProcess, path: str, token: str, **body: Any) -> httpx.Response:
    return httpx.post(h.url + path, json=body, headers=auth(token))


def code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


def status_of(h: HubProcess, token: str) -> list[tuple[str, int | None]]:
    me = httpx.get(h.url + "/waitlists/me", headers=auth(token)).json()
    return [(e["status"], e["position"]) for e in me]


def seat_ids(h: HubProcess, event_id: int, status: str) -> list[int]:
    seats = httpx.get(h.url + f"/events/{event_id}/seats").json()["seats"]
    return sorted(s["id"] for s in seats if s["status"] == status)


async def test_the_waitlist_cannot_bypass_the_held_seat_cap(
        h: HubProcess, make_user: Any, make_event: Any) -> None:
    org, hoarder, buyer, other = (make_user("organizer"), make_user(), make_user(),
                                  make_user())
    ev = make_event(org["token"], capacity=12)
    eid = ev["id"]
    first = post(h, f"/events/{eid}/holds", hoarder["token"], qty=10)
    assert first.status_code == 201, first.text
    assert code(post(h, f"/events/{eid}/waitlist", hoarder["token"], qty=50)) == \
        "VALIDATION_ERROR"
    assert post(h, f"/events/{eid}/waitlist", hoarder["token"], qty=11).status_code == 422
    seats_left = post(h, f"/events/{eid}/waitlist", hoarder["token"], qty=2)
    assert seats_left.status_code == 409 and code(seats_left) == "SEATS_AVAILABLE"
    bought = post(h, f"/events/{eid}/book", buyer["token"], qty=2)
    assert bought.status_code == 201, bought.text  # now sold out: 10 held, 2 sold

    joined = post(h, f"/events/{eid}/waitlist", hoarder["token"], qty=2)
    assert joined.status_code == 201, joined.text
    ws = await LiveClient.connect(h.ws_url, hoarder["token"])
    try:
        again = await ws.request("waitlist.join", event_id=eid, qty=1)
        assert again["type"] == "error" and again["code"] == "ALREADY_EXISTS"
        over = await ws.request("waitlist.join", event_id=eid, qty=50)
        assert over["type"] == "error" and over["code"] == "VALIDATION_ERROR"
    finally:
        await ws.close()
    assert post(h, f"/events/{eid}/waitlist", other["token"], qty=1).status_code == 201

    cancelled = httpx.delete(h.url + f"/bookings/{bought.json()['id']}",
                             headers=auth(buyer["token"]))
    assert cancelled.status_code == 200
    # the hoarder, first in line, is at the cap: skipped (keeps the place); the next is served
    assert status_of(h, hoarder["token"]) == [("WAITING", 1)]
    assert status_of(h, other["token"]) == [("OFFERED", None)]
    assert httpx.get(h.url + f"/events/{eid}").json()["held_count"] == 12  # 10 + 1 + 1 pooled

    released = httpx.delete(h.url + f"/holds/{first.json()['hold_id']}",
                            headers=auth(hoarder["token"]))
    assert released.status_code == 204, released.text
    [entry] = httpx.get(h.url + "/waitlists/me", headers=auth(hoarder["token"])).json()
    assert entry["status"] == "OFFERED"
    offer = httpx.get(h.url + f"/holds/{entry['offer']['hold_id']}",
                      headers=auth(hoarder["token"]))
    assert len(offer.json()["seat_ids"]) == 2
    assert code(post(h, f"/events/{eid}/holds", hoarder["token"], qty=9)) == "HOLD_LIMIT", \
        "the offer counts toward the cap: 2 offered + 9 is over 10"
    assert post(h, f"/events/{eid}/holds", hoarder["token"], qty=8).status_code == 201


async def test_one_waiter_cannot_freeze_an_event(
        h: HubProcess, make_user: Any, make_event: Any, stores: TestStores) -> None:
    org, owner, big, small = make_user("organizer"), make_user(), make_user(), make_user()
    reserve = 2
    ev = make_event(org["token"], capacity=5, waitlist_offer_seconds=reserve)
    eid = ev["id"]
    one = post(h, f"/events/{eid}/book", owner["token"], qty=1)
    four = post(h, f"/events/{eid}/book", owner["token"], qty=4)
    assert one.status_code == four.status_code == 201
    assert code(post(h, f"/events/{eid}/waitlist", big["token"], qty=50)) == "VALIDATION_ERROR"
    too_many = post(h, f"/events/{eid}/waitlist", big["token"], qty=6)  # under the cap of 10
    assert too_many.status_code == 422, "more seats than the event has"
    ws = await LiveClient.connect(h.ws_url, big["token"])
    try:
        refused = await ws.request("waitlist.join", event_id=eid, qty=50)
        assert refused["type"] == "error" and refused["code"] == "VALIDATION_ERROR"
        joined = await ws.request("waitlist.join", event_id=eid, qty=4)
        assert joined["type"] == "ok" and joined["position"] == 1
    finally:
        await ws.close()
    small_entry = post(h, f"/events/{eid}/waitlist", small["token"], qty=1)
    assert small_entry.status_code == 201 and small_entry.json()["position"] == 2

    assert httpx.delete(h.url + f"/bookings/{one.json()['id']}",
                        headers=auth(owner["token"])).status_code == 200
    assert status_of(h, big["token"]) == [("WAITING", 1)], "skipped, keeps its place"
    assert status_of(h, small["token"]) == [("OFFERED", None)], "not blocked by the head"

    # the small waiter declines: the seat is reserved for the waitlist (big still waits)...
    left = httpx.delete(h.url + f"/waitlists/{small_entry.json()['id']}",
                        headers=auth(small["token"]))
    assert left.status_code == 204
    [seat] = seat_ids(h, eid, "held")
    blocked = post(h, f"/events/{eid}/holds", org["token"], seat_ids=[seat])
    assert blocked.status_code == 409 and code(blocked) == "SEAT_UNAVAILABLE"
    verify = subprocess.run(
        ["uv", "run", "evently", "verify", "--event", str(eid)], capture_output=True,
        env={**os.environ, "DATABASE_URL": stores.database_url, "REDIS_URL": stores.redis_url},
        check=False)
    assert verify.returncode == 0, verify.stdout.decode() + verify.stderr.decode()
    # ...but for at most waitlist_offer_seconds: then the admin can hold it
    deadline = time.monotonic() + reserve + timing(3)
    while True:
        r = post(h, f"/events/{eid}/holds", org["token"], seat_ids=[seat])
        if r.status_code == 201:
            break
        assert time.monotonic() < deadline, f"the reserved seat never returned: {r.text}"
        await asyncio.sleep(0.1)
    assert status_of(h, big["token"]) == [("WAITING", 1)]


async def test_join_only_when_the_seats_cannot_be_held_now(
        h: HubProcess, make_user: Any, make_event: Any) -> None:
    org, user = make_user("organizer"), make_user()
    ev = make_event(org["token"], capacity=3)
    eid = ev["id"]
    r = post(h, f"/events/{eid}/waitlist", user["token"], qty=3)
    assert r.status_code == 409 and code(r) == "SEATS_AVAILABLE"
    ws = await LiveClient.connect(h.ws_url, user["token"])
    try:
        reply = await ws.request("waitlist.join", event_id=eid, qty=2)
        assert reply["type"] == "error" and reply["code"] == "SEATS_AVAILABLE"
    finally:
        await ws.close()
    assert post(h, f"/events/{eid}/holds", org["token"], qty=2).status_code == 201
    assert post(h, f"/events/{eid}/waitlist", user["token"], qty=2).status_code == 201
    assert httpx.get(h.url + "/waitlists/me", headers=auth(user["token"])).json()[0][
        "status"] == "WAITING"


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_release_and_rehold_does_not_reset_the_lifetime_cap(
        h: HubProcess, make_user: Any, make_event: Any) -> None:
    org, user, rival = make_user("organizer"), make_user(), make_user()
    ev = make_event(org["token"], capacity=4)
    eid = ev["id"]
    first = post(h, f"/events/{eid}/holds", user["token"], qty=2).json()
    ids = first["seat_ids"]
    life = (_dt(first["expires_at"]) - _dt(first["created_at"])).total_seconds()
    assert life == pytest.approx(LIFETIME, abs=0.01)
    ws = await LiveClient.connect(h.ws_url, user["token"])
    try:
        # release and re-hold, over both transports (2 of the 3 hold changes a minute)
        assert (await ws.request("release", hold_id=first["hold_id"]))["type"] == "ok"
        again = await ws.request("hold", event_id=eid, seat_ids=ids)
        assert again["type"] == "ok", again
        assert _dt(again["expires_at"]) == _dt(first["expires_at"]), \
            "the cap counts from the first hold"
        assert httpx.delete(h.url + f"/holds/{again['hold_id']}",
                            headers=auth(user["token"])).status_code == 204
        third = post(h, f"/events/{eid}/holds", user["token"], seat_ids=ids).json()
        assert _dt(third["expires_at"]) == _dt(first["expires_at"])
        await asyncio.sleep(max(0.0, (_dt(first["expires_at"]).timestamp() - time.time()))
                            + timing(0.5))
        refused = await ws.request("hold", event_id=eid, seat_ids=ids)
        assert refused["type"] == "error" and refused["code"] == "SEAT_UNAVAILABLE"
        rest = post(h, f"/events/{eid}/holds", user["token"], seat_ids=[ids[0]])
        assert rest.status_code == 409 and code(rest) == "SEAT_UNAVAILABLE"
    finally:
        await ws.close()
    taken = post(h, f"/events/{eid}/holds", rival["token"], seat_ids=ids)
    assert taken.status_code == 201, "the seats are back on sale for everyone else"


async def test_rate_limits_span_rest_and_websocket(
        h: HubProcess, make_user: Any, make_event: Any) -> None:
    user = make_user()
    ws = await LiveClient.connect(h.ws_url, user["token"])

    async def ws_limited(op: str, **fields: Any) -> None:
        reply = await ws.request(op, **fields)
        assert reply["type"] == "error" and reply["code"] == "RATE_LIMITED", reply

    def rest_limited(r: httpx.Response) -> None:
        assert r.status_code == 429 and code(r) == "RATE_LIMITED", r.text
        assert int(r.headers["Retry-After"]) >= 1

    hold_id = "1.AAAAAAAAAAAA"
    try:
        # waitlist join/leave: 6 a minute, whatever the transport and the outcome
        for _ in range(2):
            assert httpx.post(h.url + "/events/999999/waitlist", json={"qty": 1},
                              headers=auth(user["token"])).status_code == 404
            assert httpx.delete(h.url + "/waitlists/999999",
                                headers=auth(user["token"])).status_code == 404
        assert (await ws.request("waitlist.join", event_id=999999, qty=1))[
            "code"] == "NOT_FOUND"
        assert (await ws.request("waitlist.leave", entry_id=999999))[
            "code"] == "NOT_FOUND"
        await ws_limited("waitlist.join", event_id=999999, qty=1)
        rest_limited(httpx.delete(h.url + "/waitlists/999999", headers=auth(user["token"])))
        # extend and release share 3 a minute
        assert code(httpx.post(h.url + f"/holds/{hold_id}/extend",
                               headers=auth(user["token"]))) == "HOLD_EXPIRED"
        assert (await ws.request("release", hold_id=hold_id))["type"] == "error"
        assert (await ws.request("extend", hold_id=hold_id))["type"] == "error"
        rest_limited(httpx.delete(h.url + f"/holds/{hold_id}", headers=auth(user["token"])))
        await ws_limited("extend", hold_id=hold_id)
        # cancel: 2 a minute
        assert httpx.delete(h.url + "/bookings/999999",
                            headers=auth(user["token"])).status_code == 404
        assert (await ws.request("cancel", booking_id=999999))["code"] == "NOT_FOUND"
        await ws_limited("cancel", booking_id=999999)
        rest_limited(httpx.delete(h.url + "/bookings/999999", headers=auth(user["token"])))
        # the windows are per user
        other = make_user()
        assert httpx.delete(h.url + "/bookings/999999",
                            headers=auth(other["token"])).status_code == 404
    finally:
        await ws.close()
