"""Issue 10, "bad input gets a 4xx, never a 500": each input that once answered 500 or
UNAVAILABLE, against a real hub, gets its contract error, and the WebSocket session lives on."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.api import PASSWORD, auth
from tests.support.wsclient import LiveClient

pytestmark = pytest.mark.e2e


def _code(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.json()["error"]["code"]


def test_nul_characters_in_rest_strings_are_422(hub: Any, make_user: Any,
                                                make_event: Any) -> None:
    admin = make_user("admin")
    r = httpx.post(hub.url + "/auth/login", json={"email": "a\x00@b.cc", "password": "x"})
    assert _code(r) == (422, "VALIDATION_ERROR")
    r = httpx.post(hub.url + "/auth/signup", json={"name": "A\x00", "email": "nul@example.test",
                                                   "password": PASSWORD})
    assert _code(r) == (422, "VALIDATION_ERROR")
    event = make_event(admin["token"])
    r = httpx.patch(f"{hub.url}/admin/events/{event['id']}", headers=auth(admin["token"]),
                    json={"venue": "Hall\x00"})
    assert _code(r) == (422, "VALIDATION_ERROR")
    assert _code(httpx.get(hub.url + "/events", params={"q": "a\x00"})) == (
        422, "VALIDATION_ERROR")
    assert httpx.get(hub.url + "/events", params={"q": "Test"}).status_code == 200


def test_times_past_year_9998_utc_are_422(hub: Any, make_user: Any) -> None:
    admin = make_user("admin")
    r = httpx.post(hub.url + "/admin/events", headers=auth(admin["token"]), json={
        "name": "Far", "venue": "Hall", "start_time": "9999-12-31T23:59:59-14:00",
        "end_time": "9999-12-31T23:59:59-14:00", "capacity": 5})
    assert _code(r) == (422, "VALIDATION_ERROR")
    assert {f["field"] for f in r.json()["error"]["details"]["fields"]} == {"start_time",
                                                                             "end_time"}


@pytest.mark.parametrize("raw", ["%C2%B2", "%D9%A1", "9223372036854775808", "0", "-1"])
def test_path_ids_that_name_no_row_are_404(hub: Any, raw: str) -> None:
    assert _code(httpx.get(f"{hub.url}/events/{raw}")) == (404, "NOT_FOUND")


async def test_ws_bad_fields_get_errors_and_the_session_lives(hub: Any, make_user: Any,
                                                              make_event: Any) -> None:
    user = make_user()
    event = make_event(make_user("admin")["token"])
    log_from = hub.log_path.stat().st_size
    client = await LiveClient.connect(hub.ws_url, user["token"])
    try:
        big = 2**63
        for op, fields in [("subscribe", {"event_id": big}),
                           ("hold", {"event_id": big, "qty": 1}),
                           ("cancel", {"booking_id": big}),
                           ("waitlist.join", {"event_id": big, "qty": 1}),
                           ("waitlist.leave", {"entry_id": big}),
                           ("subscribe", {"event_id": 2**31})]:
            reply = await client.request(op, **fields)
            assert (reply["type"], reply["code"]) == ("error", "NOT_FOUND"), (op, reply)
        for op, fields in [
                ("subscribe", {"event_id": event["id"], "since": {"epoch": 1, "seq": -5}}),
                ("confirm", {"hold_id": f"{event['id']}.abcdefghijkl",
                             "idempotency_key": "k" * 300}),
                ("extend", {"hold_id": "1\x00.abcdefghijkl"})]:
            reply = await client.request(op, **fields)
            assert (reply["type"], reply["code"]) == ("error", "VALIDATION_ERROR"), (op, reply)
        reply = await client.request("hold", event_id=event["id"], qty=2.0)
        assert reply["code"] == "BAD_REQUEST"  # a JSON integer written 2.0 is a wrong type
        assert (await client.request("ping"))["type"] == "pong"
        ok = await client.request("subscribe", event_id=event["id"])
        assert ok["type"] == "ok"
    finally:
        await client.close()
    with hub.log_path.open("rb") as log:
        log.seek(log_from)
        assert b"Traceback" not in log.read()
