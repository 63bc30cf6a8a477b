"""The seat picker's pages around the map, in Chromium at desktop and phone sizes: signed-out
visitors see events first and sign in from a dialog; my booked seats are marked; event cards
and the map show the same live figures; toasts replace each other; the admin charts."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright")

from playwright.sync_api import expect

from tests.support.api import PASSWORD
from tests.support.browser import SIZES, Rest, UiSession, event_fields, ms, shot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SMALL = {"sections": [{"name": "Stalls", "rows": 2, "seats_per_row": 8}]}


@pytest.mark.parametrize("size", SIZES)
def test_signed_out_visitors_see_events_and_a_hold_asks_them_to_sign_in(
        ui: UiSession, hub_server, make_user, make_event, size: str) -> None:
    admin, user = make_user(role="admin"), make_user()
    event = make_event(admin["token"], **event_fields("Open to all", seat_map=SMALL))
    page = ui.page(size, phone=SIZES[size])
    page.goto("/")
    card = page.locator(f'.event-card[data-event-id="{event["id"]}"]')
    expect(card).to_be_in_viewport(timeout=ms(5))
    expect(page.locator('form[data-form="login"]')).to_be_hidden()
    shot(page, f"events-signed-out-{size}")
    page.locator('[data-action="sign-in"]').click()
    expect(page.locator("#auth")).to_be_visible()
    expect(page.locator('form[data-form="login"] [name="email"]')).to_be_focused()
    shot(page, f"sign-in-dialog-{size}")
    page.locator('[data-action="close-sign-in"]').click()
    expect(page.locator("#auth")).to_be_hidden()

    card.locator("a").click()
    seat = page.locator("[data-seat-id]").nth(3)
    expect(seat).to_be_visible(timeout=ms(5))
    seat.click()
    page.locator('[data-action="hold"]').click()
    dialog = page.locator("#auth")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-auth-why]")).to_contain_text("Sign in to hold")
    dialog.locator('form[data-form="login"] [name="email"]').fill(user["email"])
    dialog.locator('form[data-form="login"] [name="password"]').fill("wrong-password")
    dialog.locator('[data-action="login"]').click()
    expect(dialog.locator("[data-auth-error]")).to_contain_text("Wrong email or password")
    dialog.locator('form[data-form="login"] [name="password"]').fill(PASSWORD)
    dialog.locator('[data-action="login"]').click()
    expect(dialog).to_be_hidden(timeout=ms(5))
    # The selection survived signing in: holding it now works.
    expect(seat).to_have_attribute("aria-pressed", "true")
    page.locator('[data-action="hold"]').click()
    expect(seat).to_have_attribute("data-status", "mine", timeout=ms(5))


@pytest.mark.parametrize("size", SIZES)
def test_my_booked_seats_are_marked_and_my_bookings_show_the_event_date(
        ui: UiSession, hub_server, make_user, make_event, size: str) -> None:
    admin, alice, bob = make_user(role="admin"), make_user(), make_user()
    event = make_event(admin["token"], **event_fields("Mine", seat_map=SMALL))
    mine = Rest(hub_server.url, alice["token"]).book(event["id"], 2)
    theirs = Rest(hub_server.url, bob["token"]).book(event["id"], 3)
    page = ui.open_event(ui.page(size, alice["token"], phone=SIZES[size]), event["id"])
    for seat_id in mine["seat_ids"]:
        seat = ui.seat(page, seat_id)
        expect(seat).to_have_attribute("data-mine", "booked", timeout=ms(5))
        expect(seat).to_have_attribute("data-status", "sold")
        assert (seat.get_attribute("aria-label") or "").endswith("booked by you")
    for seat_id in theirs["seat_ids"]:
        expect(ui.seat(page, seat_id)).not_to_have_attribute("data-mine", "booked")
        expect(ui.seat(page, seat_id)).to_have_attribute("data-status", "sold")
    expect(page.locator('[data-count="booked"]')).to_have_text("2")
    expect(page.locator('[data-count="sold"]')).to_have_text("5")
    # A sold seat of mine looks different from someone else's.
    colours = page.evaluate("""([a, b]) => [a, b].map((id) => getComputedStyle(
        document.querySelector(`[data-seat-id="${id}"]`)).fill)""",
                            [mine["seat_ids"][0], theirs["seat_ids"][0]])
    assert colours[0] != colours[1], colours
    shot(page, f"my-seats-{size}")

    page.goto("/#/bookings")
    when = page.locator(f'[data-booking-id="{mine["id"]}"] [data-event-date]')
    expect(when).to_have_attribute("datetime", event["start_time"], timeout=ms(5))
    expect(when).not_to_have_text("")
    shot(page, f"my-bookings-{size}")


def test_seats_held_for_the_waitlist_read_the_same_on_the_card_and_the_map(
        ui: UiSession, hub_server, make_user, make_event) -> None:
    """The reported case: a card said "2 of 60 available" while its map said 0 available and
    the seats were held for the waitlist."""
    admin, owner, waiting = make_user(role="admin"), make_user(), make_user()
    event = make_event(admin["token"], **event_fields("Waitlisted", capacity=3))
    one = Rest(hub_server.url, owner["token"]).book(event["id"], 1)
    Rest(hub_server.url, owner["token"]).book(event["id"], 2)
    Rest(hub_server.url, waiting["token"]).post(f"/events/{event['id']}/waitlist", {"qty": 2})
    Rest(hub_server.url, owner["token"]).delete(f"/bookings/{one['id']}")
    page = ui.page("visitor")
    page.goto("/")
    card = page.locator(f'.event-card[data-event-id="{event["id"]}"]')
    expect(card.locator('[data-avail="held"]')).to_have_text("1", timeout=ms(5))
    expect(card.locator('[data-avail="available"]')).to_have_text("0")
    expect(card).to_contain_text("Sold out")
    card.locator("a").click()
    expect(page.locator('[data-count="available"]')).to_have_text("0", timeout=ms(5))
    expect(page.locator('[data-count="held"]')).to_have_text("1")


@pytest.mark.parametrize("size", SIZES)
def test_event_card_and_map_show_the_same_live_figures(
        ui: UiSession, hub_server, make_user, make_event, size: str) -> None:
    admin, bob, carol = make_user(role="admin"), make_user(), make_user()
    event = make_event(admin["token"], **event_fields("Same figures", capacity=10))
    Rest(hub_server.url, bob["token"]).book(event["id"], 2)
    Rest(hub_server.url, carol["token"]).post(f"/events/{event['id']}/holds", {"qty": 3})
    page = ui.page(size, phone=SIZES[size])
    page.goto("/")
    card = page.locator(f'.event-card[data-event-id="{event["id"]}"]')
    expect(card.locator('[data-avail="available"]')).to_have_text("5", timeout=ms(5))
    expect(card.locator('[data-avail="held"]')).to_have_text("3")
    # Live: a booking elsewhere changes the card without a reload.
    Rest(hub_server.url, bob["token"]).book(event["id"], 1)
    expect(card.locator('[data-avail="available"]')).to_have_text("4", timeout=ms(2))
    card.locator("a").click()
    expect(page.locator('[data-count="available"]')).to_have_text("4", timeout=ms(5))
    expect(page.locator('[data-count="held"]')).to_have_text("3")
    expect(page.locator('[data-count="sold"]')).to_have_text("3")


@pytest.mark.parametrize("size", SIZES)
def test_toasts_replace_each_other(ui: UiSession, hub_server, make_user, make_event,
                                   size: str) -> None:
    admin, user = make_user(role="admin"), make_user()
    event = make_event(admin["token"], **event_fields("Toasts", capacity=5))
    page = ui.open_event(ui.page(size, user["token"], phone=SIZES[size]), event["id"])
    page.locator('[data-form="best"] [name="qty"]').fill("1")
    page.locator('[data-action="hold-best"]').click()
    expect(page.locator(".msg")).to_contain_text("Held", timeout=ms(5))
    page.locator('[data-hold-id] [data-action="release"]').click()
    expect(page.locator(".msg")).to_contain_text("Released", timeout=ms(5))
    expect(page.locator(".msg")).to_have_count(1)
    page.locator('[data-form="best"] [name="qty"]').fill("8")
    page.locator('[data-action="hold-best"]').click()
    expect(page.locator("#errors [data-error-code]")).to_have_count(1, timeout=ms(5))
    expect(page.locator(".msg")).to_have_count(1)


def test_admin_charts_are_filled_labelled_and_buttons_apart(
        ui: UiSession, hub_server, make_user, make_event) -> None:
    admin = make_user(role="admin")
    event = make_event(admin["token"], **event_fields("Charts", capacity=20))
    page = ui.page("admin", admin["token"])
    page.goto("/admin")
    row = page.locator(f'tr[data-event-id="{event["id"]}"]')
    expect(row.locator('[data-field="available"]')).to_have_text("20", timeout=ms(5))
    line = row.locator("svg.sparkline polyline").first
    expect(line).not_to_have_attribute("points", "", timeout=ms(2))
    xs = [float(p.split(",")[0]) for p in (line.get_attribute("points") or "").split()]
    assert min(xs) <= 1 and max(xs) >= 139, xs  # spans the chart from the first push
    sizes = row.locator(".spark-key .key").evaluate_all(
        "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert sizes and min(sizes) >= 12, sizes
    a = row.locator('[data-action="deactivate"]').bounding_box()
    b = row.locator('[data-action="attendees"]').bounding_box()
    assert a and b and b["x"] - (a["x"] + a["width"]) >= 4, (a, b)
    shot(page, "admin-dashboard-desktop")
