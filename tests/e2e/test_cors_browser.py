"""Cross-origin REST in Chromium: a page served from another port calls the hub. The origin
listed in ``CORS_ORIGINS`` gets answers (errors included, with the headers it may read) and
its preflights are cached; any other origin is refused by the browser."""

from __future__ import annotations

import functools
import http.server
import json
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import PASSWORD
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.servers import HubProcess, free_port, hub_env
from tests.support.stores import TestStores

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PAGE = "<!DOCTYPE html><html><head><title>Other app</title></head><body>app</body></html>"
# Runs in the page: every call the app makes, reported as data or as the browser's refusal.
CALLS = """async ([hub, password]) => {
  const out = {};
  async function call(name, path, init) {
    try {
      const r = await fetch(hub + path, init);
      out[name] = {status: r.status, body: await r.json().catch(() => null),
                   requestId: r.headers.get("X-Request-ID")};
    } catch (e) {
      out[name] = {refused: String(e)};
    }
  }
  const json = {"Content-Type": "application/json"};
  await call("events", "/events", {});
  await call("missing", "/events/987654", {});
  await call("signup", "/auth/signup", {method: "POST", headers: json, body: JSON.stringify(
    {name: "Cors", email: "cors-" + location.port + "@example.test", password})});
  for (const n of [1, 2]) {
    await call("login" + n, "/auth/login", {method: "POST", headers: json, body: JSON.stringify(
      {email: "cors-" + location.port + "@example.test", password})});
  }
  const token = out.login1.body && out.login1.body.access_token;
  await call("me", "/auth/me", {headers: {"Authorization": "Bearer " + token,
                                          "X-Request-ID": "from-the-app"}});
  return out;
}"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def origins() -> Iterator[tuple[str, str]]:
    """Two static servers on other ports serving the same page: ``(allowed, refused)``."""
    root = Path(tempfile.mkdtemp(prefix="evently-cors-"))
    (root / "index.html").write_text(PAGE)
    servers = []
    for _ in range(2):
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", free_port()), functools.partial(_Quiet, directory=str(root)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    try:
        yield (f"http://127.0.0.1:{servers[0].server_port}",
               f"http://127.0.0.1:{servers[1].server_port}")
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def cors_hub(stores: TestStores, origins: tuple[str, str]) -> Iterator[HubProcess]:
    hub = HubProcess(hub_env(stores, CORS_ORIGINS=f"https://elsewhere.example,{origins[0]}/",
                             LOG_FORMAT="json", LOG_LEVEL="info")).start()
    try:
        yield hub
    finally:
        hub.stop()


def _preflights(hub: HubProcess, path: str) -> int:
    time.sleep(0.3)  # the log line is written as the response ends
    count = 0
    for line in hub.log_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            count += record.get("method") == "OPTIONS" and record.get("route") == path
    return count


def test_the_allowed_origin_calls_the_api_and_others_are_refused(
        cors_hub: HubProcess, origins: tuple[str, str], clean_stores: TestStores) -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium")
    allowed, refused = origins
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(allowed + "/index.html")
            ok = page.evaluate(CALLS, [cors_hub.url, PASSWORD])
            # The JSON POSTs needed a preflight; the browser cached it (CORS_MAX_AGE_SECONDS).
            preflights = _preflights(cors_hub, "/auth/login")
            other = browser.new_page()
            other.goto(refused + "/index.html")
            no = other.evaluate(CALLS, [cors_hub.url, PASSWORD])
        finally:
            browser.close()

    assert ok["events"]["status"] == 200 and ok["events"]["body"]["items"] == []
    assert len(ok["events"]["requestId"]) == 32  # an exposed header the app can read
    assert ok["missing"]["status"] == 404
    assert ok["missing"]["body"]["error"]["code"] == "NOT_FOUND"
    assert ok["signup"]["status"] == 201, ok["signup"]
    assert ok["login1"]["status"] == ok["login2"]["status"] == 200
    assert ok["me"]["status"] == 200 and ok["me"]["body"]["email"].startswith("cors-")
    assert ok["me"]["requestId"] == "from-the-app"
    assert preflights == 1

    assert set(no) == set(ok)
    assert all("refused" in result for result in no.values()), no
    # The refused page's sign-up never reached the handler: its preflight was refused.
    port = refused.rsplit(":", 1)[1]
    login = httpx.post(cors_hub.url + "/auth/login", json={
        "email": f"cors-{port}@example.test", "password": PASSWORD})
    assert login.status_code == 401


def test_preflight_headers(cors_hub: HubProcess, origins: tuple[str, str]) -> None:
    allowed, refused = origins
    ask = {"Access-Control-Request-Method": "POST",
           "Access-Control-Request-Headers": "authorization, content-type, idempotency-key"}
    r = httpx.options(cors_hub.url + "/events/1/book", headers={"Origin": allowed, **ask})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == allowed
    assert r.headers["access-control-max-age"] == "600"
    assert "idempotency-key" in r.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in r.headers
    bad = httpx.options(cors_hub.url + "/events/1/book", headers={"Origin": refused, **ask})
    assert bad.status_code == 400 and "access-control-allow-origin" not in bad.headers
    simple = httpx.get(cors_hub.url + "/events", headers={"Origin": refused})
    assert simple.status_code == 200 and "access-control-allow-origin" not in simple.headers
