"""Locust lifecycle hooks: setup before the run, per-process loading at test start, wind-down.

Importing this module registers the listeners on ``locust.events``; ``locustfile.py`` does so.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from typing import Any

from locust import events
from locust.runners import MasterRunner, WorkerRunner

from loadtest.accounts import AccountPool, read_token_file
from loadtest.config import Settings, load_settings
from loadtest.ledger import Ledger
from loadtest.run_state import STATE

__all__ = ["WIND_DOWN_MESSAGE", "auto_prepare"]

log = logging.getLogger("loadtest")

# The custom runner message the shape sends (master → workers) when selling ends.
WIND_DOWN_MESSAGE = "lt_wind_down"


def _on_wind_down(environment: Any = None, msg: Any = None, **_: Any) -> None:
    if not STATE.wind_down.is_set():
        log.info("wind-down: releasing holds, recording maps after the quiet phase")
    STATE.wind_down.set()


@events.init.add_listener
def _init(environment: Any, **_: Any) -> None:
    settings = load_settings()
    STATE.settings = settings
    if environment.runner is not None:
        environment.runner.register_message(WIND_DOWN_MESSAGE, _on_wind_down)
    if not isinstance(environment.runner, WorkerRunner) and os.environ.get("LT_ADMIN_EMAIL"):
        auto_prepare(environment, settings)


def auto_prepare(environment: Any, settings: Settings) -> None:
    """With ``LT_ADMIN_EMAIL``/``LT_ADMIN_PASSWORD`` set, run the setup step before any user.

    ``loadtest.prepare`` runs as a subprocess (plain asyncio, away from gevent): it reuses or
    refreshes cached accounts (``LT_USERS`` of them) and, unless ``LT_EVENT_ID`` is set, creates
    a fresh event (``LT_SECTIONS``, default 300 seats) for this run. None of it is timed.

    Raises:
        SystemExit: when the setup step fails.
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
