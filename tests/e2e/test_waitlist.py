"""Waitlists: first come first served among entries that fit, offers as reserved holds,
instant pushes on every process, and exactly-once offering under concurrent frees."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.support.api import auth
from tests.support.stores import timing
from tests.support.wsclient import LiveClient

pytestmark = pytest.mark.e2e


def book(hub: Any, token: str, event_id: int, **body: Any) -> httpx.Response:
    return httpx.post(hub.url + f"/events/{event_id}/book", json=body, headers=auth(token))


def join(hub: Any, token: str, event_id: int, qty: int) -> dict[str, Any]:
    r = httpx.post(hub.url + f"/events/{event_id}/waitlist", json={"qty": qty},
                   headers=auth(token))
    assert r.status_code == 201, r.text
    return dict(r.json())


def entries(hub: Any, token: str) -> list[dict[str, Any]]:
    return list(httpx.get(hub.url + "/waitlists/me", headers=auth(token)).json())


def cancel(hub: Any, token: str, booking_id: int) -> None:
    r = httpx.delete(hub.url + f"/bookings/{booking_id}", headers=auth(token))
    assert r.status_code == 200, r.text


@pytest.fixture
def sold_out(hub: Any, make_user: Any, make_event: Any) -> Any:
    def make(capacity: int = 4, **fields: Any) -> tuple[dict[str, Any], dict[str, Any],
                                                         list[dict[str, Any]]]:
        org = make_user("organizer")
        ev = make_event(org["token"], capacity=capacity, **fields)
        owner = make_user()
        bookings = [book(hub, owner["token"], ev["id"], qty=2).json()
                    for _ in range(capacity // 2)]
        assert all(b["status"] == "CONFIRMED" for b in bookings)
        return ev, owner, bookings
    return make


def test_first_come_first_served_among_those_that_fit(hub: Any, make_user: Any,
                                                      sold_out: Any) -> None:
    ev, owner, bookings = sold_out(capacity=6)
    w1, w2, w3, public = make_user(), make_user(), make_user(), make_user()
    assert book(hub, w1["token"], ev["id"], qty=2).json()["error"]["code"] == "SOLD_OUT"
    e1 = book(hub, w1["token"], ev["id"], qty=4, waitlist=True)
    assert e1.status_code == 202 and e1.json()["status"] == "WAITING"
    e2 = join(hub, w2["token"], ev["id"], 2)
    e3 = join(hub, w3["token"], ev["id"], 1)
    assert (e1.json()["position"], e2["position"], e3["position"]) == (1, 2, 3)
    again = httpx.post(hub.url + f"/events/{ev['id']}/waitlist", json={"qty": 1},
                       headers=auth(w2["token"]))
    assert again.status_code == 409 and again.json()["error"]["code"] == "ALREADY_EXISTS"

    def statuses() -> tuple[str, ...]:
        return tuple(entries(hub, w["token"])[0]["status"] for w in (w1, w2, w3))

    cancel(hub, owner["token"], bookings[0]["id"])  # 2 free: the head wants 4, w2 fits
    assert statuses() == ("WAITING", "OFFERED", "WAITING")
    assert [entries(hub, w["token"])[0]["position"] for w in (w1, w3)] == [1, 2]
    w2_hold = entries(hub, w2["token"])[0]["offer"]["hold_id"]
    assert httpx.delete(hub.url + f"/holds/{w2_hold}",
                        headers=auth(w2["token"])).status_code == 204  # w2 declines
    assert statuses() == ("WAITING", "EXPIRED", "OFFERED")  # w3 (1) fits, w1 (4) does not
    assert book(hub, public["token"], ev["id"], qty=1).status_code == 409, \
        "seats freed while people wait are kept for the waitlist (for a while)"
    seats = httpx.get(hub.url + f"/events/{ev['id']}/seats").json()["seats"]
    assert sorted(s["status"] for s in seats) == ["held"] * 2 + ["sold"] * 4

    cancel(hub, owner["token"], bookings[1]["id"])  # 3 free (1 kept + 2): w1 does not fit
    assert statuses()[0] == "WAITING"
    cancel(hub, owner["token"], bookings[2]["id"])  # 5 free: the head fits at last
    assert statuses()[0] == "OFFERED"
    [m1] = entries(hub, w1["token"])
    assert m1["offer"]["hold_id"] and m1["offer"]["expires_at"] and m1["position"] is None
    offered = httpx.get(hub.url + f"/holds/{m1['offer']['hold_id']}", headers=auth(w1["token"]))
    assert offered.status_code == 200 and len(offered.json()["seat_ids"]) == 4
    confirmed = httpx.post(hub.url + f"/holds/{m1['offer']['hold_id']}/confirm",
                           headers=auth(w1["token"]))
    assert confirmed.status_code == 201
    assert statuses() == ("ACCEPTED", "EXPIRED", "OFFERED")
    again = httpx.post(hub.url + f"/events/{ev['id']}/waitlist", json={"qty": 1},
                       headers=auth(w2["token"]))
    assert again.status_code == 409 and again.json()["error"]["code"] == "SEATS_AVAILABLE", \
        "nobody waits any more: the last freed seat is on sale, no need to wait"
    kinds = [n["kind"] for n in httpx.get(hub.url + "/me/notifications",
                                          headers=auth(w1["token"])).json()]
    assert "waitlist.offered" in kinds and "booking.confirmed" in kinds
    unread = httpx.get(hub.url + "/me/notifications?unread=true", headers=auth(w1["token"]))
    first = unread.json()[0]["id"]
    assert httpx.post(hub.url + f"/me/notifications/{first}/read",
                      headers=auth(w2["token"])).status_code == 403
    assert httpx.post(hub.url + f"/me/notifications/{first}/read",
                      headers=auth(w1["token"])).status_code == 204
    assert first not in [n["id"] for n in httpx.get(
        hub.url + "/me/notifications?unread=true", headers=auth(w1["token"])).json()]


def test_lapsed_offer_passes_to_the_next(hub: Any, make_user: Any, sold_out: Any) -> None:
    ev, owner, bookings = sold_out(capacity=2, waitlist_offer_seconds=2)
    w1, w2 = make_user(), make_user()
    join(hub, w1["token"], ev["id"], 2)
    join(hub, w2["token"], ev["id"], 2)
    cancel(hub, owner["token"], bookings[0]["id"])
    assert entries(hub, w1["token"])[0]["status"] == "OFFERED"

    async def wait_for_w2() -> None:
        for _ in range(int(50 * timing(1))):
            if entries(hub, w2["token"])[0]["status"] == "OFFERED":
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the lapsed offer never passed on")

    asyncio.run(wait_for_w2())
    assert entries(hub, w1["token"])[0]["status"] == "EXPIRED"
    kinds = [n["kind"] for n in httpx.get(hub.url + "/me/notifications",
                                          headers=auth(w1["token"])).json()]
    assert "waitlist.expired" in kinds


def test_leaving_releases_an_open_offer(hub: Any, make_user: Any, sold_out: Any) -> None:
    ev, owner, bookings = sold_out(capacity=2)
    w1, w2 = make_user(), make_user()
    e1 = join(hub, w1["token"], ev["id"], 2)
    join(hub, w2["token"], ev["id"], 2)
    cancel(hub, owner["token"], bookings[0]["id"])
    assert entries(hub, w1["token"])[0]["status"] == "OFFERED"
    assert httpx.delete(hub.url + f"/waitlists/{e1['id']}",
                        headers=auth(w2["token"])).status_code == 403
    r = httpx.delete(hub.url + f"/waitlists/{e1['id']}", headers=auth(w1["token"]))
    assert r.status_code == 204
    assert entries(hub, w1["token"])[0]["status"] == "LEFT"
    assert entries(hub, w2["token"])[0]["status"] == "OFFERED"


def test_auto_promote_books_directly(hub: Any, make_user: Any, sold_out: Any) -> None:
    ev, owner, bookings = sold_out(capacity=2, auto_promote=True)
    w1 = make_user()
    join(hub, w1["token"], ev["id"], 1)
    cancel(hub, owner["token"], bookings[0]["id"])
    [entry] = entries(hub, w1["token"])
    assert entry["status"] == "ACCEPTED"
    [b] = httpx.get(hub.url + "/me/bookings", headers=auth(w1["token"])).json()
    assert b["status"] == "CONFIRMED" and b["qty"] == 1
    seats = httpx.get(hub.url + f"/events/{ev['id']}/seats").json()["seats"]
    assert sorted(s["status"] for s in seats) == ["available", "sold"]


async def test_offer_is_pushed_to_every_session_on_every_process(
        hub: Any, second_hub: Any, make_user: Any, sold_out: Any) -> None:
    ev, owner, bookings = sold_out(capacity=2)
    waiter = make_user()
    tabs = [await LiveClient.connect(h.ws_url, waiter["token"]) for h in (hub, second_hub)]
    try:
        joined = await tabs[0].request("waitlist.join", event_id=ev["id"], qty=2)
        assert joined["type"] == "ok" and joined["status"] == "WAITING"
        cancel(hub, owner["token"], bookings[0]["id"])
        pushes = await asyncio.gather(*(t.next_push("waitlist.offered", timing(2))
                                        for t in tabs))
        for p in pushes:
            assert p["entry_id"] == joined["id"] and len(p["hold"]["seat_ids"]) == 2
        note = await tabs[1].next_push("notification", timing(2))
        assert note["notification"]["kind"] in ("waitlist.offered", "booking.cancelled")
        booking = await tabs[1].request("confirm", hold_id=pushes[0]["hold"]["hold_id"])
        assert booking["type"] == "ok" and booking["status"] == "CONFIRMED"
    finally:
        for t in tabs:
            await t.close()


async def test_concurrent_frees_offer_each_seat_once_and_skip_no_waiter(
        hub: Any, second_hub: Any, make_user: Any, make_event: Any) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], capacity=24)
    owners = [make_user() for _ in range(12)]
    bookings = [book(hub, o["token"], ev["id"], qty=2).json() for o in owners]
    waiters = [make_user() for _ in range(16)]
    for w in waiters:
        join(hub, w["token"], ev["id"], 1)
    async with httpx.AsyncClient() as client:
        await asyncio.gather(*(
            client.delete((hub if i % 2 else second_hub).url + f"/bookings/{b['id']}",
                          headers=auth(owners[i]["token"]))
            for i, b in enumerate(bookings)))
    await asyncio.sleep(0.5)
    states = [entries(hub, w["token"])[0] for w in waiters]
    offered = [s for s in states if s["status"] == "OFFERED"]
    assert len(offered) == 16, "every waiter gets a seat when 24 free up"
    seats: list[int] = []
    for w, s in zip(waiters, states, strict=True):
        hold = httpx.get(hub.url + f"/holds/{s['offer']['hold_id']}", headers=auth(w["token"]))
        seats += hold.json()["seat_ids"]
    assert len(seats) == len(set(seats)) == 16, "no seat offered to two waiters"
    counts = httpx.get(hub.url + f"/events/{ev['id']}").json()
    assert counts["held_count"] == 16 and counts["available_count"] == 8


def test_capacity_increase_promotes_the_waitlist(hub: Any, make_user: Any, make_event: Any
                                                 ) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], capacity=2)
    owner, w1, w2 = make_user(), make_user(), make_user()
    assert book(hub, owner["token"], ev["id"], qty=2).status_code == 201
    join(hub, w1["token"], ev["id"], 2)
    join(hub, w2["token"], ev["id"], 1)
    r = httpx.patch(hub.url + f"/admin/events/{ev['id']}", json={"capacity": 4},
                    headers=auth(org["token"]))
    assert r.status_code == 200, r.text
    assert entries(hub, w1["token"])[0]["status"] == "OFFERED"
    assert entries(hub, w2["token"])[0]["status"] == "WAITING"  # 2 new seats: w1 took both
    hold = entries(hub, w1["token"])[0]["offer"]["hold_id"]
    seats = httpx.get(hub.url + f"/holds/{hold}", headers=auth(w1["token"])).json()
    assert seats["labels"] == ["A3", "A4"]
