"""The organizer's live dashboard: ``analytics.subscribe`` over WebSocket plus summary reads.

Reports ``WS analytics age`` (receive time − the push's ``at``, ms).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

from locust import HttpUser, between, task

from loadtest.run_state import STATE, record_map, request_fire
from loadtest.wsclient import WsClosed, WsError, WsSession

__all__ = ["AdminWatcher", "epoch_ms"]

log = logging.getLogger("loadtest")


def epoch_ms(value: Any) -> float | None:
    """``at`` as epoch ms, whether sent as epoch s, epoch ms or an RFC 3339 string."""
    if isinstance(value, int | float):
        return float(value) if value > 1e11 else float(value) * 1000
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000
        except ValueError:
            return None
    return None


class AdminWatcher(HttpUser):
    """Exactly one per run: the analytics stream, ``GET /admin/analytics/summary`` and a seat
    map (recorded in the ledger at the end like every WebSocket client's)."""

    fixed_count = 1
    wait_time = between(1.0, 2.0)

    def __init__(self, environment: Any):
        self.host = STATE.next_host(environment.host or "")
        super().__init__(environment)
        self.session: WsSession | None = None
        self.enabled = STATE.admin is not None
        self.summary_missing = False
        if STATE.admin is not None:
            self.client.headers.update(STATE.admin.auth_header)

    def on_start(self) -> None:
        if not self.enabled:
            return
        assert STATE.admin is not None and STATE.settings is not None
        self.session = WsSession(
            self.host or "",
            token=STATE.admin.access_token,
            fire=request_fire(self.environment),
            op_timeout=STATE.settings.op_timeout,
            on_push=self._on_push,
        )
        try:
            self.session.connect()
            self.session.subscribe(STATE.event_id)
        except Exception as exc:
            log.debug("admin connect failed: %s", exc)
            return
        try:
            # A hub without the analytics stream answers BAD_REQUEST (unknown op): noted, not
            # failed, so the no-oversell proof does not depend on the dashboard.
            self.session.request("analytics.subscribe", expected=("BAD_REQUEST",))
        except WsError as exc:
            log.warning("analytics stream unavailable: %s", exc)
        except (WsClosed, TimeoutError):
            pass

    def _on_push(self, msg: dict[str, Any]) -> None:
        if msg.get("type") != "analytics":
            return
        at = epoch_ms(msg.get("at"))
        if at is not None:
            self.environment.events.request.fire(
                request_type="WS",
                name="analytics age",
                response_time=max(0.0, time.time() * 1000 - at),
                response_length=0,
                exception=None,
                context={},
            )

    def on_stop(self) -> None:
        if self.session is not None:
            record_map("admin", self.session.maps.get(STATE.event_id))
            self.session.close()

    @task
    def summary(self) -> None:
        if not self.enabled or self.summary_missing:
            return
        name = "GET /admin/analytics/summary"
        with self.client.get("/admin/analytics/summary", name=name, catch_response=True) as r:
            if r.status_code == 404:  # not on this hub: say so once, then stop asking
                self.summary_missing = True
                r.request_meta["name"] = f"{name} → 404"
                r.success()
