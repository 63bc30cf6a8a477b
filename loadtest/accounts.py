"""The token cache: accounts prepared before a run so that login cost stays out of the figures.

File shape (``LT_TOKENS_FILE``, written by ``python -m loadtest.prepare``)::

    {
      "host": "http://127.0.0.1:8401",          # where the accounts were made
      "written_at": 1732190000.0,               # epoch seconds
      "admin": Account | null,
      "users": [Account, ...]
    }

    Account = {"email": str, "password": str, "user_id": int | null,
               "access_token": str, "refresh_token": str,
               "expires_at": float}           # epoch seconds when access_token expires

Tokens are JWTs signed with the hubs' shared ``JWT_SECRET``, so one file serves every replica.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

__all__ = ["Account", "AccountPool", "TokenFile", "read_token_file", "write_token_file"]


@dataclass
class Account:
    """One prepared login. ``expires_at`` is epoch seconds."""

    email: str
    password: str
    access_token: str
    refresh_token: str
    expires_at: float
    user_id: int | None = None

    def fresh_for(self, seconds: float, now: float | None = None) -> bool:
        """Whether the access token stays valid for at least ``seconds`` more."""
        return self.expires_at - (time.time() if now is None else now) >= seconds

    @property
    def auth_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass
class TokenFile:
    host: str
    written_at: float
    admin: Account | None
    users: list[Account]


def _account(raw: dict[str, Any]) -> Account:
    return Account(**{k: raw.get(k) for k in Account.__dataclass_fields__})  # type: ignore[arg-type]


def read_token_file(path: Path) -> TokenFile:
    """Load a token file.

    Raises:
        FileNotFoundError: run ``python -m loadtest.prepare`` first.
    """
    raw = orjson.loads(path.read_bytes())
    return TokenFile(
        host=raw.get("host", ""),
        written_at=float(raw.get("written_at", 0.0)),
        admin=_account(raw["admin"]) if raw.get("admin") else None,
        users=[_account(u) for u in raw.get("users", [])],
    )


def write_token_file(path: Path, tokens: TokenFile) -> None:
    """Write atomically (temp file + rename) so a crashed prepare never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "host": tokens.host,
        "written_at": tokens.written_at,
        "admin": asdict(tokens.admin) if tokens.admin else None,
        "users": [asdict(u) for u in tokens.users],
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(orjson.dumps(body, option=orjson.OPT_INDENT_2))
    tmp.replace(path)


class AccountPool:
    """Hands out accounts to Locust users, one each, spread over Locust worker processes.

    Args:
        accounts: the prepared user accounts.
        worker_index: this Locust process's index (0 when running alone).
        worker_count: how many Locust processes share the file (1 when running alone).

    Account ``i`` of this process is ``accounts[(i * worker_count + worker_index) % len]``, so
    workers never share an account until there are more users than accounts.
    """

    def __init__(self, accounts: list[Account], worker_index: int = 0, worker_count: int = 1):
        if not accounts:
            raise ValueError("the token file holds no user accounts")
        self._accounts = accounts
        self._worker_index = worker_index
        self._worker_count = max(1, worker_count)
        self._counter = itertools.count()
        self._lock = threading.Lock()

    def take(self) -> Account:
        with self._lock:
            i = next(self._counter)
        return self._accounts[(i * self._worker_count + self._worker_index) % len(self._accounts)]
