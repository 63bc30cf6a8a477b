"""The REST path of the hub core against a real ``evently serve`` on real stores."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from tests.support.api import auth

pytestmark = pytest.mark.e2e


def post(hub: Any, path: str, token: str | None = None, **kw: Any) -> httpx.Response:
    return httpx.post(hub.url + path, headers=auth(token) if token else {}, **kw)


def test_signup_login_me(hub: Any, make_user: Any) -> None:
    u = make_user()
    me = httpx.get(hub.url + "/auth/me", headers=auth(u["token"])).json()
    assert me["email"] == u["email"] and me["role"] == "user" and "password" not in str(me)
    dup = post(hub, "/auth/signup", json={"name": "x", "email": u["email"].upper(),
                                          "password": "another-pass"})
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "ALREADY_EXISTS"
    bad = post(hub, "/auth/login", json={"email": u["email"], "password": "wrong-password"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "INVALID_CREDENTIALS"


@pytest.mark.parametrize("token", [
    None, "garbage", "Bearer", "a.b.c",
])
def test_protected_routes_need_a_valid_token(hub: Any, token: str | None) -> None:
    r = httpx.get(hub.url + "/auth/me", headers={"Authorization": f"Bearer {token}"} if token
                  else {})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "UNAUTHENTICATED"


def _b64(d: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()


def test_alg_none_and_tampered_tokens_are_refused(hub: Any, make_user: Any) -> None:
    u = make_user()
    header, payload, sig = u["token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    forged_none = _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(claims) + "."
    tampered = header + "." + _b64(claims) + "." + sig
    for token in (forged_none, tampered):
        r = httpx.get(hub.url + "/auth/me", headers=auth(token))
        assert r.status_code == 401, token


def test_only_organizers_and_admins_create_events(hub: Any, make_user: Any,
                                                  make_event: Any) -> None:
    user = make_user()
    r = post(hub, "/admin/events", user["token"], json={
        "name": "x", "venue": "y", "start_time": "2030-01-01T20:00:00Z",
        "end_time": "2030-01-01T22:00:00Z", "capacity": 5})
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    org = make_user("organizer")
    ev = make_event(org["token"], seat_map={"sections": [{"name": "Stalls", "rows": 2,
                                                          "seats_per_row": 3}]})
    assert ev["capacity"] == 6 and ev["organizer_id"] == org["id"]
    seats = httpx.get(hub.url + f"/events/{ev['id']}/seats").json()
    assert [s["label"] for s in seats["seats"]][:4] == ["Stalls A1", "Stalls A2", "Stalls A3",
                                                         "Stalls B1"]
    assert {s["status"] for s in seats["seats"]} == {"available"}


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"{not json", 400, "BAD_REQUEST"),
    (b"[1,2]", 400, "BAD_REQUEST"),
    (b'{"qty": "2"}', 400, "BAD_REQUEST"),
    (b'{"qty": 2, "color": "red"}', 400, "BAD_REQUEST"),
    (b'{"qty": 0}', 422, "VALIDATION_ERROR"),
    (b'{"seat_ids": []}', 422, "VALIDATION_ERROR"),
    (b'{}', 422, "VALIDATION_ERROR"),
    (b'{"qty": 2, "seat_ids": [1]}', 422, "VALIDATION_ERROR"),
    (b'{"seat_ids": [1, 1]}', 422, "VALIDATION_ERROR"),
    (b'{"seat_ids": [999999]}', 422, "VALIDATION_ERROR"),
])
def test_bad_hold_input_gets_the_contract_error_and_changes_nothing(
        hub: Any, make_user: Any, make_event: Any, body: bytes, status: int, code: str) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], capacity=10)
    r = post(hub, f"/events/{ev['id']}/holds", org["token"], content=body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert "details" in r.json()["error"]
    after = httpx.get(hub.url + f"/events/{ev['id']}").json()
    assert after["held_count"] == 0 and after["available_count"] == 10


def test_qty_hold_takes_best_seats_side_by_side(hub: Any, make_user: Any,
                                               make_event: Any) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], capacity=30)
    # Break up row A: hold A2 and A6, so the first run of 4 side by side is A7..A10.
    first = post(hub, f"/events/{ev['id']}/holds", org["token"], json={"seat_ids": [2, 6]})
    assert first.status_code == 201
    buyer = make_user()
    h = post(hub, f"/events/{ev['id']}/holds", buyer["token"], json={"qty": 4}).json()
    assert h["labels"] == ["A7", "A8", "A9", "A10"]
    # No five side by side left in row A: row B, the run nearest its centre (a tie: the left).
    h2 = post(hub, f"/events/{ev['id']}/holds", buyer["token"], json={"qty": 5}).json()
    assert h2["labels"] == ["B3", "B4", "B5", "B6", "B7"]


def test_hold_confirm_cancel_round_trip(hub: Any, make_user: Any, make_event: Any) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], capacity=10)
    buyer, other = make_user(), make_user()
    hold = post(hub, f"/events/{ev['id']}/holds", buyer["token"], json={"seat_ids": [3, 4]})
    assert hold.status_code == 201
    hid = hold.json()["hold_id"]
    # Object-level authorization: another user can neither read, extend, confirm nor release.
    assert httpx.get(hub.url + f"/holds/{hid}", headers=auth(other["token"])).status_code == 403
    assert post(hub, f"/holds/{hid}/confirm", other["token"]).status_code == 403
    assert httpx.delete(hub.url + f"/holds/{hid}",
                        headers=auth(other["token"])).status_code == 403
    taken = post(hub, f"/events/{ev['id']}/holds", other["token"], json={"seat_ids": [4, 5]})
    assert taken.status_code == 409
    assert taken.json()["error"] == {"code": "SEAT_UNAVAILABLE", "details": {"seat_ids": [4]},
                                     "message": taken.json()["error"]["message"]}
    ext = post(hub, f"/holds/{hid}/extend", buyer["token"])
    assert ext.status_code == 200 and ext.json()["expires_at"] >= hold.json()["expires_at"]
    booking = post(hub, f"/holds/{hid}/confirm", buyer["token"],
                   json={"guest": {"name": "Ann Guest", "email": "ann@example.test"}})
    assert booking.status_code == 201, booking.text
    b = booking.json()
    assert b["status"] == "CONFIRMED" and b["seat_ids"] == [3, 4] and b["seats"] == ["A3", "A4"]
    assert b["guest"] == {"name": "Ann Guest", "email": "ann@example.test"}
    again = post(hub, f"/holds/{hid}/confirm", buyer["token"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "HOLD_EXPIRED"
    ev_now = httpx.get(hub.url + f"/events/{ev['id']}").json()
    assert (ev_now["booked_count"], ev_now["held_count"], ev_now["available_count"]) == (2, 0, 8)
    mine = httpx.get(hub.url + "/me/bookings", headers=auth(buyer["token"])).json()
    assert [m["id"] for m in mine] == [b["id"]]
    assert httpx.get(hub.url + f"/bookings/{b['id']}",
                     headers=auth(other["token"])).status_code == 403
    assert httpx.delete(hub.url + f"/bookings/{b['id']}",
                        headers=auth(other["token"])).status_code == 403
    cancelled = httpx.delete(hub.url + f"/bookings/{b['id']}", headers=auth(buyer["token"]))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    seats = {s["id"]: s["status"] for s in
             httpx.get(hub.url + f"/events/{ev['id']}/seats").json()["seats"]}
    assert seats[3] == seats[4] == "available"


def test_book_in_one_step_and_idempotency_key(hub: Any, make_user: Any,
                                              make_event: Any) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], capacity=4)
    buyer = make_user()
    headers = {**auth(buyer["token"]), "Idempotency-Key": "order-77"}
    r1 = httpx.post(hub.url + f"/events/{ev['id']}/book", json={"qty": 2}, headers=headers)
    r2 = httpx.post(hub.url + f"/events/{ev['id']}/book", json={"qty": 2}, headers=headers)
    assert r1.status_code == r2.status_code == 201
    assert r1.json() == r2.json()
    r3 = httpx.post(hub.url + f"/events/{ev['id']}/book", json={"qty": 1}, headers=headers)
    assert r3.status_code == 422 and r3.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(httpx.get(hub.url + "/me/bookings", headers=auth(buyer["token"])).json()) == 1
    rest = httpx.post(hub.url + f"/events/{ev['id']}/book", json={"qty": 2},
                      headers=auth(buyer["token"]))
    assert rest.status_code == 201
    sold_out = httpx.post(hub.url + f"/events/{ev['id']}/book", json={"qty": 1},
                          headers=auth(buyer["token"]))
    assert sold_out.status_code == 409 and sold_out.json()["error"]["code"] == "SOLD_OUT"


def test_per_user_hold_cap(hub: Any, make_user: Any, make_event: Any) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], capacity=40)
    buyer = make_user()
    assert post(hub, f"/events/{ev['id']}/holds", buyer["token"], json={"qty": 8}).status_code \
        == 201
    over = post(hub, f"/events/{ev['id']}/holds", buyer["token"], json={"qty": 3})
    assert over.status_code == 429 and over.json()["error"]["code"] == "HOLD_LIMIT"


def test_unknown_ids_are_not_found(hub: Any, make_user: Any) -> None:
    u = make_user()
    for path in ("/events/999", "/events/abc", "/events/999/seats"):
        r = httpx.get(hub.url + path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND", path
    assert httpx.get(hub.url + "/holds/nonsense", headers=auth(u["token"])).status_code == 404
    assert httpx.get(hub.url + "/bookings/12345", headers=auth(u["token"])).status_code == 404
    r = post(hub, "/events/999/holds", u["token"], json={"qty": 1})
    assert r.status_code == 404


def test_health_and_readiness(hub: Any) -> None:
    assert httpx.get(hub.url + "/healthz").json() == {"status": "ok"}
    assert httpx.get(hub.url + "/readyz").status_code == 200
