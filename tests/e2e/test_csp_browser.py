"""The pages pass their Content-Security-Policy in a real Chromium: no violation is reported on
the seat picker (with its live WebSocket), the admin dashboard or the API docs, and the policy
really is enforced (an inline script planted in the page does not run)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright")

from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, UiSession, ms
from tests.support.servers import HubProcess

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# Recorded in the page before any of its scripts run.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(
    e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || '') + ':' + e.lineNumber));
"""


@pytest.fixture(scope="module")
def browser(hub_server: HubProcess) -> Iterator[Browser]:
    """Chromium for this module (the hub starts first: see tests/e2e/test_browser.py)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def ui(browser: Browser, hub: HubProcess) -> Iterator[UiSession]:
    session = UiSession(browser, hub.url)
    yield session
    session.close()


def violations(ui: UiSession, page: Page) -> list[Any]:
    """Violations seen by the page's listener and Chromium's console reports."""
    page.wait_for_timeout(ms(0.5))  # the events are dispatched asynchronously
    seen = list(page.evaluate("window.__cspViolations"))
    return seen + [line for line in ui.console if "Content Security Policy" in line]


def open_page(ui: UiSession, label: str, path: str, token: str | None = None) -> Page:
    page = ui.page(label, token)
    page.context.add_init_script(WATCH_VIOLATIONS)
    response = page.goto(path)
    assert response is not None and "frame-ancestors 'none'" in \
        response.headers["content-security-policy"]
    return page


def test_the_seat_picker_passes_its_policy(ui: UiSession, make_user: Any,
                                           make_event: Any) -> None:
    admin = make_user("admin")
    user = make_user()
    event = make_event(admin["token"], capacity=12)
    page = open_page(ui, "buyer", "/", user["token"])
    ui.open_event(page, event["id"])  # the map drawn and the WebSocket live
    assert violations(ui, page) == []


def test_the_admin_dashboard_passes_its_policy(ui: UiSession, make_user: Any,
                                               make_event: Any) -> None:
    admin = make_user("admin")
    make_event(admin["token"])
    page = open_page(ui, "admin", "/admin", admin["token"])
    expect(page.locator("[data-event-id]").first).to_be_visible(timeout=ms(10))
    assert violations(ui, page) == []


def test_the_api_docs_pass_their_policy(ui: UiSession) -> None:
    page = open_page(ui, "docs", "/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=ms(15))
    assert violations(ui, page) == []


def test_the_policy_is_enforced(ui: UiSession) -> None:
    page = open_page(ui, "attacker", "/")
    page.evaluate("""() => {
        window.__ran = false;
        const s = document.createElement('script');
        s.textContent = 'window.__ran = true';
        document.body.appendChild(s);
    }""")
    assert page.evaluate("window.__ran") is False
    assert any("script-src" in str(v) for v in violations(ui, page))
