"""The domain core does no I/O: importing every ``hub`` module pulls in no web, database or
Redis library (STYLE.md §1)."""

import subprocess
import sys

FORBIDDEN = ("starlette", "sqlalchemy", "redis", "asyncpg", "uvicorn", "websockets", "jwt",
             "bcrypt", "pydantic")


def test_hub_imports_no_io_library() -> None:
    code = (
        "import pkgutil, importlib, sys, hub\n"
        "for m in pkgutil.iter_modules(hub.__path__): importlib.import_module('hub.' + m.name)\n"
        f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "", f"hub imported I/O libraries: {out}"
