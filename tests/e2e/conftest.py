"""Browser fixtures of the e2e tier (the browser test modules share them): one Chromium per
module and a :class:`tests.support.browser.UiSession` per test. Playwright is imported only
when a test asks for them, so the other e2e modules run without it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module")
def browser(hub_server: Any) -> Iterator[Any]:
    """Debian's chromium through Python playwright, for one module only.

    Playwright's sync API keeps an event loop marked running in this thread while it is
    started, so the hub (whose set-up calls asyncio.run) must start first, and it must stop
    before other modules' asyncio tests run.
    """
    playwright = pytest.importorskip("playwright.sync_api")
    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def ui(browser: Any, hub_server: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Browser contexts for one test; screenshots of every page (test-output/screenshots/)
    and the last console lines if the test failed."""
    from tests.support.browser import SCREENSHOTS, UiSession

    session = UiSession(browser, hub_server.url)
    failed_before = request.session.testsfailed
    yield session
    # The call phase's report is counted before fixtures are torn down, so a rise here means
    # this test failed; no reporting hook needed.
    if request.session.testsfailed > failed_before:
        session.screenshot_all(SCREENSHOTS, request.node.name)
        for line in session.console[-50:]:
            print(line)
    session.close()


@pytest.fixture(scope="module")
def fuzz_hub(stores: Any) -> Iterator[Any]:
    """A hub process of the module's own (its log is that module's alone, so a fuzzer can
    assert it holds no traceback), on emptied stores."""
    from tests.support.servers import HubProcess, hub_env
    from tests.support.stores import clean, run_sync

    run_sync(clean(stores))
    hub = HubProcess(hub_env(stores)).start()
    try:
        yield hub
    finally:
        hub.stop()
