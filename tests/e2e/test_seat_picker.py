"""The venue-wide seat picker in Chromium at desktop (1280×800) and phone (390×844) sizes:
the 2,000-seat theatre opens fitted with its stage and sections, zooms (buttons, wheel,
pinch, a section click) with a minimap, holds the centre seats without moving the map, and
its first paint and delta → redrawn seat times are measured.

Screenshots are kept in test-output/screenshots/ (venue overview, zoomed section, a hold).
"""

from __future__ import annotations

import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

pytest.importorskip("playwright")

from playwright.sync_api import Page, expect

from tests.support.browser import SCREENSHOTS, SIZES, Rest, UiSession, event_fields, ms, shot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

THEATRE = {"sections": [{"name": "Stalls", "rows": 20, "seats_per_row": 50},
                        {"name": "Circle", "rows": 12, "seats_per_row": 50},
                        {"name": "Balcony", "rows": 10, "seats_per_row": 40}]}


def theatre(make_user, make_event, name: str = "Theatre") -> tuple[dict[str, Any], dict[str, Any]]:
    admin = make_user(role="admin")
    return admin, make_event(admin["token"], **event_fields(name, seat_map=THEATRE))


def scale(page: Page) -> float:
    transform = page.locator("svg.venue g.world").get_attribute("transform") or ""
    return float(transform.split("scale(")[1].rstrip(")"))


def seats_outside_map(page: Page, section: str | None = None) -> int:
    """How many seats (of one section) are drawn outside the map's box, once the layout has
    settled (a late scrollbar or font resizes the map, and the map fits itself again)."""
    deadline = time.monotonic() + ms(2) / 1000
    while (count := _outside(page, section)) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    return count


def _outside(page: Page, section: str | None) -> int:
    return int(page.evaluate("""(section) => {
        const box = document.querySelector('svg.venue').getBoundingClientRect();
        const sel = section ? `[data-section="${section}"] [data-seat-id]` : '[data-seat-id]';
        return [...document.querySelectorAll(sel)].filter((el) => {
            const r = el.getBoundingClientRect();
            return r.left < box.left - 0.5 || r.right > box.right + 0.5
                || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5;
        }).length;
    }""", section))


@pytest.mark.parametrize("size", SIZES)
def test_theatre_opens_fitted_and_zooms_into_a_section(
        ui: UiSession, make_user, make_event, size: str) -> None:
    _, event = theatre(make_user, make_event)
    page = ui.open_event(ui.page(size, phone=SIZES[size]), event["id"])
    expect(page.locator("[data-seat-id]")).to_have_count(2000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page scrolls sideways ({width}px)"
    # Fitted: every seat on screen, the stage and a shape per section with live counts.
    assert seats_outside_map(page) == 0
    expect(page.locator("#seat-map")).to_have_attribute("data-zoom", "overview")
    expect(page.locator("svg.venue .stage text")).to_have_text("STAGE")
    shapes = page.locator("[data-section-shape]")
    expect(shapes).to_have_count(3)
    expect(page.locator('[data-section-shape="Circle"] .shape-count')).to_have_text(
        "600 of 600 free", timeout=ms(3))
    expect(page.locator(".minimap")).to_be_hidden()
    map_box = page.locator(".map-wrap").bounding_box()
    assert map_box and map_box["y"] + map_box["height"] <= page.viewport_size["height"] + 1
    shot(page, f"venue-overview-{size}")

    # A click on a section zooms to it: seats, not shapes, and the minimap shows where.
    page.locator('[data-section-shape="Circle"]').click()
    expect(page.locator("#seat-map")).to_have_attribute("data-zoom", "seats")
    if size == "desktop":
        assert seats_outside_map(page, "Circle") == 0
    expect(page.locator(".minimap")).to_be_visible()
    centre = page.locator('[data-section="Circle"] [data-row="F"] [data-seat-id]').nth(25)
    map_box = page.locator("svg.venue").bounding_box()
    box = centre.bounding_box()
    assert map_box and box and box["width"] >= 10, box
    assert map_box["x"] < box["x"] < map_box["x"] + map_box["width"] - box["width"]
    assert map_box["y"] < box["y"] < map_box["y"] + map_box["height"] - box["height"]
    shot(page, f"zoomed-section-{size}")

    # Buttons zoom by steps; Fit shows the whole venue again.
    before = scale(page)
    page.locator('[data-action="zoom-in"]').click()
    page.wait_for_timeout(100)
    assert scale(page) > before * 1.3
    page.locator('[data-action="zoom-out"]').click()
    page.locator('[data-action="zoom-out"]').click()
    page.wait_for_timeout(100)
    assert scale(page) < before
    page.locator('[data-action="zoom-fit"]').click()
    expect(page.locator("#seat-map")).to_have_attribute("data-zoom", "overview")
    assert seats_outside_map(page) == 0

    # The keyboard reaches seats from the overview: focus zooms in to the seat.
    page.locator('[data-seat-id][tabindex="0"]').focus()
    expect(page.locator("#seat-map")).to_have_attribute("data-zoom", "seats")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    focused = page.locator("[data-seat-id]:focus")
    expect(focused).to_have_attribute("aria-label", "Stalls row B seat 2, available")
    expect(focused).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(focused).to_have_attribute("aria-pressed", "true")


def test_wheel_and_pinch_zoom_and_a_drag_pans(ui: UiSession, make_user, make_event) -> None:
    _, event = theatre(make_user, make_event)
    page = ui.open_event(ui.page("desktop"), event["id"])
    box = page.locator("svg.venue").bounding_box()
    assert box
    fit = scale(page)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)
    page.wait_for_timeout(150)
    assert scale(page) > fit * 1.5
    before = page.locator("svg.venue g.world").get_attribute("transform")
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 80, box["y"] + box["height"] / 2 + 40, steps=5)
    page.mouse.up()
    page.wait_for_timeout(100)
    assert page.locator("svg.venue g.world").get_attribute("transform") != before
    # A drag is not a click: no seat got picked.
    expect(page.locator('[data-seat-id][aria-pressed="true"]')).to_have_count(0)

    phone = ui.open_event(ui.page("phone", phone=True), event["id"])
    fit = scale(phone)
    # Two fingers moving apart (pointer events as a touch screen sends them).
    phone.evaluate("""() => {
        const svg = document.querySelector('svg.venue');
        const r = svg.getBoundingClientRect();
        const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
        const fire = (type, id, dx) => svg.dispatchEvent(new PointerEvent(type, {
            pointerId: id, pointerType: 'touch', clientX: cx + dx, clientY: cy,
            bubbles: true, isPrimary: id === 1, button: 0}));
        fire('pointerdown', 1, -20); fire('pointerdown', 2, 20);
        for (let i = 1; i <= 10; i++) {
            fire('pointermove', 1, -20 - i * 8);
            fire('pointermove', 2, 20 + i * 8);
        }
        fire('pointerup', 1, -100); fire('pointerup', 2, 100);
    }""")
    phone.wait_for_timeout(150)
    assert scale(phone) > fit * 2


@pytest.mark.parametrize("size", SIZES)
def test_best_four_are_the_centre_of_row_a_and_holding_never_moves_the_map(
        ui: UiSession, hub_server, make_user, make_event, size: str) -> None:
    _, event = theatre(make_user, make_event, "Hold")
    user = make_user()
    by_label = {s["label"]: s["id"] for s in Rest(hub_server.url).seats(event["id"])}
    page = ui.open_event(ui.page(size, user["token"], phone=SIZES[size]), event["id"])
    map_before = page.locator(".map-wrap").bounding_box()
    page.locator('[data-form="best"] [name="qty"]').fill("4")
    page.locator('[data-action="hold-best"]').click()
    card = page.locator('[data-hold-id][data-kind="hold"]')
    expect(card).to_be_visible(timeout=ms(5))
    for n in (24, 25, 26, 27):
        expect(ui.seat(page, by_label[f"Stalls A{n}"])).to_have_attribute("data-status", "mine")
    expect(page.locator('[data-status="mine"]')).to_have_count(4)
    assert page.locator(".map-wrap").bounding_box() == map_before, "the map moved"
    assert page.evaluate("window.scrollY") == 0
    # The countdown and the confirm button are on screen without scrolling.
    confirm = card.locator('[data-action="confirm"]')
    expect(confirm).to_be_in_viewport()
    expect(card.locator("[data-countdown]")).to_be_in_viewport()
    shot(page, f"hold-{size}")
    confirm.click()
    expect(card).to_have_count(0, timeout=ms(5))
    seat = ui.seat(page, by_label["Stalls A25"])
    expect(seat).to_have_attribute("data-status", "sold")
    expect(seat).to_have_attribute("data-mine", "booked", timeout=ms(5))
    assert page.locator(".map-wrap").bounding_box() == map_before


def test_first_paint_and_delta_to_redrawn_seat_at_2000_seats(
        ui: UiSession, hub_server, make_user, make_event) -> None:
    """Performance API figures from the page itself (README "Seat picker performance")."""
    _, event = theatre(make_user, make_event, "Perf")
    people = [Rest(hub_server.url, make_user()["token"]) for _ in range(6)]
    page = ui.open_event(ui.page("desktop"), event["id"])
    page.wait_for_function("window.eventlyPerf && window.eventlyPerf.mapPainted !== null")
    painted = page.evaluate("window.eventlyPerf")
    assert painted["seats"] == 2000
    seats = [s["id"] for s in Rest(hub_server.url).seats(event["id"])][::31][:60]
    started = time.monotonic()

    def churn(person: Rest, mine: list[int]) -> None:
        # Each person: hold a seat, let it go, next; six people give about 20 deltas/s.
        for i, seat in enumerate(mine):
            hold = person.post(f"/events/{event['id']}/holds", {"seat_ids": [seat]})
            time.sleep(max(0.0, started + (2 * i + 1) * 0.3 - time.monotonic()))
            person.delete(f"/holds/{hold['hold_id']}")
            time.sleep(max(0.0, started + (2 * i + 2) * 0.3 - time.monotonic()))

    # Meanwhile zoom in and out with the wheel and record every frame's length in the page.
    page.evaluate("""() => {
        window.frames_ms = [];
        let last = performance.now();
        const tick = (t) => { window.frames_ms.push(t - last); last = t;
                              if (window.frames_ms.length < 100000) requestAnimationFrame(tick); };
        requestAnimationFrame(tick);
    }""")
    box = page.locator("svg.venue").bounding_box()
    assert box
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    with ThreadPoolExecutor(len(people)) as pool:
        done = [pool.submit(churn, person, seats[i::len(people)])
                for i, person in enumerate(people)]
        step = 0
        while not all(f.done() for f in done):
            page.mouse.wheel(0, -120 if (step // 10) % 2 == 0 else 120)
            page.wait_for_timeout(50)
            step += 1
        for f in done:
            f.result()
    rate = 2 * len(seats) / (time.monotonic() - started)
    frames = sorted(page.evaluate("window.frames_ms.splice(0)")[1:])
    page.wait_for_function(f"window.eventlyPerf.deltaToPaint.length >= {2 * len(seats)}",
                           timeout=ms(10))
    figures = page.evaluate("window.eventlyPerf")
    paint = sorted(figures["deltaToPaint"])
    lag = sorted(figures["deltaLag"])
    result = {
        "seats": figures["seats"], "first_paint_ms": round(figures["mapPainted"]),
        "deltas": len(paint), "deltas_per_second": round(rate, 1),
        "delta_to_paint_ms": {"p50": round(statistics.median(paint), 1),
                              "p95": round(paint[int(len(paint) * 0.95) - 1], 1),
                              "max": round(paint[-1], 1)},
        "server_to_paint_ms": {"p50": round(statistics.median(lag), 1),
                               "p95": round(lag[int(len(lag) * 0.95) - 1], 1)},
        "frame_ms_while_zooming": {"frames": len(frames),
                                   "p50": round(statistics.median(frames), 1),
                                   "p95": round(frames[int(len(frames) * 0.95) - 1], 1),
                                   "max": round(frames[-1], 1)},
    }
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS.parent / "seat-picker-perf.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result))
    assert result["first_paint_ms"] < 5000
    assert result["delta_to_paint_ms"]["p95"] < 100
    assert result["frame_ms_while_zooming"]["p95"] < 50

