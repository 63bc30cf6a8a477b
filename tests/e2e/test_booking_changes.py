"""Changing a booking (``PATCH /bookings/{id}``, op ``booking.update``): guest details, a
partial cancel whose seats free up at once (a delta, the waitlist served), all seats = cancel,
ownership, and bad input as contract errors; ``GET /me/bookings`` filters and pages."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.support.api import auth, server_map
from tests.support.wsclient import LiveClient

pytestmark = pytest.mark.e2e


def book(hub: Any, token: str, event_id: int, **body: Any) -> dict[str, Any]:
    r = httpx.post(hub.url + f"/events/{event_id}/book", json=body, headers=auth(token))
    assert r.status_code in (201, 202), r.text
    return dict(r.json())


def patch(hub: Any, token: str, booking_id: int, body: Any) -> httpx.Response:
    return httpx.patch(hub.url + f"/bookings/{booking_id}", json=body, headers=auth(token))


def test_partial_cancel_frees_seats_serves_waitlist_and_keeps_the_id(
        hub: Any, make_user: Any, make_event: Any) -> None:
    org, owner, waiter = make_user("organizer"), make_user(), make_user()
    ev = make_event(org["token"], capacity=4)
    booking = book(hub, owner["token"], ev["id"], qty=4)
    entry = book(hub, waiter["token"], ev["id"], qty=1, waitlist=True)
    assert entry["status"] == "WAITING"
    give_back = booking["seat_ids"][:2]

    async def run() -> dict[str, Any]:
        live = await LiveClient.connect(hub.ws_url)
        try:
            await live.subscribe(ev["id"])
            r = await asyncio.to_thread(patch, hub, owner["token"], booking["id"],
                                        {"release_seat_ids": give_back})
            assert r.status_code == 200, r.text
            delta = await live.next_push("delta")
            assert {c["seat_id"] for c in delta["changes"]} <= set(give_back)
            return dict(r.json())
        finally:
            await live.close()

    changed = asyncio.run(run())
    assert changed["id"] == booking["id"] and changed["status"] == "CONFIRMED"
    assert changed["seat_ids"] == booking["seat_ids"][2:] and changed["qty"] == 2
    seats = server_map(hub, ev["id"])
    # one freed seat went to the waitlist as an offer (a hold), the other is on sale
    assert sorted(seats[i] for i in give_back) == ["available", "held"]
    [mine] = httpx.get(hub.url + "/waitlists/me", headers=auth(waiter["token"])).json()
    assert mine["status"] == "OFFERED"
    kinds = [n["kind"] for n in httpx.get(hub.url + "/me/notifications",
                                          headers=auth(owner["token"])).json()]
    assert kinds[0] == "booking.changed"
    again = httpx.get(hub.url + f"/bookings/{booking['id']}", headers=auth(owner["token"]))
    assert again.json()["seat_ids"] == booking["seat_ids"][2:]


def test_guest_change_release_all_is_cancel_and_errors(
        hub: Any, make_user: Any, make_event: Any) -> None:
    org, owner, other, admin = (make_user("organizer"), make_user(), make_user(),
                                make_user("admin"))
    ev = make_event(org["token"], capacity=6)
    b = book(hub, owner["token"], ev["id"], qty=2)
    r = patch(hub, owner["token"], b["id"], {"guest": {"name": "Ada", "email": "ada@x.test"}})
    assert r.status_code == 200 and r.json()["guest"] == {"name": "Ada", "email": "ada@x.test"}
    assert patch(hub, other["token"], b["id"], {"guest": None,
                                                "release_seat_ids": b["seat_ids"][:1]}
                 ).json()["error"]["code"] == "FORBIDDEN"
    assert patch(hub, org["token"], b["id"], {"release_seat_ids": b["seat_ids"][:1]}
                 ).status_code == 403  # organizers read bookings but do not change them
    stranger = patch(hub, owner["token"], b["id"], {"release_seat_ids": [b["seat_ids"][0],
                                                                        999999]})
    assert stranger.status_code == 422
    assert stranger.json()["error"]["details"]["fields"][0]["field"] == "release_seat_ids"
    assert patch(hub, owner["token"], b["id"], {}).status_code == 422
    assert patch(hub, owner["token"], b["id"], {"release_seat_ids": "x"}).status_code == 400
    assert patch(hub, owner["token"], b["id"], {"seats": [1]}).status_code == 400
    assert patch(hub, owner["token"], 10**12, {"release_seat_ids": [1]}).status_code == 404
    assert server_map(hub, ev["id"])[b["seat_ids"][0]] == "sold"  # nothing changed

    gone = patch(hub, admin["token"], b["id"], {"release_seat_ids": b["seat_ids"]})
    assert gone.status_code == 200 and gone.json()["status"] == "CANCELLED"
    assert gone.json()["cancelled_at"] and gone.json()["id"] == b["id"]
    assert {server_map(hub, ev["id"])[i] for i in b["seat_ids"]} == {"available"}
    late = patch(hub, owner["token"], b["id"], {"guest": {"name": "B", "email": "b@x.test"}})
    assert late.status_code == 422


def test_booking_update_over_the_websocket(hub: Any, make_user: Any, make_event: Any) -> None:
    org, owner = make_user("organizer"), make_user()
    ev = make_event(org["token"], capacity=5)
    b = book(hub, owner["token"], ev["id"], qty=3)

    async def run() -> None:
        live = await LiveClient.connect(hub.ws_url, owner["token"])
        try:
            out = await live.request("booking.update", booking_id=b["id"],
                                     release_seat_ids=b["seat_ids"][:1],
                                     guest={"name": "Cy", "email": "cy@x.test"})
            assert out["type"] == "ok" and out["seat_ids"] == b["seat_ids"][1:]
            assert out["guest"]["name"] == "Cy"
            note = (await live.next_push("notification"))["notification"]
            assert note["kind"] == "booking.changed"
            assert note["payload"]["released_seat_ids"] == b["seat_ids"][:1]
            bad = await live.request("booking.update", booking_id=b["id"],
                                     release_seat_ids=[b["seat_ids"][0]])
            assert bad["type"] == "error" and bad["code"] == "VALIDATION_ERROR"
        finally:
            await live.close()

    asyncio.run(run())


def test_my_bookings_filter_and_pages(hub: Any, make_user: Any, make_event: Any) -> None:
    org, me = make_user("organizer"), make_user()
    ev = make_event(org["token"], capacity=10)
    made = [book(hub, me["token"], ev["id"], qty=1) for _ in range(3)]
    httpx.delete(hub.url + f"/bookings/{made[0]['id']}", headers=auth(me["token"]))

    def mine(**q: Any) -> httpx.Response:
        return httpx.get(hub.url + "/me/bookings", params=q, headers=auth(me["token"]))

    assert [b["id"] for b in mine().json()] == [m["id"] for m in reversed(made)]
    assert [b["id"] for b in mine(status="CANCELLED").json()] == [made[0]["id"]]
    assert [b["id"] for b in mine(status="CONFIRMED", page=2, page_size=1).json()] == \
        [made[1]["id"]]
    assert [b["id"] for b in mine(page=2).json()] == [m["id"] for m in reversed(made)]
    assert mine(status="nope").status_code == 422
    assert mine(page_size=0).status_code == 422


def test_concurrent_changes_and_a_cancel_stay_consistent(
        hub: Any, stores: Any, make_user: Any, make_event: Any) -> None:
    """Releases of the same booking race each other and a cancel: the row lock serialises
    them, every seat ends either in the booking or available, and verify finds nothing."""
    from tests.e2e.test_booking_concurrency import verify

    org, owner = make_user("organizer"), make_user()
    ev = make_event(org["token"], capacity=10)
    b = book(hub, owner["token"], ev["id"], qty=8)
    ids = b["seat_ids"]
    bodies = [{"release_seat_ids": ids[0:2]}, {"release_seat_ids": ids[0:2]},
              {"release_seat_ids": ids[2:4]}, {"release_seat_ids": ids[4:5]}]

    async def race() -> list[int]:
        async with httpx.AsyncClient(base_url=hub.url, headers=auth(owner["token"])) as c:
            calls = [c.patch(f"/bookings/{b['id']}", json=body) for body in bodies]
            return [r.status_code for r in await asyncio.gather(*calls)]

    codes = asyncio.run(race())
    assert sorted(codes) == [200, 200, 200, 422], codes  # the same two seats only once
    after = httpx.get(hub.url + f"/bookings/{b['id']}", headers=auth(owner["token"])).json()
    assert after["seat_ids"] == ids[5:]
    seats = server_map(hub, ev["id"])
    assert all(seats[i] == "available" for i in ids[:5])
    assert all(seats[i] == "sold" for i in ids[5:])
    done = verify(stores, ev["id"])
    assert done.returncode == 0, done.stdout + done.stderr
