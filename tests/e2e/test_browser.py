"""The seat picker and the admin dashboard in a real browser against a real hub.

Two browser contexts play two people. Everything goes through the pages' stable hooks
(data-seat-id/data-status, data-action, data-connection, data-event-id + data-field) and the
public REST contract. Fixtures: ``browser`` and ``ui`` (tests/e2e/conftest.py), ``hub_server``
(.url, .restart()), ``make_user(role=...)`` and ``make_event(token, **fields)``.

A failing test leaves screenshots in test-output/screenshots/<test name>.png.
"""

from __future__ import annotations

import re
import time

import pytest

pytest.importorskip("playwright")

from playwright.sync_api import Browser, Page, expect

from tests.support.browser import SCREENSHOTS, Rest, UiSession, event_fields, ms
from tests.support.servers import HubProcess, hub_env

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

COUNTDOWN = re.compile(r"^\d+:\d\d$")  # m:ss
LIVE_WITHIN = 1.0  # seconds for a change by one person to reach another's screen


def seat_ids(rest: Rest, event_id: int) -> list[int]:
    return [s["id"] for s in rest.seats(event_id)]


def sign_in_with_form(page: Page, user: dict) -> None:
    page.goto("/")
    page.locator('[data-action="sign-in"]').click()
    form = page.locator('form[data-form="login"]')
    form.locator('[name="email"]').fill(user["email"])
    form.locator('[name="password"]').fill(user["password"])
    form.locator('button[type="submit"]').click()
    expect(page.locator('[data-action="logout"]')).to_be_visible(timeout=ms(5))


def test_hold_then_confirm_is_seen_live_by_another_user(
    ui: UiSession, hub_server, make_user, make_event
):
    admin = make_user(role="admin")
    alice, bob = make_user(), make_user()
    event = make_event(
        admin["token"],
        **event_fields(
            "Live hold", seat_map={"sections": [{"name": "Stalls", "rows": 2, "seats_per_row": 6}]}
        ),
    )
    rest = Rest(hub_server.url)
    seat = rest.seats(event["id"])[3]

    a = ui.page("alice")
    sign_in_with_form(a, alice)
    ui.open_event(a, event["id"])
    b = ui.open_event(ui.page("bob", bob["token"]), event["id"])

    a_seat, b_seat = ui.seat(a, seat["id"]), ui.seat(b, seat["id"])
    expect(b_seat).to_have_attribute("data-status", "available")
    label = f"Stalls row {seat['row']} seat {seat['number']}, available"
    expect(a_seat).to_have_attribute("aria-label", label)

    a_seat.click()
    expect(a_seat).to_have_attribute("aria-pressed", "true")
    a.locator('[data-action="hold"]').click()
    expect(a_seat).to_have_attribute("data-status", "mine", timeout=ms(5))
    expect(b_seat).to_have_attribute("data-status", "held", timeout=ms(LIVE_WITHIN))
    expect(a.locator('[data-count="mine"]')).to_have_text("1")
    expect(b.locator('[data-count="held"]')).to_have_text("1")

    hold_card = a.locator('[data-hold-id][data-kind="hold"]')
    expect(hold_card.locator("[data-countdown]")).to_have_text(COUNTDOWN)
    hold_card.locator('[data-action="confirm"]').click()
    expect(a_seat).to_have_attribute("data-status", "sold", timeout=ms(5))
    expect(b_seat).to_have_attribute("data-status", "sold", timeout=ms(LIVE_WITHIN))
    expect(hold_card).to_have_count(0)
    expect(a.locator('[data-action="cancel"]')).to_have_count(1, timeout=ms(5))
    # Bob can't pick a sold seat (aria-disabled keeps it focusable for screen readers).
    expect(b_seat).to_be_disabled()
    expect(b_seat).to_have_attribute("aria-label", label.replace("available", "sold"))


def test_expired_hold_turns_available_for_both(ui: UiSession, hub_server, make_user, make_event):
    admin = make_user(role="admin")
    alice, bob = make_user(), make_user()
    event = make_event(
        admin["token"], **event_fields("Short holds", capacity=10, hold_ttl_seconds=2)
    )
    seat_id = seat_ids(Rest(hub_server.url), event["id"])[0]

    a = ui.open_event(ui.page("alice", alice["token"]), event["id"])
    b = ui.open_event(ui.page("bob", bob["token"]), event["id"])
    ui.seat(a, seat_id).click()
    a.locator('[data-action="hold"]').click()
    expect(ui.seat(a, seat_id)).to_have_attribute("data-status", "mine", timeout=ms(5))
    expect(ui.seat(b, seat_id)).to_have_attribute("data-status", "held", timeout=ms(LIVE_WITHIN))

    # DESIGN.md invariant 6: announced available within a second of expiry.
    expect(ui.seat(a, seat_id)).to_have_attribute("data-status", "available", timeout=ms(2 + 1 + 2))
    expect(ui.seat(b, seat_id)).to_have_attribute(
        "data-status", "available", timeout=ms(LIVE_WITHIN + 1)
    )
    expect(a.locator("[data-hold-id]")).to_have_count(0, timeout=ms(5))


def test_waitlist_offer_arrives_live_and_is_confirmed(
    ui: UiSession, hub_server, make_user, make_event
):
    admin = make_user(role="admin")
    alice, bob = make_user(), make_user()
    event = make_event(admin["token"], **event_fields("Tiny gig", capacity=1))
    seat_id = seat_ids(Rest(hub_server.url), event["id"])[0]

    a = ui.open_event(ui.page("alice", alice["token"]), event["id"])
    a.locator('[data-form="best"] [name="qty"]').fill("1")
    a.locator('[data-action="hold-best"]').click()
    a.locator('[data-hold-id] [data-action="confirm"]').click()
    expect(ui.seat(a, seat_id)).to_have_attribute("data-status", "sold", timeout=ms(5))

    b = ui.open_event(ui.page("bob", bob["token"]), event["id"])
    expect(ui.seat(b, seat_id)).to_have_attribute("data-status", "sold")
    waitlist = b.locator("[data-waitlist]")
    expect(waitlist).to_be_visible()
    waitlist.locator('[name="qty"]').fill("1")
    waitlist.locator('[data-action="join-waitlist"]').click()
    expect(waitlist.locator("[data-waitlist-entry]")).to_be_visible(timeout=ms(5))

    a.locator('[data-action="cancel"]').first.click()
    offer = b.locator('[data-hold-id][data-kind="offer"]')
    expect(offer).to_be_visible(timeout=ms(3))
    expect(offer.locator("[data-countdown]")).not_to_have_text("expired")
    expect(ui.seat(b, seat_id)).to_have_attribute("data-status", "mine", timeout=ms(LIVE_WITHIN))
    expect(ui.seat(a, seat_id)).to_have_attribute("data-status", "held", timeout=ms(LIVE_WITHIN))

    offer.locator('[data-action="confirm"]').click()
    expect(ui.seat(b, seat_id)).to_have_attribute("data-status", "sold", timeout=ms(5))
    expect(ui.seat(a, seat_id)).to_have_attribute("data-status", "sold", timeout=ms(LIVE_WITHIN))
    expect(offer).to_have_count(0)
    mine = Rest(hub_server.url, bob["token"]).get("/me/bookings")
    assert [bk["status"] for bk in mine] == ["CONFIRMED"]


def test_map_recovers_after_server_restart(ui: UiSession, hub_server, make_user, make_event):
    admin = make_user(role="admin")
    alice, bob = make_user(), make_user()
    event = make_event(admin["token"], **event_fields("Restart", capacity=20))
    bob_rest = Rest(hub_server.url, bob["token"])

    a = ui.open_event(ui.page("alice", alice["token"]), event["id"])
    a.evaluate("""() => {
        window.__connectionStates = [];
        const el = document.querySelector('[data-connection]');
        new MutationObserver(() => window.__connectionStates.push(el.dataset.connection))
            .observe(el, {attributes: true, attributeFilter: ['data-connection']});
    }""")
    bob_rest.book(event["id"], 2)
    expect(a.locator('[data-count="sold"]')).to_have_text("2", timeout=ms(3))

    hub_server.restart()
    # Changes the page may miss while it is still backing off before reconnecting.
    bob_rest.book(event["id"], 3)
    bob_rest.post(f"/events/{event['id']}/holds", {"qty": 2})

    expect(a.locator("[data-connection]")).to_have_attribute(
        "data-connection", "live", timeout=ms(20)
    )
    states = a.evaluate("window.__connectionStates")
    assert "reconnecting" in states, states

    deadline = time.monotonic() + 10 * ms(1) / 1000
    while True:
        server = {s["id"]: s["status"] for s in Rest(hub_server.url).seats(event["id"])}
        shown = {k: ("held" if v == "mine" else v) for k, v in ui.statuses(a).items()}
        if shown == server or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert shown == server
    assert list(server.values()).count("sold") == 5


def test_admin_dashboard_counters_follow_bookings(ui: UiSession, hub_server, make_user, make_event):
    admin, buyer = make_user(role="admin"), make_user()
    event = make_event(admin["token"], **event_fields("Dashboard", capacity=30))

    page = ui.page("admin", admin["token"])
    page.goto("/admin")
    row = page.locator(f'tr[data-event-id="{event["id"]}"]')
    expect(page.locator("[data-connection]")).to_have_attribute(
        "data-connection", "live", timeout=ms(10)
    )
    expect(row.locator('[data-field="sold"]')).to_have_text("0", timeout=ms(5))
    expect(row.locator('[data-field="available"]')).to_have_text("30")

    Rest(hub_server.url, buyer["token"]).book(event["id"], 3)
    expect(row.locator('[data-field="sold"]')).to_have_text("3", timeout=ms(4))
    expect(row.locator('[data-field="available"]')).to_have_text("27", timeout=ms(2))
    assert row.locator("svg.sparkline polyline").count() >= 2

    row.locator('[data-action="deactivate"]').click()
    expect(row.locator('[data-action="reactivate"]')).to_be_visible(timeout=ms(5))
    assert Rest(hub_server.url).get(f"/events/{event['id']}")["status"] == "inactive"
    row.locator('[data-action="reactivate"]').click()
    expect(row.locator('[data-action="deactivate"]')).to_be_visible(timeout=ms(5))

    row.locator('[data-action="attendees"]').click()
    expect(page.locator("[data-attendees] tbody tr")).to_have_count(1, timeout=ms(5))


def test_admin_page_refuses_non_admins(ui: UiSession, make_user):
    user = make_user()
    page = ui.page("user", user["token"])
    page.goto("/admin")
    expect(page.locator('[data-state="not-admin"]')).to_be_visible(timeout=ms(5))
    expect(page.locator("#dashboard")).to_be_hidden()


def test_admin_creates_event_with_seat_map(ui: UiSession, hub_server, make_user):
    admin = make_user(role="admin")
    page = ui.page("admin", admin["token"])
    page.goto("/admin")
    form = page.locator('form[data-form="create-event"]')
    form.locator('[name="name"]').fill("Made in the browser")
    form.locator('[name="venue"]').fill("Studio")
    form.locator('[data-action="create-event"]').click()
    row = page.locator("tr[data-event-id]", has_text="Made in the browser")
    expect(row).to_have_count(1, timeout=ms(5))
    event_id = int(row.get_attribute("data-event-id"))
    seats = Rest(hub_server.url).seats(event_id)
    # The form's default map: Stalls 6 × 12 and Balcony 3 × 10.
    assert len(seats) == 6 * 12 + 3 * 10
    assert {s["section"] for s in seats} == {"Stalls", "Balcony"}


def test_seat_picker_works_on_a_phone_with_the_keyboard(
    ui: UiSession, hub_server, make_user, make_event
):
    admin, user = make_user(role="admin"), make_user()
    event = make_event(
        admin["token"],
        **event_fields(
            "Phone", seat_map={"sections": [{"name": "Stalls", "rows": 3, "seats_per_row": 12}]}
        ),
    )
    page = ui.open_event(ui.page("phone", user["token"], phone=True), event["id"])
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways on a phone ({width}px)"

    first = page.locator('[data-seat-id][tabindex="0"]')
    first.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    focused = page.locator("[data-seat-id]:focus")
    expect(focused).to_have_attribute("aria-label", "Stalls row B seat 2, available")
    seat = ui.seat(page, int(focused.get_attribute("data-seat-id")))
    page.keyboard.press("Enter")
    expect(seat).to_have_attribute("aria-pressed", "true")
    page.locator('[data-action="hold"]').click()
    expect(seat).to_have_attribute("data-status", "mine", timeout=ms(5))
    # Focus moves on to the new hold's confirm button.
    expect(page.locator('[data-hold-id] [data-action="confirm"]')).to_be_focused()


def test_expired_access_token_is_refreshed_without_losing_the_page(
    browser: Browser, clean_stores, make_user, make_event, request: pytest.FixtureRequest
):
    short = HubProcess(hub_env(clean_stores, ACCESS_TOKEN_TTL_SECONDS="10")).start()
    session = UiSession(browser, short.url)
    failed_before = request.session.testsfailed
    try:
        admin, user = make_user(role="admin"), make_user()
        event = make_event(admin["token"], **event_fields("Refresh", capacity=10))
        page = session.page("user")
        sign_in_with_form(page, user)
        session.open_event(page, event["id"])
        first = page.evaluate("JSON.parse(localStorage.getItem('evently.auth')).access_token")

        page.wait_for_timeout(11_500)  # past the access token's lifetime: auth.expired
        seat_id = Rest(short.url).seats(event["id"])[0]["id"]
        session.seat(page, seat_id).click()
        page.locator('[data-action="hold"]').click()
        expect(session.seat(page, seat_id)).to_have_attribute("data-status", "mine", timeout=ms(5))
        expect(page.locator('[data-action="logout"]')).to_be_visible()
        second = page.evaluate("JSON.parse(localStorage.getItem('evently.auth')).access_token")
        assert second != first
    finally:
        if request.session.testsfailed > failed_before:
            session.screenshot_all(SCREENSHOTS, request.node.name)
        session.close()
        short.stop()
