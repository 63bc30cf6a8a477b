"""Hub processes the benchmarks start themselves: ``evently serve`` on a free port.

A hub runs in its own session (so stopping it stops its workers) with the caller's environment
plus ``RATE_LIMIT_ENABLED=false``; it is ready when ``/readyz`` answers 200.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from loadtest.bench.common import free_port

__all__ = ["SpawnedHub", "add_admin"]

ROOT = Path(__file__).resolve().parents[2]


class SpawnedHub:
    """One ``python -m web.cli serve --workers N`` on 127.0.0.1 (``.url``), stopped by
    :meth:`stop` (SIGINT to its process group, SIGKILL after 15 s).

    Args:
        workers: worker processes. cwd: the checkout to serve (default: this one), so a
            benchmark can start the code of another commit with the same interpreter.
        log: file for the hub's output (default: discarded).
    """

    def __init__(self, workers: int, cwd: Path = ROOT, log: Path | None = None,
                 timeout: float = 120) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        out = open(log, "ab") if log else subprocess.DEVNULL  # closed in stop()
        self._out = out
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "web.cli", "serve", "--port", str(self.port),
             "--workers", str(workers)],
            cwd=cwd, env={**os.environ, "RATE_LIMIT_ENABLED": "false"},
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"hub not ready after {timeout:g} s")

    def stop(self) -> None:
        """Stop the hub and its workers; idempotent."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if self._out is not subprocess.DEVNULL:
            self._out.close()  # type: ignore[union-attr]


def add_admin(email: str, password: str, cwd: Path = ROOT) -> None:
    """Create (or update) an admin account with ``evently user add`` on the configured stores."""
    subprocess.run([sys.executable, "-m", "web.cli", "user", "add", email, "--password",
                    password, "--role", "admin"], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
