"""The seat picker under the ``/ws`` idle close (issue 10): an anonymous page that watches
nothing lets the hub close its socket and stays quiet (no reconnect loop, no "Reconnecting…"),
and the next page that watches an event dials again and is live. Real hub, Debian's chromium."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, WebSocket, expect

from tests.support.browser import SCREENSHOTS, Rest, UiSession, event_fields, ms
from tests.support.servers import HubProcess, hub_env

pytestmark = pytest.mark.e2e

IDLE = 1.5


def test_an_idle_page_is_closed_quietly_and_wakes_for_a_seat_map(
        browser: Browser, clean_stores: Any, make_user: Any, make_event: Any,
        request: pytest.FixtureRequest) -> None:
    hub = HubProcess(hub_env(clean_stores, WS_IDLE_SECONDS=str(IDLE))).start()
    session = UiSession(browser, hub.url)
    failed_before = request.session.testsfailed
    try:
        admin, buyer = make_user(role="admin"), make_user()
        event = make_event(admin["token"], **event_fields("Idle", capacity=10))
        page = session.page("anonymous")
        sockets: list[WebSocket] = []
        page.on("websocket", lambda ws: sockets.append(ws))
        page.goto("/#/bookings")  # an anonymous page that watches no event
        conn = page.locator("[data-connection]")
        expect(conn).to_have_attribute("data-connection", "live", timeout=ms(10))
        page.wait_for_timeout(IDLE * 1000 + 2500)
        assert len(sockets) == 1 and sockets[0].is_closed()  # closed by the hub, not redialled
        assert conn.get_attribute("data-connection") == "live"  # and no "Reconnecting…"

        session.open_event(page, event["id"])  # watching an event dials again
        assert len(sockets) == 2 and not sockets[1].is_closed()
        page.wait_for_timeout(IDLE * 1000 + 1000)
        assert not sockets[1].is_closed()  # an anonymous viewer stays
        booked = Rest(hub.url, buyer["token"]).book(event["id"], 1)
        seat_id = booked["seat_ids"][0]
        expect(session.seat(page, seat_id)).to_have_attribute("data-status", "sold",
                                                              timeout=ms(5))
    finally:
        if request.session.testsfailed > failed_before:
            session.screenshot_all(SCREENSHOTS, request.node.name)
        session.close()
        hub.stop()
