"""Request ids and the request log of a real ``evently serve``: ``X-Request-ID`` is honoured
and echoed on every response (errors and CORS preflights included), and each request writes
one JSON log line with LOG_FORMAT=json."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.api import PASSWORD, auth
from tests.support.servers import HubProcess, hub_env
from tests.support.stores import TestStores, timing

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def json_hub(stores: TestStores) -> Iterator[HubProcess]:
    hub = HubProcess(hub_env(stores, LOG_FORMAT="json", LOG_LEVEL="info",
                             CORS_ORIGINS="http://app.example")).start()
    try:
        yield hub
    finally:
        hub.stop()


def log_lines(hub: HubProcess, request_id: str) -> list[dict[str, Any]]:
    """The JSON request-log lines of ``request_id`` (waits up to 3 s for the first)."""
    deadline = time.monotonic() + timing(3)
    while True:
        found = []
        for line in hub.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                record = json.loads(line)  # every JSON-looking line must parse
                if record.get("request_id") == request_id:
                    found.append(record)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_request_ids_are_echoed_and_logged_as_json(json_hub: HubProcess,
                                                   clean_stores: TestStores) -> None:
    hub = json_hub
    r = httpx.post(hub.url + "/auth/signup", json={"name": "Lo", "email": "lo@example.test",
                                                   "password": PASSWORD})
    assert r.status_code == 201
    token = httpx.post(hub.url + "/auth/login", json={"email": "lo@example.test",
                                                      "password": PASSWORD}).json()["access_token"]
    user_id = r.json()["id"]

    r = httpx.get(hub.url + "/events/424242", headers={"X-Request-ID": "client-req.1:a",
                                                       **auth(token)})
    assert r.status_code == 404 and r.headers["x-request-id"] == "client-req.1:a"
    (line,) = log_lines(hub, "client-req.1:a")
    assert line["method"] == "GET" and line["route"] == "/events/{event_id}"
    assert line["status"] == 404 and line["user_id"] == user_id
    assert isinstance(line["duration_ms"], float | int) and line["duration_ms"] >= 0
    assert line["logger"] == "evently.request" and line["level"] == "INFO"

    # No id, or one that could forge log lines: a fresh one is made.
    made = httpx.get(hub.url + "/healthz").headers["x-request-id"]
    assert len(made) == 32 and int(made, 16) >= 0
    forged = httpx.get(hub.url + "/healthz", headers={"X-Request-ID": "a b\"}"})
    assert forged.headers["x-request-id"] != "a b\"}"
    assert len(forged.headers["x-request-id"]) == 32
    anonymous = log_lines(hub, made)
    assert anonymous[0]["user_id"] is None and anonymous[0]["route"] == "/healthz"

    # Errors outside the routes and CORS preflights carry one too.
    big = httpx.post(hub.url + "/auth/login", content=b"x" * 10_000,
                     headers={"X-Request-ID": "too-big"})
    assert big.status_code == 413 and big.headers["x-request-id"] == "too-big"
    pre = httpx.options(hub.url + "/events", headers={
        "Origin": "http://app.example", "Access-Control-Request-Method": "GET",
        "X-Request-ID": "preflight-1"})
    assert pre.status_code == 200 and pre.headers["x-request-id"] == "preflight-1"
    assert log_lines(hub, "preflight-1")[0]["method"] == "OPTIONS"
    unmatched = httpx.get(hub.url + "/no/such/path/123", headers={"X-Request-ID": "nope"})
    assert unmatched.status_code == 404
    assert log_lines(hub, "nope")[0]["route"] == "unmatched"  # never the raw path
