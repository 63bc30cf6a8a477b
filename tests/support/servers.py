"""Real ``evently serve`` processes for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.stores import TestStores

__all__ = ["ROOT", "HubProcess", "free_port", "hub_env"]

ROOT = Path(__file__).resolve().parents[2]


def hub_env(stores: TestStores, **extra: str) -> dict[str, str]:
    """The environment of a test hub process; each call gets its own data (and metrics)
    folder, so concurrent test runs on one machine never share one."""
    data_dir = tempfile.mkdtemp(prefix="evently-hub-")
    return {"DATABASE_URL": stores.database_url, "REDIS_URL": stores.redis_url,
            "JWT_SECRET": "test-secret-" + "x" * 32, "BCRYPT_ROUNDS": "4",
            "RATE_LIMIT_ENABLED": "false", "LOG_LEVEL": "warning",
            "EVENTLY_DATA_DIR": data_dir,
            **({"REDIS_CLUSTER": "true"} if stores.redis_cluster else {}), **extra}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HubProcess:
    """One ``evently serve`` on 127.0.0.1:``port`` with the given environment."""

    def __init__(self, env: dict[str, str], port: int | None = None, workers: int = 1,
                 log_path: Path | None = None) -> None:
        self.env = env
        self.port = port or free_port()
        self.workers = workers
        self.log_path = log_path or Path(ROOT / "test-output" / f"hub-{self.port}.log")
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self, timeout: float = 60) -> HubProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._close_log()
        self._log = log = open(self.log_path, "ab")  # closed in stop()
        cmd = [sys.executable, "-m", "web.cli", "serve", "--port", str(self.port),
               "--workers", str(self.workers)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **self.env},
                                     stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._close_log()
                raise RuntimeError(f"hub exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"hub not ready after {timeout}s; see {self.log_path}")

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self._close_log()
            return
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        self._close_log()

    def restart(self) -> None:
        self.stop()
        self.start()
