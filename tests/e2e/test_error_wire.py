"""Errors on the wire, mapped once per transport: the REST envelope and status, and the
metrics middleware counting a REST op by the error code the handler raised (not by reading
the response body back)."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.api import auth
from tests.support.servers import HubProcess


def ops_count(hub: HubProcess, op: str, outcome: str) -> float:
    """``evently_ops_total{op, via="rest", outcome}`` of the hub (0 when absent)."""
    text = httpx.get(hub.url + "/metrics").text
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "evently_ops_total" and s.labels == {
                    "op": op, "via": "rest", "outcome": outcome}:
                return float(s.value)
    return 0.0


def test_rest_op_outcomes_are_counted_by_the_raised_code(
        hub: HubProcess, make_user: Any, make_event: Any) -> None:
    admin, buyer, rival = make_user("admin"), make_user(), make_user()
    event = make_event(admin["token"], capacity=4)
    seat_ids = [s["id"] for s in httpx.get(f"{hub.url}/events/{event['id']}/seats")
                .json()["seats"]]
    before = {o: ops_count(hub, "hold", o) for o in ("ok", "SEAT_UNAVAILABLE", "BAD_REQUEST")}

    mine = httpx.post(f"{hub.url}/events/{event['id']}/holds", json={"seat_ids": seat_ids[:1]},
                      headers=auth(buyer["token"]))
    assert mine.status_code == 201, mine.text
    taken = httpx.post(f"{hub.url}/events/{event['id']}/holds",
                       json={"seat_ids": seat_ids[:2]}, headers=auth(rival["token"]))
    assert taken.status_code == 409
    assert taken.json() == {"error": {"code": "SEAT_UNAVAILABLE", "details": {
        "seat_ids": seat_ids[:1]}, "message": "Some seats are no longer available."}}
    garbled = httpx.post(f"{hub.url}/events/{event['id']}/holds", content=b"{not json",
                         headers=auth(rival["token"]))
    assert garbled.status_code == 400 and garbled.json()["error"]["code"] == "BAD_REQUEST"

    assert ops_count(hub, "hold", "ok") == before["ok"] + 1
    assert ops_count(hub, "hold", "SEAT_UNAVAILABLE") == before["SEAT_UNAVAILABLE"] + 1
    assert ops_count(hub, "hold", "BAD_REQUEST") == before["BAD_REQUEST"] + 1


def test_framework_errors_use_the_same_envelope(hub: HubProcess) -> None:
    missing = httpx.get(hub.url + "/no/such/route")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    wrong_method = httpx.put(hub.url + "/healthz")
    assert wrong_method.status_code == 405
    assert set(wrong_method.json()["error"]) == {"code", "message", "details"}
    assert wrong_method.json()["error"]["code"] == "BAD_REQUEST"
    assert "allow" in wrong_method.headers  # the framework's headers are kept
