"""Browser fixtures for the seat-picker test modules: one Chromium per module (see
test_browser.py's ``browser`` for why the scope matters) and a :class:`UiSession` per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.browser_helpers import SCREENSHOTS


@pytest.fixture(scope="module")
def browser(hub_server):  # type: ignore[no-untyped-def]
    """Debian's chromium through Python playwright, started after the hub."""
    playwright = pytest.importorskip("playwright.sync_api")
    from tests.e2e.browser_helpers import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def ui(browser, hub_server, request: pytest.FixtureRequest) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """Browser contexts for one test; screenshots of every page if the test failed."""
    from tests.e2e.browser_helpers import UiSession

    session = UiSession(browser, hub_server.url)
    failed_before = request.session.testsfailed
    yield session
    if request.session.testsfailed > failed_before:
        session.screenshot_all(SCREENSHOTS, request.node.name)
        for line in session.console[-50:]:
            print(line)
    session.close()
