"""The WebSocket seat picker: subscribe, hold adjacent seats, think, confirm or release.

Reports ``WS hold``/``WS confirm``/``WS release`` round trips and ``WS delta lag`` (receive
time − the delta's server ``ts``, ms). Losing a race (``SEAT_UNAVAILABLE``, ``HOLD_EXPIRED`` …)
is reported as a success named ``hold → CODE`` (CONTRACT §3).
"""

from __future__ import annotations

import logging
import random
import uuid
from typing import Any

import gevent
from locust import User, between, task

from loadtest.run_state import (
    CONFIRM_RACE,
    HOLD_RACE,
    STATE,
    Layout,
    load_layout,
    record_booking,
    record_map,
    request_fire,
)
from loadtest.wsclient import SeatMap, WsClosed, WsError, WsSession

__all__ = ["SeatPicker", "choose_seats"]

log = logging.getLogger("loadtest")


def choose_seats(layout: Layout, seat_map: SeatMap, n: int, hot: bool) -> list[int]:
    """Up to ``n`` adjacent available seats in one row, trying hot rows first when ``hot``.

    Returns the best run found (possibly shorter than ``n``), or ``[]`` when nothing is free.
    """
    status = seat_map.statuses
    candidates = list(layout.hot_rows if hot and layout.hot_rows else layout.all_rows)
    random.shuffle(candidates)
    best: list[int] = []
    for key in candidates:
        run: list[int] = []
        for seat_id in layout.rows[key]:
            if status.get(seat_id) == "available":
                run.append(seat_id)
                if len(run) >= n:
                    start = random.randint(0, len(run) - n)
                    return run[start : start + n]
            else:
                if len(run) > len(best):
                    best = run
                run = []
        if len(run) > len(best):
            best = run
    if not best and hot:
        return choose_seats(layout, seat_map, n, hot=False)
    return best[:n]


class SeatPicker(User):
    """A browser-like buyer on the seat-picker page, over one WebSocket session (weight 3).

    Holds 1–``LT_MAX_SEATS`` adjacent seats (``LT_HOT_SHARE`` of the time in the hot sections,
    a fifth of the time by ``qty``), thinks ``LT_THINK_MIN``–``LT_THINK_MAX`` s, then confirms
    (``LT_CONFIRM_SHARE``) or releases.
    """

    weight = 3
    wait_time = between(0.05, 0.3)

    def __init__(self, environment: Any):
        super().__init__(environment)
        assert STATE.pool is not None and STATE.settings is not None
        self.settings = STATE.settings
        self.account = STATE.pool.take()
        self.base_url = STATE.next_host(environment.host or "")
        self.session: WsSession | None = None
        self.hold_id: str | None = None
        self.name = f"picker-{uuid.uuid4().hex[:8]}"

    def _connect(self) -> None:
        self.session = WsSession(
            self.base_url,
            token=self.account.access_token,
            fire=request_fire(self.environment),
            op_timeout=self.settings.op_timeout,
            compression=self.settings.ws_compression,
            on_push=self._on_push,
        )
        self.session.connect()
        self.session.subscribe(STATE.event_id)

    def _on_push(self, msg: dict[str, Any]) -> None:
        if msg.get("type") == "hold.expired" and msg.get("hold_id") == self.hold_id:
            self.hold_id = None

    def on_start(self) -> None:
        load_layout(self.base_url)
        try:
            self._connect()
        except Exception as exc:  # reported by WsSession; retried in the task
            log.debug("connect failed: %s", exc)

    def on_stop(self) -> None:
        session = self.session
        if session is None:
            return
        if self.hold_id and session.open:
            try:
                session.request("release", hold_id=self.hold_id, expected=("HOLD_EXPIRED",))
            except Exception:
                pass
        record_map(self.name, session.maps.get(STATE.event_id))
        session.close()

    @task
    def pick(self) -> None:
        session = self.session
        if session is None or not session.open:
            gevent.sleep(0.5)
            try:
                self._connect()  # a 1013 close means: reconnect and take a fresh snapshot
            except Exception as exc:  # already reported to Locust by WsSession
                log.debug("reconnect failed: %s", exc)
            return
        if STATE.wind_down.is_set():
            self._release()
            gevent.sleep(0.5)
            return
        seat_map = session.maps[STATE.event_id]
        layout = load_layout(self.base_url)
        n = random.randint(1, self.settings.max_seats)
        fields: dict[str, Any]
        if random.random() < 0.2:
            fields = {"qty": n}
        else:
            seats = choose_seats(layout, seat_map, n, hot=random.random() < self.settings.hot_share)
            if not seats:
                gevent.sleep(0.5)  # nothing free right now; holds may still come back
                return
            fields = {"seat_ids": seats}
        try:
            hold = session.request("hold", event_id=STATE.event_id, expected=HOLD_RACE, **fields)
        except (WsError, WsClosed, TimeoutError):
            return
        self.hold_id = hold["hold_id"]
        gevent.sleep(random.uniform(self.settings.think_min, self.settings.think_max))
        if STATE.wind_down.is_set() or random.random() >= self.settings.confirm_share:
            self._release()
        else:
            self._confirm()

    def _release(self) -> None:
        if self.hold_id is None or self.session is None:
            return
        hold_id, self.hold_id = self.hold_id, None
        try:
            self.session.request("release", hold_id=hold_id, expected=("HOLD_EXPIRED",))
        except (WsError, WsClosed, TimeoutError):
            pass

    def _confirm(self) -> None:
        assert self.session is not None and self.hold_id is not None
        hold_id, self.hold_id = self.hold_id, None
        key = uuid.uuid4().hex
        for attempt in range(2):  # a lost reply is retried with the same key (idempotent)
            try:
                reply = self.session.request(
                    "confirm",
                    name="confirm" if attempt == 0 else "confirm (retry)",
                    hold_id=hold_id,
                    idempotency_key=key,
                    expected=CONFIRM_RACE,
                )
            except (WsClosed, TimeoutError):
                if self.session is None or not self.session.open:
                    try:
                        self._connect()
                    except Exception:
                        return
                continue
            except WsError:
                return
            booking = reply.get("booking", reply)
            record_booking(booking, self.account.email, "ws")
            return
