"""The CI flash sale as a test: two hub processes, Locust, then the no-oversell verifier.

Runs ``loadtest/ci_flash_sale.sh`` against the suite's real stores (``TEST_DATABASE_URL`` /
``TEST_REDIS_URL``, else the embedded servers), emptied first, on two free ports, and requires
exit 0: Locust saw no unexpected failure and ``loadtest/verify_run.py`` found no violation.
About a minute.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported at run time, pytest would try to collect the class
    from tests.support.stores import TestStores

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_flash_sale_never_oversells(clean_stores: TestStores, tmp_path: Path) -> None:
    if shutil.which("uv") is None:
        pytest.skip("needs uv on PATH")
    env = {
        **os.environ,
        "DATABASE_URL": clean_stores.database_url,
        "REDIS_URL": clean_stores.redis_url,
        "LT_OUT_DIR": str(tmp_path),
        "LT_PORTS": f"{_free_port()} {_free_port()}",
        "LT_USERS": os.environ.get("LT_USERS", "60"),
        "LT_DURATION_SECONDS": os.environ.get("LT_DURATION_SECONDS", "30"),
        "LT_EXPECT_SOLD_OUT": "1",
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
    assert b'"ok": true' in (tmp_path / "verify.json").read_bytes()
