"""The docs the hub serves: ``/asyncapi.json`` is the repository's document, ``/docs`` (REST)
and ``/docs/ws`` (WebSocket) link each other, and ``/docs/ws`` renders every op and push in
Chromium with every request outside the hub refused (it works offline)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.test_docs import CONTRACT_OPS, CONTRACT_PUSHES
from web import asyncapi

pytestmark = pytest.mark.e2e


def test_asyncapi_json_is_served(hub_server) -> None:
    r = httpx.get(hub_server.url + "/asyncapi.json", timeout=10)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == json.loads(json.dumps(asyncapi.document()))


def test_rest_and_websocket_docs_link_each_other(hub_server) -> None:
    page = httpx.get(hub_server.url + "/docs/ws", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'href="/docs"' in page.text and "/asyncapi.json" in page.text
    # offline: the only script is the hub's own file (no CDN, no inline script under the CSP)
    assert re.findall(r'<script[^>]*src="([^"]+)"', page.text) == ["/static/asyncapi-page.js"]
    assert httpx.get(hub_server.url + "/static/asyncapi-page.js", timeout=10).status_code == 200
    described = httpx.get(hub_server.url + "/openapi.json", timeout=10).json()
    assert "/docs/ws" in described["info"]["description"]
    assert "CONTRACT" not in described["info"]["description"]


@pytest.mark.browser
def test_websocket_docs_render_offline_in_chromium(hub_server) -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium")
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()

            def only_the_hub(route) -> None:
                if route.request.url.startswith(hub_server.url):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", only_the_hub)
            page.goto(hub_server.url + "/docs/ws")
            page.wait_for_selector("#op-push_auth_expired", timeout=10_000)
            titles = set(page.locator("h3[id^=op-] code").all_inner_texts())
            assert titles == CONTRACT_OPS | CONTRACT_PUSHES
            assert page.locator("#schema-Booking").count() == 1
            assert page.title() == "Evently Hub WebSocket protocol"
        finally:
            browser.close()
    assert outside == []
