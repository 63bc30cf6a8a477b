"""The CI flash sale as a test: two hub processes, Locust, then the no-oversell verifier.

Runs ``loadtest/ci_flash_sale.sh`` against ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` (real
servers; skipped when unset) and requires exit 0. About a minute.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_flash_sale_never_oversells(tmp_path: Path) -> None:
    db, redis = os.environ.get("TEST_DATABASE_URL"), os.environ.get("TEST_REDIS_URL")
    if not db or not redis or shutil.which("uv") is None:
        pytest.skip("needs TEST_DATABASE_URL, TEST_REDIS_URL and uv")
    env = {
        **os.environ,
        "DATABASE_URL": db,
        "REDIS_URL": redis,
        "LT_OUT_DIR": str(tmp_path),
        "LT_USERS": os.environ.get("LT_USERS", "60"),
        "LT_DURATION_SECONDS": os.environ.get("LT_DURATION_SECONDS", "30"),
    }
    proc = subprocess.run(
        [str(ROOT / "loadtest" / "ci_flash_sale.sh")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert (tmp_path / "verify.json").exists()
