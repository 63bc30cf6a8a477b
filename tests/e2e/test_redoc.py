"""``/redoc``: the OpenAPI document as a ReDoc page that renders in Chromium with every
request outside the hub refused (it works offline) and nothing refused by the hub's
Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.e2e


def test_redoc_page_and_bundle_are_served_by_the_hub(hub_server) -> None:
    page = httpx.get(hub_server.url + "/redoc", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert '<script type="module" src="/redoc/assets/init.js">' in page.text
    init = httpx.get(hub_server.url + "/redoc/assets/init.js", timeout=10)
    assert 'from "/redoc/assets/redoc.standalone.js"' in init.text
    assert "http" not in page.text  # nothing from elsewhere
    bundle = httpx.get(hub_server.url + "/redoc/assets/redoc.standalone.js", timeout=10)
    assert bundle.status_code == 200 and len(bundle.content) > 500_000
    assert "javascript" in bundle.headers["content-type"]
    missing = httpx.get(hub_server.url + "/redoc/assets/..%2Fpyproject.toml", timeout=10)
    assert missing.status_code == 404
    assert "/redoc" in httpx.get(hub_server.url + "/openapi.json").json()["paths"]


@pytest.mark.browser
def test_redoc_renders_offline_in_chromium(hub_server) -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium")
    outside: list[str] = []
    console: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))

            def only_the_hub(route) -> None:
                if route.request.url.startswith((hub_server.url, "data:", "blob:")):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", only_the_hub)
            page.goto(hub_server.url + "/redoc")
            page.get_by_text("/auth/password", exact=True).first.wait_for(timeout=20_000)
            assert page.get_by_text("Evently Hub (0.1.0)").first.is_visible()
            page.get_by_text("/auth/signup", exact=True).first.click()
            page.get_by_text("Create an account (role organizer").first.wait_for(
                timeout=10_000)
        finally:
            browser.close()
    assert outside == []
    # The one thing refused: ReDoc's attribution logo on its CDN (it then hides itself).
    refused = [c for c in console if "Content Security Policy" in c]
    assert all("cdn.redoc.ly" in c and "img-src" in c for c in refused), refused
    assert not [c for c in console if "pageerror" in c or "otel" in c], console
