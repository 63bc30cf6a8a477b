"""Flash-sale load test: WebSocket seat pickers, REST bookers and an admin watcher, one event.

Run headless, setup included (accounts and a fresh event are prepared before any user starts,
untimed; see docs/loadtest.md)::

    LT_ADMIN_EMAIL=admin@example.com LT_ADMIN_PASSWORD=secret \\
    uv run locust -f loadtest/locustfile.py --headless --host http://127.0.0.1:8000 \\
        --only-summary --csv loadtest/out/stats

Without ``LT_ADMIN_EMAIL`` it uses what ``python -m loadtest.prepare`` left in ``LT_OUT_DIR``.

This file is the entry Locust loads; each user class and the shape live in their own module
(``loadtest/seat_picker.py``, ``rest_booker.py``, ``admin_watcher.py``, ``shape.py``; the setup
and wind-down hooks in ``hooks.py``, per-process state and ledger writes in ``run_state.py``).

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

import loadtest.hooks  # noqa: F401  (registers the setup, test-start and wind-down listeners)
from loadtest.admin_watcher import AdminWatcher
from loadtest.rest_booker import RestBooker
from loadtest.seat_picker import SeatPicker
from loadtest.shape import FlashSale

__all__ = ["AdminWatcher", "FlashSale", "RestBooker", "SeatPicker"]
