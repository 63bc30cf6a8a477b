"""The heavy test tools (the ``e2e`` dependency group: the browser driver, Locust,
Schemathesis) are installed by the test run itself, on first use.

``uv run`` installs only the default (``dev``) group, so that ``uv run evently serve`` on a
fresh clone stays light; ``uv run pytest`` then calls :func:`ensure_e2e_tools` before any test
module is imported, which runs ``uv sync --inexact --group e2e`` once when a tool is missing.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["E2E_MODULES", "ensure_e2e_tools"]

ROOT = Path(__file__).resolve().parents[2]
E2E_MODULES = ("playwright", "locust", "schemathesis")  # the modules of the ``e2e`` group


def missing_e2e_tools() -> list[str]:
    """The modules of the ``e2e`` group that cannot be imported here."""
    return [m for m in E2E_MODULES if importlib.util.find_spec(m) is None]


def ensure_e2e_tools() -> None:
    """Install the ``e2e`` group into this environment when any of its modules is missing.

    Raises:
        RuntimeError: ``uv`` is not found, or the sync failed (its output is on stderr).
    """
    missing = missing_e2e_tools()
    if not missing:
        return
    uv = os.environ.get("UV") or shutil.which("uv")  # ``uv run`` names itself in UV
    if not uv:
        raise RuntimeError(f"the test tools {missing} are not installed and uv is not on "
                           "PATH; run `uv sync --group e2e` first")
    print(f"evently tests: installing the e2e test tools ({', '.join(missing)}) once with "
          "`uv sync --inexact --group e2e`", file=sys.stderr)
    done = subprocess.run([uv, "sync", "--inexact", "--frozen", "--group", "e2e"], cwd=ROOT,
                          stdout=sys.stderr, stderr=sys.stderr)
    if done.returncode != 0:
        raise RuntimeError("`uv sync --group e2e` failed; see its output above")
    importlib.invalidate_caches()
    still = missing_e2e_tools()
    if still:
        raise RuntimeError(f"after `uv sync --group e2e`, {still} still cannot be imported "
                           f"by {sys.executable}; is this the project's environment?")
