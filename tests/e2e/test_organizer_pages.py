"""An organizer's pages in Chromium at desktop and phone sizes: "My events" with figures that
follow bookings live (the `analytics` stream, scoped to the organizer's events) and the guest
list as CSV; sign-up as an organizer on the sign-up form, with ORGANIZER_SIGNUP open, approval
and closed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("playwright")

from playwright.sync_api import expect

from tests.support.browser import SIZES, Rest, UiSession, event_fields, ms, shot
from tests.support.servers import HubProcess, hub_env

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def role_signup_supported(base_url: str) -> bool:
    """Whether POST /auth/signup knows `role` (an unknown field is a 400 or 422)."""
    r = httpx.post(base_url + "/auth/signup", json={"name": "x", "email": "probe", "password": "x",
                                                    "role": "organizer"})
    problem = r.json().get("error", {}) if r.content else {}
    return "role" not in str(problem.get("details", "")) or r.status_code not in (400, 422)


@pytest.mark.parametrize("size", SIZES)
def test_my_events_follow_bookings_live_and_export_the_guest_list(
        ui: UiSession, hub_server, make_user, make_event, size: str, tmp_path: Path) -> None:
    organizer, other, buyer = make_user(role="organizer"), make_user(role="organizer"), make_user()
    mine = make_event(organizer["token"], **event_fields("Organizer gala", capacity=10))
    theirs = make_event(other["token"], **event_fields("Someone else's", capacity=10))
    Rest(hub_server.url, buyer["token"]).book(mine["id"], 2)

    page = ui.page(size, organizer["token"], phone=SIZES[size])
    page.goto("/")
    nav = page.locator('[data-nav="my-events"]')
    expect(nav).to_be_visible(timeout=ms(5))
    nav.focus()
    page.keyboard.press("Enter")
    row = page.locator(f'tr[data-event-id="{mine["id"]}"]')
    expect(row.locator('[data-field="sold"]')).to_have_text("2", timeout=ms(5))
    expect(row.locator('[data-field="available"]')).to_have_text("8")
    expect(page.locator(f'tr[data-event-id="{theirs["id"]}"]')).to_have_count(0)

    # Live: a booking elsewhere moves the row without a reload.
    expect(page.locator('[data-field="at"]')).not_to_have_text("waiting…", timeout=ms(5))
    Rest(hub_server.url, buyer["token"]).book(mine["id"], 3)
    expect(row.locator('[data-field="sold"]')).to_have_text("5", timeout=ms(4))
    expect(row.locator('[data-field="available"]')).to_have_text("5")
    expect(row.locator('[data-field="utilization"]')).to_have_text("50%")
    shot(page, f"my-events-{size}")

    with page.expect_download(timeout=ms(5)) as info:
        row.locator('[data-action="attendees-csv"]').click()
    path = tmp_path / "guests.csv"
    info.value.save_as(path)
    text = path.read_text()
    assert info.value.suggested_filename == f"event-{mine['id']}-attendees.csv"
    assert buyer["email"] in text and text.count("\n") >= 3, text


def test_my_events_tells_a_ticket_buyer_it_is_for_organizers(
        ui: UiSession, hub_server, make_user) -> None:
    user = make_user()
    page = ui.page("buyer", user["token"])
    page.goto("/#/my-events")
    expect(page.locator(".organizer-page [role=status]")).to_contain_text("for organizers",
                                                                          timeout=ms(5))
    expect(page.locator('[data-nav="my-events"]')).to_be_hidden()


RUN = uuid.uuid4().hex[:8]


def email_of(name: str) -> str:
    """A fresh address per test run, so reruns on kept stores don't collide."""
    return f"{name.lower().replace(' ', '.')}.{RUN}@example.test"


def fill_signup(page: Any, name: str) -> None:
    """Open the dialog and fill the sign-up form as someone who wants to organize."""
    page.goto("/")
    page.locator('[data-action="sign-in"]').click()
    form = page.locator('form[data-form="signup"]')
    form.get_by_label("Name").fill(name)
    form.get_by_label("Email").fill(email_of(name))
    form.get_by_label("Password").fill("organizer-pass-1")
    radio = form.get_by_label("Organize events")
    radio.focus()
    page.keyboard.press("Space")
    expect(radio).to_be_checked()


@pytest.mark.parametrize("size", SIZES)
def test_sign_up_as_an_organizer_when_open(ui: UiSession, hub_server, clean_stores,
                                           size: str) -> None:
    if not role_signup_supported(hub_server.url):
        pytest.skip("this hub's POST /auth/signup has no role field yet")
    page = ui.page(size, phone=SIZES[size])
    fill_signup(page, f"Olga Open {size}")
    shot(page, f"signup-organizer-{size}")
    page.locator('[data-action="signup"]').click()
    expect(page.locator('[data-signup-outcome="organizer"]')).to_be_visible(timeout=ms(5))
    expect(page.locator(".organizer-page [role=status]")).to_contain_text("no events yet",
                                                                          timeout=ms(5))
    expect(page.locator('[data-nav="my-events"]')).to_be_visible()
    shot(page, f"signup-organizer-done-{size}")


@pytest.fixture(scope="module")
def strict_hub(stores: Any, hub_server: HubProcess) -> Iterator[HubProcess]:
    """A second hub on the same stores with ORGANIZER_SIGNUP=approval (restarted as needed)."""
    hub = HubProcess(hub_env(stores, ORGANIZER_SIGNUP="approval")).start()
    try:
        yield hub
    finally:
        hub.stop()


def test_sign_up_as_an_organizer_pending_then_closed(browser, strict_hub: HubProcess) -> None:
    if not role_signup_supported(strict_hub.url):
        pytest.skip("this hub's POST /auth/signup has no role field yet")
    ui = UiSession(browser, strict_hub.url)
    try:
        page = ui.page("approval")
        fill_signup(page, "Paula Pending")
        page.locator('[data-action="signup"]').click()
        outcome = page.locator('[data-signup-outcome="pending"]')
        expect(outcome).to_contain_text("pending", timeout=ms(5))
        expect(page.locator('[data-organizer-request="pending"]')).to_be_visible(timeout=ms(5))
        expect(page.locator('[data-nav="my-events"]')).to_be_hidden()
        shot(page, "signup-organizer-pending-desktop")

        strict_hub.stop()
        strict_hub.env["ORGANIZER_SIGNUP"] = "closed"
        strict_hub.start()
        page = ui.page("closed", phone=True)
        fill_signup(page, "Carl Closed")
        page.locator('[data-action="signup"]').click()
        error = page.locator('[data-auth-error][data-signup-outcome="closed"]')
        expect(error).to_contain_text("closed", timeout=ms(5))
        expect(page.locator("#auth")).to_be_visible()
        shot(page, "signup-organizer-closed-phone")
        r = httpx.post(strict_hub.url + "/auth/login",
                       json={"email": email_of("Carl Closed"), "password": "organizer-pass-1"})
        assert r.status_code == 401, "a refused organizer sign-up creates no account"
    finally:
        ui.close()


def test_account_and_my_events_pass_the_page_policy(ui: UiSession, hub_server, make_user,
                                                    make_event, tmp_path: Path) -> None:
    """No inline script or style sneaks in: the strict CSP reports nothing on either page,
    the change form and the CSV download included."""
    organizer = make_user(role="organizer")
    event = make_event(organizer["token"], **event_fields("Policy night", capacity=4))
    Rest(hub_server.url, organizer["token"]).book(event["id"], 2)
    page = ui.page("organizer", organizer["token"])
    page.context.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
    page.goto("/#/account")
    page.locator('[data-action="change-booking"]').first.click()
    expect(page.locator('form[data-form="change-booking"]')).to_be_visible(timeout=ms(5))
    page.goto("/#/my-events")
    row = page.locator(f'tr[data-event-id="{event["id"]}"]')
    expect(row.locator('[data-field="sold"]')).to_have_text("2", timeout=ms(5))
    with page.expect_download(timeout=ms(5)) as info:
        row.locator('[data-action="attendees-csv"]').click()
    info.value.save_as(tmp_path / "g.csv")
    page.wait_for_timeout(ms(0.5))
    assert page.evaluate("window.__csp") == []
    assert [line for line in ui.console if "Content Security Policy" in line] == []
