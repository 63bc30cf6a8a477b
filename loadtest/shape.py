"""The flash-sale load shape: ramp, sell until sold out (or the time cap), wind down, stop."""

from __future__ import annotations

import logging
import math
import time

import requests
from locust import LoadTestShape

from loadtest.config import load_settings
from loadtest.hooks import WIND_DOWN_MESSAGE

__all__ = ["FlashSale"]

log = logging.getLogger("loadtest")


class FlashSale(LoadTestShape):
    """Ramp to ``LT_USERS`` in ``LT_RAMP_SECONDS``, sell out, wind down, stop.

    Phases (seconds from start): ``[0, ramp)`` spawn at ``users / ramp`` per second; selling until
    the event reports ``available_count == held_count == 0`` (polled at most once a second) or
    ``LT_DURATION_SECONDS``; then ``LT_SETTLE_SECONDS`` of wind-down (holds released, clients
    only listen); then stop.
    """

    def __init__(self) -> None:
        super().__init__()
        self.settings = load_settings()
        self.wind_down_at: float | None = None
        self.last_poll = 0.0
        self.sold_out = False

    def _poll_sold_out(self) -> bool:
        now = time.monotonic()
        if now - self.last_poll < 1.0:
            return self.sold_out
        self.last_poll = now
        base = (self.settings.hosts or (self.runner.environment.host,))[0]  # type: ignore[union-attr]
        try:
            ev = requests.get(f"{base}/events/{self.settings.resolve_event_id()}", timeout=5).json()
            self.sold_out = ev.get("available_count") == 0 and ev.get("held_count") == 0
            if self.sold_out:
                log.info("sold out: %s booked of %s", ev.get("booked_count"), ev.get("capacity"))
        except Exception as exc:
            log.warning("event poll failed: %s", exc)
        return self.sold_out

    def tick(self) -> tuple[int, float] | None:
        """Locust's shape hook: ``(users, spawn rate per second)``, or ``None`` to stop."""
        t = self.get_run_time()
        users = self.settings.users
        rate = max(1.0, math.ceil(users / max(self.settings.ramp_seconds, 0.1)))
        if self.wind_down_at is None:
            if t >= self.settings.duration_seconds or (
                t >= self.settings.ramp_seconds and self._poll_sold_out()
            ):
                self.wind_down_at = t
                assert self.runner is not None
                self.runner.send_message(WIND_DOWN_MESSAGE)
            return users, rate
        if t - self.wind_down_at < self.settings.settle_seconds:
            return users, rate
        return None
