"""Helpers for the browser tests: Debian's chromium, signed-in pages, REST shortcuts.

The pages are driven only through their stable hooks (``data-seat-id``, ``data-status``,
``data-action``, ``data-connection``, ``data-event-id`` + ``data-field``) and the public REST
contract, so the server may change freely behind them.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, expect

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "SCREENSHOTS",
    "SIZES",
    "TIME_SCALE",
    "Rest",
    "UiSession",
    "event_fields",
    "ms",
    "shot",
]

CHROMIUM = os.environ.get("EVENTLY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Screenshots kept as test artifacts (test-output/ is not committed).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
# The two screen sizes every seat-picker test runs at: test id → phone?
SIZES = {"desktop": False, "phone": True}


def shot(page: Page, name: str) -> Path:
    """Save what `page` shows now as SCREENSHOTS/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


# Every timeout in these tests is multiplied by this (slow CI machines set it to 2 or 3),
# the same variable as tests/support/stores.py uses.
TIME_SCALE = float(os.environ.get("EVENTLY_TEST_TIMING", "1"))


def ms(seconds: float) -> float:
    """Seconds → Playwright milliseconds, scaled by EVENTLY_TEST_TIMING."""
    return seconds * 1000 * TIME_SCALE


def event_fields(name: str, **extra: Any) -> dict[str, Any]:
    """Fields for POST /admin/events: a week from now, three hours long."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    return {
        "name": name,
        "venue": "Test Hall",
        "start_time": start.isoformat(),
        "end_time": (start + timedelta(hours=3)).isoformat(),
        **extra,
    }


@dataclass
class Rest:
    """The REST contract with one user's bearer token."""

    base_url: str
    token: str | None = None

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    def get(self, path: str) -> Any:
        res = httpx.get(self.base_url + path, headers=self._headers(), timeout=10)
        res.raise_for_status()
        return res.json()

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        res = httpx.post(
            self.base_url + path, json=body, headers=self._headers(headers), timeout=10
        )
        res.raise_for_status()
        return res.json() if res.content else None

    def delete(self, path: str) -> Any:
        """DELETE `path`; the JSON body, or None for 204."""
        res = httpx.delete(self.base_url + path, headers=self._headers(), timeout=10)
        res.raise_for_status()
        return res.json() if res.content else None

    def seats(self, event_id: int) -> list[dict[str, Any]]:
        """GET /events/{id}/seats, ordered by seat id."""
        return sorted(self.get(f"/events/{event_id}/seats")["seats"], key=lambda s: s["id"])

    def book(self, event_id: int, qty: int) -> Any:
        """Hold and confirm in one step (POST /events/{id}/book)."""
        return self.post(
            f"/events/{event_id}/book", {"qty": qty}, {"Idempotency-Key": str(uuid.uuid4())}
        )


@dataclass
class UiSession:
    """Browser contexts opened by one test (one per simulated person)."""

    browser: Browser
    base_url: str
    pages: dict[str, Page] = field(default_factory=dict)
    contexts: list[BrowserContext] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def page(
        self,
        label: str,
        token: str | None = None,
        *,
        refresh_token: str | None = None,
        phone: bool = False,
    ) -> Page:
        """A fresh context (own storage, own WebSocket); signed in when `token` is given."""
        viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 800}
        context = self.browser.new_context(viewport=viewport, base_url=self.base_url,
                                           has_touch=phone)
        self.contexts.append(context)
        if token:
            saved = json.dumps(
                {"access_token": token, "refresh_token": refresh_token, "expires_at": None}
            )
            # Only when absent, so a token the page refreshed itself survives a reload.
            script = (
                "if (!localStorage.getItem('evently.auth'))"
                f" localStorage.setItem('evently.auth', {json.dumps(saved)});"
            )
            context.add_init_script(script)
        page = context.new_page()
        page.on("console", lambda m: self.console.append(f"[{label}] {m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"[{label}] pageerror: {e}"))
        self.pages[label] = page
        return page

    def open_event(self, page: Page, event_id: int) -> Page:
        """Go to the seat map of one event and wait until it is drawn and live."""
        page.goto(f"/#/events/{event_id}")
        expect(page.locator("[data-seat-id]").first).to_be_visible(timeout=ms(10))
        expect(page.locator("[data-connection]")).to_have_attribute(
            "data-connection", "live", timeout=ms(10)
        )
        return page

    @staticmethod
    def seat(page: Page, seat_id: int):
        return page.locator(f'[data-seat-id="{seat_id}"]')

    @staticmethod
    def statuses(page: Page) -> dict[int, str]:
        """seat id → data-status for every seat drawn on the page."""
        pairs = page.eval_on_selector_all(
            "[data-seat-id]", "els => els.map(e => [Number(e.dataset.seatId), e.dataset.status])"
        )
        return {int(k): v for k, v in pairs}

    def screenshot_all(self, directory: Path, name: str) -> list[Path]:
        """Write `<name>.png` for the first page and `<name>-<label>.png` for the others."""
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for i, (label, page) in enumerate(self.pages.items()):
            path = directory / (f"{name}.png" if i == 0 else f"{name}-{label}.png")
            try:
                page.screenshot(path=str(path), full_page=True)
                written.append(path)
            except Exception:  # a crashed page must not hide the test's own failure
                continue
        return written

    def close(self) -> None:
        for context in self.contexts:
            context.close()
