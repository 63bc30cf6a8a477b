"""Rate limits, metrics, OpenAPI and /docs against real ``evently serve`` processes.

Accounts and events are made through the session hub (limits off); the limited hub shares its
stores and JWT secret, so the same tokens work on both. Each test starts on emptied stores,
which also empties the rate-limit windows (they live in Redis).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import stores as test_stores
from tests.support.api import PASSWORD, auth
from tests.support.servers import HubProcess, hub_env

pytestmark = pytest.mark.e2e

#: every route of CONTRACT.md §2 (method, path template)
CONTRACT_ROUTES = [
    ("POST", "/auth/signup"), ("POST", "/auth/login"), ("POST", "/auth/refresh"),
    ("POST", "/auth/logout"), ("GET", "/auth/me"), ("GET", "/events"),
    ("GET", "/events/{event_id}"), ("GET", "/events/{event_id}/seats"),
    ("POST", "/events/{event_id}/holds"), ("GET", "/holds/{hold_id}"),
    ("POST", "/holds/{hold_id}/extend"), ("DELETE", "/holds/{hold_id}"),
    ("POST", "/holds/{hold_id}/confirm"), ("POST", "/events/{event_id}/book"),
    ("GET", "/me/bookings"), ("GET", "/bookings/{booking_id}"),
    ("DELETE", "/bookings/{booking_id}"), ("POST", "/events/{event_id}/waitlist"),
    ("GET", "/waitlists/me"), ("DELETE", "/waitlists/{entry_id}"),
    ("GET", "/me/notifications"), ("POST", "/me/notifications/{notification_id}/read"),
    ("POST", "/admin/events"), ("PATCH", "/admin/events/{event_id}"),
    ("POST", "/admin/events/{event_id}/deactivate"), ("DELETE", "/admin/events/{event_id}"),
    ("POST", "/admin/events/{event_id}/seats/generate"),
    ("GET", "/admin/events/{event_id}/attendees"), ("GET", "/admin/bookings"),
    ("GET", "/admin/users"), ("POST", "/admin/users"), ("PATCH", "/admin/users/{user_id}/role"),
    ("DELETE", "/admin/users/{user_id}"), ("GET", "/admin/analytics/summary"),
    ("GET", "/stats/homepage"), ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"),
    ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/"), ("GET", "/admin"),
]


@pytest.fixture(scope="module")
def limited(stores: test_stores.TestStores, hub_server: HubProcess) -> Iterator[HubProcess]:
    """A hub with rate limits on and small windows (per email, per IP, per user)."""
    env = hub_env(stores, RATE_LIMIT_ENABLED="true", RATE_LIMIT_LOGIN="3/minute",
                  RATE_LIMIT_LOGIN_IP="8/minute", RATE_LIMIT_HOLDS="3/minute",
                  RATE_LIMIT_BOOKINGS="2/minute", RATE_LIMIT_ADMIN="3/minute")
    hub = HubProcess(env).start()
    try:
        yield hub
    finally:
        hub.stop()


def login(hub: HubProcess, email: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(hub.url + "/auth/login", json={"email": email, "password": password})


def assert_rate_limited(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    assert r.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(r.headers["Retry-After"]) <= 60


def test_login_is_limited_per_email(hub: HubProcess, limited: HubProcess,
                                    make_user: Any) -> None:
    a, b = make_user(), make_user()
    assert login(limited, a["email"], "wrong-password").status_code == 401
    for _ in range(2):
        assert login(limited, a["email"].upper()).status_code == 200  # same email, any case
    assert_rate_limited(login(limited, a["email"]))
    assert login(limited, b["email"]).status_code == 200  # other emails still work


def test_login_is_limited_per_client_ip(hub: HubProcess, limited: HubProcess) -> None:
    answers = [login(limited, f"nobody{i}@example.test").status_code for i in range(8)]
    assert answers == [401] * 8
    assert_rate_limited(login(limited, "nobody-else@example.test"))


def test_holds_and_bookings_are_limited_per_user(hub: HubProcess, limited: HubProcess,
                                                 make_user: Any, make_event: Any) -> None:
    admin, a, b = make_user("admin"), make_user(), make_user()
    event = make_event(admin["token"], capacity=20)
    url = f"{limited.url}/events/{event['id']}"
    for _ in range(3):
        r = httpx.post(url + "/holds", json={"qty": 1}, headers=auth(a["token"]))
        assert r.status_code == 201, r.text
    assert_rate_limited(httpx.post(url + "/holds", json={"qty": 1}, headers=auth(a["token"])))
    assert httpx.post(url + "/holds", json={"qty": 1},
                      headers=auth(b["token"])).status_code == 201
    # a bad token is not limited by user: the route answers 401 every time
    for _ in range(5):
        assert httpx.post(url + "/holds", json={"qty": 1},
                          headers=auth("not-a-token")).status_code == 401
    # book and confirm share the "bookings" window (2/minute)
    assert httpx.post(url + "/book", json={"qty": 1},
                      headers=auth(b["token"])).status_code == 201
    hold = httpx.post(url + "/holds", json={"qty": 1}, headers=auth(b["token"])).json()
    assert httpx.post(f"{limited.url}/holds/{hold['hold_id']}/confirm",
                      headers=auth(b["token"])).status_code == 201
    assert_rate_limited(httpx.post(url + "/book", json={"qty": 1}, headers=auth(b["token"])))


def test_admin_writes_are_limited_per_user_and_reads_are_not(
        hub: HubProcess, limited: HubProcess, make_user: Any, make_event: Any) -> None:
    admin = make_user("admin")
    event = make_event(admin["token"])
    for _ in range(3):
        r = httpx.post(f"{limited.url}/admin/events/{event['id']}/nothing-here",
                       headers=auth(admin["token"]))
        assert r.status_code in (404, 405), r.text
    assert_rate_limited(httpx.post(f"{limited.url}/admin/events", json={},
                                   headers=auth(admin["token"])))
    for _ in range(5):
        assert httpx.get(f"{limited.url}/events/{event['id']}",
                         headers=auth(admin["token"])).status_code == 200


async def test_check_for_websocket_ops_and_failing_open(stores: test_stores.TestStores) -> None:
    import redis.asyncio as aioredis

    from hub.errors import RateLimited
    from storage.settings import Settings
    from tests.support.servers import free_port
    from web.ratelimit import check

    class FakeHubShell:  # only what check() reads; Redis is the real one
        def __init__(self, redis_url: str, **limits: Any) -> None:
            self.settings = Settings(rate_limit_enabled=True, **limits)
            self.redis = aioredis.Redis.from_url(redis_url, socket_connect_timeout=0.5)

    key = f"ws-user-{time.time_ns()}"
    live = FakeHubShell(stores.redis_url, rate_limit_holds="2/minute")
    try:
        await check(live, "holds", key)
        await check(live, "holds", key)
        with pytest.raises(RateLimited) as err:
            await check(live, "holds", key)
        assert 1 <= err.value.retry_after <= 60
        await check(live, "holds", key + "-other")
        await check(live, "bookings", key)  # another rule, another window
    finally:
        await live.redis.aclose()
    down = FakeHubShell(f"redis://127.0.0.1:{free_port()}/0", rate_limit_holds="1/minute")
    try:
        for _ in range(3):  # Redis is down: requests go through
            await asyncio.wait_for(check(down, "holds", key), 5)
    finally:
        await down.redis.aclose()


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if line.split(" ")[0].split("{")[0] == name and all(
                found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_by_route_template_and_status(hub: HubProcess, limited: HubProcess,
                                                    make_user: Any) -> None:
    before = httpx.get(limited.url + "/metrics").text
    for i in range(3):
        assert httpx.get(f"{limited.url}/events/{987650 + i}").status_code == 404
    httpx.get(limited.url + "/no/such/page")
    for i in range(9):
        login(limited, f"metrics{i}@example.test")  # the 9th is 429
    r = httpx.get(limited.url + "/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    labels = {"method": "GET", "route": "/events/{event_id}", "status": "404"}
    assert metric(text, "evently_http_requests_total", **labels) == \
        metric(before, "evently_http_requests_total", **labels) + 3
    assert metric(text, "evently_http_requests_total", method="POST", route="/auth/login",
                  status="429") >= 1
    assert metric(text, "evently_http_requests_total", route="unmatched") >= 1
    assert "987650" not in text and "/no/such/page" not in text
    assert metric(text, "evently_http_request_duration_seconds_count", method="GET",
                  route="/events/{event_id}") >= 3
    for name in ("evently_ws_sessions", "evently_holds_expired_total",
                 "evently_fanout_lag_seconds_count"):
        assert re.search(rf"^{name}(\{{[^}}]*\}})? ", text, re.M), name


def _per_worker_counts(metrics_dir: Path, route: str) -> dict[str, float]:
    """Requests to ``route`` per worker pid, read from the multiprocess files themselves."""
    import json

    from prometheus_client.mmap_dict import MmapedDict

    counts: dict[str, float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = path.stem.rsplit("_", 1)[1]
        for key, value, _ts, _pos in MmapedDict.read_all_values_from_file(str(path)):
            _metric, name, labels, _help = json.loads(key)
            if name == "evently_http_requests_total" and labels.get("route") == route:
                counts[pid] = counts.get(pid, 0) + value
    return counts


def test_metrics_sum_across_workers(stores: test_stores.TestStores) -> None:
    from concurrent.futures import ThreadPoolExecutor

    env = hub_env(stores)
    data_dir = Path(env["EVENTLY_DATA_DIR"])
    two = HubProcess(env, workers=2).start()
    try:
        assert two.proc is not None
        metrics_dir = data_dir / "metrics" / str(two.proc.pid)
        assert metrics_dir.is_dir()
        sent = 0

        def hit(_: int) -> int:
            with httpx.Client() as c:  # a new connection each: workers share the socket
                return c.get(two.url + "/healthz").status_code

        deadline = time.monotonic() + 30
        with ThreadPoolExecutor(8) as pool:
            while True:
                assert set(pool.map(hit, range(16))) == {200}
                sent += 16
                if len([v for v in _per_worker_counts(metrics_dir, "/healthz").values()
                        if v > 0]) >= 2 or time.monotonic() > deadline:
                    break
        per_worker = _per_worker_counts(metrics_dir, "/healthz")
        assert len([v for v in per_worker.values() if v > 0]) == 2, per_worker
        for _ in range(4):  # whichever worker answers, it reports the sum
            text = httpx.get(two.url + "/metrics").text
            assert metric(text, "evently_http_requests_total", method="GET",
                          route="/healthz", status="200") == sent
    finally:
        two.stop()
    # A worker that outlives its parent by a moment can leave its sample files behind; the
    # next `serve` prunes the folders of dead pids (web/cli.py), so nothing stale is summed.


def test_openapi_lists_every_contract_route(hub: HubProcess) -> None:
    r = httpx.get(hub.url + "/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    listed = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert set(CONTRACT_ROUTES) <= listed, set(CONTRACT_ROUTES) - listed
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    envelope = doc["components"]["schemas"]["ErrorEnvelope"]
    assert envelope["required"] == ["error"]
    hold = doc["paths"]["/events/{event_id}/holds"]["post"]
    assert hold["security"] == [{"bearer": []}]
    assert set(hold["responses"]) >= {"201", "400", "401", "404", "409", "422", "429"}
    assert hold["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HoldIn"}
    # the request schema is the validating model's own
    from web.schemas import HoldIn

    assert doc["components"]["schemas"]["HoldIn"]["properties"] == \
        HoldIn.model_json_schema()["properties"]
    # every $ref resolves
    refs = set(re.findall(r'"\$ref":\s*"#/([^"]+)"', r.text))
    for ref in refs:
        node: Any = doc
        for part in ref.split("/"):
            node = node[part]
    # valid against the official OpenAPI 3.1 schema (shipped inside schemathesis)
    definitions = pytest.importorskip("schemathesis.specs.openapi.definitions")
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    errors = [e.message for e in
              jsonschema_rs.validator_for(definitions.OPENAPI_31).iter_errors(doc)]
    assert errors == []


def test_docs_page_works_offline(hub: HubProcess) -> None:
    r = httpx.get(hub.url + "/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "http://" not in r.text and "https://" not in r.text and "//" not in \
        r.text.replace("<!DOCTYPE", "")
    assets = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert len(assets) >= 3
    for asset in assets:
        a = httpx.get(hub.url + asset)
        assert a.status_code == 200 and len(a.content) > 20, asset
    assert "/openapi.json" in httpx.get(hub.url + "/docs/assets/init.js").text
    assert httpx.get(hub.url + "/docs/assets/index.html").status_code == 404
