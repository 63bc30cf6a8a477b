"""The account page in Chromium at desktop and phone sizes: my bookings (event name and date)
changed (guest details, some seats given back through PATCH /bookings/{id}) and cancelled, my
waitlists left, notifications marked read, rename and password change; all by keyboard where
it matters, checked against the REST contract."""

from __future__ import annotations

import httpx
import pytest

pytest.importorskip("playwright")

from playwright.sync_api import expect

from tests.support.api import PASSWORD
from tests.support.browser import SIZES, Rest, UiSession, event_fields, ms, shot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SMALL = {"sections": [{"name": "Stalls", "rows": 2, "seats_per_row": 8}]}


def needs_self_service(base_url: str, token: str) -> None:
    """Skip when this hub has no PATCH /auth/me (the account self-service routes)."""
    r = httpx.patch(base_url + "/auth/me", json={}, headers={"Authorization": f"Bearer {token}"})
    if r.status_code in (404, 405):
        pytest.skip("this hub has no PATCH /auth/me and POST /auth/password yet")


@pytest.mark.parametrize("size", SIZES)
def test_change_a_booking_guest_and_give_back_a_seat_then_cancel_another(
        ui: UiSession, hub_server, make_user, make_event, size: str) -> None:
    admin, alice = make_user(role="admin"), make_user()
    event = make_event(admin["token"], **event_fields("Account night", seat_map=SMALL))
    rest = Rest(hub_server.url, alice["token"])
    keep = rest.book(event["id"], 3)
    drop = rest.book(event["id"], 1)
    page = ui.page(size, alice["token"], phone=SIZES[size])
    page.goto("/#/account")
    item = page.locator(f'[data-booking-id="{keep["id"]}"]').first
    expect(item).to_contain_text("Account night", timeout=ms(5))
    expect(item.locator("[data-event-date]")).to_have_attribute("datetime", event["start_time"])

    # Keyboard only: Enter opens the form and focuses its first field.
    change = item.locator('[data-action="change-booking"]')
    change.focus()
    page.keyboard.press("Enter")
    form = item.locator('form[data-form="change-booking"]')
    expect(form).to_be_visible()
    expect(change).to_have_attribute("aria-expanded", "true")
    expect(form.locator('[name="guest_name"]')).to_be_focused()
    # Giving back every seat is a cancel, not a change: said inline, nothing sent.
    for box in form.locator('[name="release"]').all():
        box.check()
    form.locator('[data-action="save-booking"]').click()
    expect(form.locator("[data-form-error]")).to_contain_text("cancel the booking")
    for box in form.locator('[name="release"]').all()[1:]:
        box.uncheck()
    page.keyboard.press("Tab")  # out of the checkboxes, then fill by label
    form.get_by_label("Guest name").fill("Grace Guest")
    form.get_by_label("Guest email").fill("grace@example.test")
    shot(page, f"account-change-booking-{size}")
    form.get_by_label("Guest email").press("Enter")

    released = keep["seat_ids"][0]
    expect(page.locator(".msg")).to_contain_text(f"Booking #{keep['id']} changed", timeout=ms(5))
    item = page.locator(f'[data-booking-id="{keep["id"]}"]').first
    expect(item.locator("[data-booking-seats]")).to_have_text(", ".join(keep["seats"][1:]))
    expect(item.locator("[data-booking-guest]")).to_contain_text("Grace Guest")
    after = rest.get(f"/bookings/{keep['id']}")
    assert after["seat_ids"] == keep["seat_ids"][1:]
    assert after["guest"]["email"] == "grace@example.test"
    seats = {s["id"]: s["status"] for s in rest.seats(event["id"])}
    assert seats[released] == "available"

    gone = page.locator(f'[data-booking-id="{drop["id"]}"]').first
    gone.locator('[data-action="cancel"]').click()
    expect(page.locator(f'[data-booking-id="{drop["id"]}"]').first).to_have_attribute(
        "data-booking-status", "CANCELLED", timeout=ms(5))
    assert rest.get(f"/bookings/{drop['id']}")["status"] == "CANCELLED"
    shot(page, f"account-bookings-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_leave_a_waitlist_and_mark_notifications_read(
        ui: UiSession, hub_server, make_user, make_event, size: str) -> None:
    admin, owner, bob = make_user(role="admin"), make_user(), make_user()
    full = make_event(admin["token"], **event_fields("Full house", capacity=2))
    Rest(hub_server.url, owner["token"]).book(full["id"], 2)
    rest = Rest(hub_server.url, bob["token"])
    entry = rest.post(f"/events/{full['id']}/waitlist", {"qty": 1})
    other = make_event(admin["token"], **event_fields("Notified", capacity=6))
    booking = rest.book(other["id"], 2)
    httpx.patch(f"{hub_server.url}/bookings/{booking['id']}",
                json={"release_seat_ids": booking["seat_ids"][:1]},
                headers={"Authorization": f"Bearer {bob['token']}"}).raise_for_status()
    unread = rest.get("/me/notifications?unread=true")
    assert unread, "a booking change leaves a notification"

    page = ui.page(size, bob["token"], phone=SIZES[size])
    page.goto("/#/account")
    line = page.locator(f'[data-waitlist-entry="{entry["id"]}"]')
    expect(line).to_contain_text("Full house", timeout=ms(5))
    notes = page.locator("[data-notification-id]")
    expect(notes).to_have_count(len(rest.get("/me/notifications")), timeout=ms(5))
    expect(page.locator('[data-notification-id][data-read="false"]')).to_have_count(len(unread))
    shot(page, f"account-waitlist-notifications-{size}")

    leave = line.locator('[data-action="leave-waitlist"]')
    leave.focus()
    page.keyboard.press("Enter")
    expect(line).to_have_count(0, timeout=ms(5))
    assert [e["status"] for e in rest.get("/waitlists/me") if e["id"] == entry["id"]] == ["LEFT"]

    first = page.locator('[data-notification-id][data-read="false"]').first
    note_id = first.get_attribute("data-notification-id")
    first.locator('[data-action="mark-read"]').click()
    expect(page.locator(f'[data-notification-id="{note_id}"]')).to_have_attribute(
        "data-read", "true", timeout=ms(5))
    assert int(note_id or 0) not in {n["id"] for n in rest.get("/me/notifications?unread=true")}


@pytest.mark.parametrize("size", SIZES)
def test_rename_and_change_password(ui: UiSession, hub_server, make_user, size: str) -> None:
    user = make_user()
    needs_self_service(hub_server.url, user["token"])
    page = ui.page(size, user["token"], refresh_token=user["refresh_token"], phone=SIZES[size])
    page.goto("/#/account")
    profile = page.locator('form[data-form="profile"]')
    profile.get_by_label("Name").fill("Renamed Person")
    profile.get_by_label("Name").press("Enter")
    expect(page.locator(".msg")).to_contain_text("Renamed Person", timeout=ms(5))
    assert Rest(hub_server.url, user["token"]).get("/auth/me")["name"] == "Renamed Person"

    pw = page.locator('form[data-form="password"]')
    pw.get_by_label("Current password").fill("not-my-password")
    pw.get_by_label("New password (8 characters or more)").fill("a-new-pass-123")
    pw.get_by_label("New password again").fill("a-new-pass-123")
    pw.locator('[data-action="change-password"]').click()
    expect(pw.locator("[data-form-error]")).not_to_be_empty(timeout=ms(5))
    pw.get_by_label("Current password").fill(PASSWORD)
    pw.get_by_label("New password again").fill("a-new-pass-124")
    pw.locator('[data-action="change-password"]').click()
    expect(pw.locator("[data-form-error]")).to_contain_text("differ")
    pw.get_by_label("New password again").fill("a-new-pass-123")
    shot(page, f"account-password-{size}")
    pw.locator('[data-action="change-password"]').click()
    expect(page.locator(".msg")).to_contain_text("Password changed", timeout=ms(5))
    login = {"email": user["email"], "password": "a-new-pass-123"}
    assert httpx.post(hub_server.url + "/auth/login", json=login).status_code == 200
    login["password"] = PASSWORD
    assert httpx.post(hub_server.url + "/auth/login", json=login).status_code == 401
    # This tab is still signed in after the change.
    page.reload()
    expect(page.locator('form[data-form="profile"]')).to_be_visible(timeout=ms(5))
