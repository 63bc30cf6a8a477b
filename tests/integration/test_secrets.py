"""The JWT secret: no short secret is accepted, and a generated one is private from birth."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

from storage.settings import MIN_SECRET_BYTES, Settings

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(jwt_secret="x" * (MIN_SECRET_BYTES - 1))
    assert Settings(jwt_secret="x" * MIN_SECRET_BYTES).secret() == "x" * MIN_SECRET_BYTES
    # Bytes, not characters: 16 two-byte characters are 32 bytes.
    assert Settings(jwt_secret="é" * 16).jwt_secret == "é" * 16


def test_serve_stops_with_one_clear_line_on_a_short_secret(tmp_path: Path) -> None:
    env = {**os.environ, "JWT_SECRET": "change-me", "EVENTLY_DATA_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "web.cli", "serve", "--port", "1"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "JWT_SECRET" in proc.stderr and "at least 32 bytes" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_the_generated_secret_file_is_0600_even_with_an_open_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        secret = Settings(jwt_secret=None, evently_data_dir=tmp_path).secret()
    finally:
        os.umask(old)
    path = tmp_path / "jwt_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(secret.encode()) >= MIN_SECRET_BYTES
    assert not list(tmp_path.glob("*.tmp"))  # no readable temporary copy was ever made
    # Kept: the next start (and every worker) signs with the same key.
    assert Settings(jwt_secret=None, evently_data_dir=tmp_path).secret() == secret


def test_racing_workers_agree_on_one_secret(tmp_path: Path) -> None:
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(
        Settings(jwt_secret=None, evently_data_dir=tmp_path).secret())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and len(set(results)) == 1


def test_a_short_kept_secret_is_refused(tmp_path: Path) -> None:
    (tmp_path / "jwt_secret").write_text("short")
    with pytest.raises(ValueError, match="at least 32 bytes"):
        Settings(jwt_secret=None, evently_data_dir=tmp_path).secret()
