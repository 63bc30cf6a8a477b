"""Flash-sale load test: WebSocket seat pickers, REST bookers and an admin watcher, one event.

Run headless, setup included (accounts and a fresh event are prepared before any user starts,
untimed; see docs/loadtest.md)::

    LT_ADMIN_EMAIL=admin@example.com LT_ADMIN_PASSWORD=secret \\
    uv run locust -f loadtest/locustfile.py --headless --host http://127.0.0.1:8000 \\
        --only-summary --csv loadtest/out/stats

Without ``LT_ADMIN_EMAIL`` it uses what ``python -m loadtest.prepare`` left in ``LT_OUT_DIR``.

Users (CONTRACT §2, §3; every figure in **ms**):

- :class:`SeatPicker` (weight 3): one ``/ws`` session; subscribes, holds 1–``LT_MAX_SEATS``
  adjacent seats (``LT_HOT_SHARE`` of the time in the hot sections, a fifth of the time by
  ``qty``), thinks ``LT_THINK_MIN``–``LT_THINK_MAX`` s, then confirms (``LT_CONFIRM_SHARE``) or
  releases. Reports ``WS hold``/``WS confirm``/``WS release`` round trips and ``WS delta lag``
  (receive time − the delta's server ``ts``). Losing a race (``SEAT_UNAVAILABLE``,
  ``HOLD_EXPIRED`` …) is reported as a success named ``hold → CODE``.
- :class:`RestBooker` (weight 1): ``POST /events/{id}/book {qty}`` with an ``Idempotency-Key``,
  plus reads of the event and ``/me/bookings``.
- :class:`AdminWatcher` (exactly one): ``analytics.subscribe`` over WebSocket (``WS analytics
  age`` = receive time − ``at``) and ``GET /admin/analytics/summary``; also keeps a seat map.

:class:`FlashSale` ramps to ``LT_USERS`` within ``LT_RAMP_SECONDS``, sells until the event has
neither available nor held seats (polled once a second) or ``LT_DURATION_SECONDS`` pass, then
winds down: pickers release what they hold and only listen for ``LT_SETTLE_SECONDS``, after which
every WebSocket client writes its final seat map to the ledger for ``loadtest.verify_run``.

Every confirmation a client receives is appended to the ledger (``loadtest.ledger``).
``LT_HOSTS=http://a,http://b`` spreads users round-robin over several hubs.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import random
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import gevent
import orjson
import requests
from gevent.event import Event
from gevent.lock import Semaphore
from locust import HttpUser, LoadTestShape, User, between, events, task
from locust.runners import MasterRunner, WorkerRunner

from loadtest.accounts import Account, AccountPool, read_token_file
from loadtest.config import Settings, load_settings
from loadtest.ledger import Ledger
from loadtest.wsclient import SeatMap, WsClosed, WsError, WsSession

log = logging.getLogger("loadtest")

# Losing a race is the system working; these codes are counted as named successes.
HOLD_RACE = ("SEAT_UNAVAILABLE", "NOT_ENOUGH_SEATS", "SOLD_OUT", "HOLD_LIMIT")
CONFIRM_RACE = ("HOLD_EXPIRED", "SEAT_UNAVAILABLE")


@dataclass
class Layout:
    """The venue as the pickers see it: rows of seat ids in seat-number order."""

    rows: dict[tuple[str, str], list[int]]  # (section, row) → seat ids by number
    hot_rows: list[tuple[str, str]]
    all_rows: list[tuple[str, str]]


@dataclass
class RunState:
    """Per-process state shared by all users of one Locust process."""

    settings: Settings | None = None
    ledger: Ledger | None = None
    pool: AccountPool | None = None
    admin: Account | None = None
    event_id: int = 0
    hosts: list[str] = field(default_factory=list)
    wind_down: Event = field(default_factory=Event)
    layout: Layout | None = None
    layout_lock: Semaphore = field(default_factory=Semaphore)
    host_counter: itertools.count[int] = field(default_factory=itertools.count)

    def next_host(self, default: str) -> str:
        hosts = self.hosts or [default]
        return hosts[next(self.host_counter) % len(hosts)]


STATE = RunState()


def _on_wind_down(environment: Any = None, msg: Any = None, **_: Any) -> None:
    if not STATE.wind_down.is_set():
        log.info("wind-down: releasing holds, recording maps after the quiet phase")
    STATE.wind_down.set()


@events.init.add_listener
def _init(environment: Any, **_: Any) -> None:
    settings = load_settings()
    STATE.settings = settings
    if environment.runner is not None:
        environment.runner.register_message("lt_wind_down", _on_wind_down)
    if not isinstance(environment.runner, WorkerRunner) and os.environ.get("LT_ADMIN_EMAIL"):
        _auto_prepare(environment, settings)


def _auto_prepare(environment: Any, settings: Settings) -> None:
    """With ``LT_ADMIN_EMAIL``/``LT_ADMIN_PASSWORD`` set, run the setup step before any user.

    ``loadtest.prepare`` runs as a subprocess (plain asyncio, away from gevent): it reuses or
    refreshes cached accounts (``LT_USERS`` of them) and, unless ``LT_EVENT_ID`` is set, creates
    a fresh event (``LT_SECTIONS``, default 300 seats) for this run. None of it is timed.
    """
    host = (settings.hosts or (environment.host or "",))[0]
    argv = [
        sys.executable,
        "-m",
        "loadtest.prepare",
        "--host",
        host,
        "--users",
        str(settings.users),
        "--admin-email",
        os.environ["LT_ADMIN_EMAIL"],
        "--admin-password",
        os.environ.get("LT_ADMIN_PASSWORD", ""),
    ]
    if settings.event_id is None:
        argv += [
            "--create-event",
            "--sections",
            os.environ.get("LT_SECTIONS", "Floor:10:10,Lower:10:10,Upper:10:10"),
        ]
    shown = [a for a in argv if a != os.environ.get("LT_ADMIN_PASSWORD")]
    log.info("setup: %s", " ".join(shown))
    if subprocess.run(argv, check=False).returncode != 0:
        raise SystemExit("loadtest.prepare failed; see above")


def _load_run(environment: Any) -> None:
    """Accounts, event, hosts and ledger of this process (every process that runs users)."""
    settings = STATE.settings
    assert settings is not None
    tokens = read_token_file(settings.tokens_file)
    # A worker learns its index from the master only after init, hence at test start.
    worker_index = max(0, getattr(environment.runner, "worker_index", 0) or 0)
    STATE.pool = AccountPool(tokens.users, worker_index, int(os.environ.get("LT_WORKERS", "1")))
    STATE.admin = tokens.admin
    STATE.event_id = settings.resolve_event_id()
    STATE.hosts = list(settings.hosts)
    STATE.layout = None
    if STATE.ledger is None:
        STATE.ledger = Ledger(settings.ledger_dir)


@events.test_start.add_listener
def _test_start(environment: Any, **_: Any) -> None:
    STATE.wind_down.clear()
    if not isinstance(environment.runner, MasterRunner):
        _load_run(environment)


@events.quitting.add_listener
def _quitting(environment: Any, **_: Any) -> None:
    if STATE.ledger is not None:
        STATE.ledger.close()


def _fire(environment: Any) -> Any:
    return environment.events.request.fire


def load_layout(base_url: str) -> Layout:
    """Fetch ``GET /events/{id}/seats`` once per process and group it into rows."""
    with STATE.layout_lock:
        if STATE.layout is not None:
            return STATE.layout
        assert STATE.settings is not None
        r = requests.get(f"{base_url}/events/{STATE.event_id}/seats", timeout=30)
        r.raise_for_status()
        seats = r.json()["seats"]
        rows: dict[tuple[str, str], list[tuple[int, int]]] = {}
        sections: list[str] = []
        for seat in sorted(seats, key=lambda s: s["id"]):
            section = str(seat.get("section") or "")
            if section not in sections:
                sections.append(section)
            key = (section, str(seat.get("row") or ""))
            rows.setdefault(key, []).append((int(seat.get("number") or 0), int(seat["id"])))
        hot = set(sections[: STATE.settings.hot_sections])
        ordered = {k: [sid for _, sid in sorted(v)] for k, v in rows.items()}
        STATE.layout = Layout(
            rows=ordered,
            hot_rows=[k for k in ordered if k[0] in hot],
            all_rows=list(ordered),
        )
        return STATE.layout


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


def _record_map(client: str, seat_map: SeatMap | None) -> None:
    if STATE.ledger is None or seat_map is None or not seat_map.ready:
        return
    STATE.ledger.write(
        "map",
        client=client,
        event_id=seat_map.event_id,
        epoch=seat_map.epoch,
        seq=seat_map.seq,
        seats={str(k): v for k, v in seat_map.statuses.items()},
        gaps=seat_map.gaps,
        resyncs=seat_map.resyncs,
    )


def _record_booking(booking: dict[str, Any], email: str, via: str) -> None:
    if STATE.ledger is None:
        return
    STATE.ledger.write(
        "confirmed",
        booking_id=booking.get("id"),
        event_id=booking.get("event_id", STATE.event_id),
        seat_ids=booking.get("seat_ids", []),
        email=email,
        via=via,
    )


class SeatPicker(User):
    """A browser-like buyer on the seat-picker page, over one WebSocket session."""

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
            fire=_fire(self.environment),
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
        _record_map(self.name, session.maps.get(STATE.event_id))
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
            _record_booking(booking, self.account.email, "ws")
            return


class RestBooker(HttpUser):
    """A script or app that books over REST in one step (hold + confirm)."""

    weight = 1
    wait_time = between(0.3, 1.5)

    def __init__(self, environment: Any):
        self.host = STATE.next_host(environment.host or "")
        super().__init__(environment)
        assert STATE.pool is not None and STATE.settings is not None
        self.settings = STATE.settings
        self.account = STATE.pool.take()
        self.client.headers.update(self.account.auth_header)
        self.sold_out_at = 0.0

    @task(6)
    def book(self) -> None:
        if STATE.wind_down.is_set() or time.monotonic() - self.sold_out_at < 2.0:
            return
        qty = random.randint(1, self.settings.max_seats)
        with self.client.post(
            f"/events/{STATE.event_id}/book",
            data=orjson.dumps({"qty": qty}),
            headers={"Idempotency-Key": uuid.uuid4().hex, "content-type": "application/json"},
            name="POST /events/{id}/book",
            catch_response=True,
        ) as r:
            if r.status_code == 201:
                _record_booking(r.json(), self.account.email, "rest")
                r.success()
                return
            code = _error_code(r)
            if r.status_code == 409 and code in HOLD_RACE:
                if code == "SOLD_OUT":
                    self.sold_out_at = time.monotonic()
                r.request_meta["name"] = f"POST /events/{{id}}/book → {code}"
                r.success()
            else:
                r.failure(f"{r.status_code} {code}")

    @task(2)
    def view_event(self) -> None:
        self.client.get(f"/events/{STATE.event_id}", name="GET /events/{id}")

    @task(1)
    def my_bookings(self) -> None:
        self.client.get("/me/bookings", name="GET /me/bookings")


def _error_code(response: Any) -> str:
    try:
        return str(response.json()["error"]["code"])
    except Exception:
        return "?"


class AdminWatcher(HttpUser):
    """The organizer's live dashboard: analytics stream plus summary reads."""

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
            fire=_fire(self.environment),
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
        at = _epoch_ms(msg.get("at"))
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
            _record_map("admin", self.session.maps.get(STATE.event_id))
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


def _epoch_ms(value: Any) -> float | None:
    """``at`` as epoch ms, whether sent as epoch s, epoch ms or an RFC 3339 string."""
    if isinstance(value, int | float):
        return float(value) if value > 1e11 else float(value) * 1000
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000
        except ValueError:
            return None
    return None


class FlashSale(LoadTestShape):
    """Ramp to ``LT_USERS`` in ``LT_RAMP_SECONDS``, sell out, wind down, stop.

    Phases (seconds from start): ``[0, ramp)`` spawn at ``users / ramp`` per second; selling until
    the event reports ``available_count == held_count == 0`` or ``LT_DURATION_SECONDS``; then
    ``LT_SETTLE_SECONDS`` of wind-down (holds released, clients only listen); then stop.
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
        t = self.get_run_time()
        users = self.settings.users
        rate = max(1.0, math.ceil(users / max(self.settings.ramp_seconds, 0.1)))
        if self.wind_down_at is None:
            if t >= self.settings.duration_seconds or (
                t >= self.settings.ramp_seconds and self._poll_sold_out()
            ):
                self.wind_down_at = t
                assert self.runner is not None
                self.runner.send_message("lt_wind_down")
            return users, rate
        if t - self.wind_down_at < self.settings.settle_seconds:
            return users, rate
        return None
