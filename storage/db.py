"""Engine and session factory, and the one place PostgreSQL driver errors are translated.

Created by the app's lifespan (or the CLI), never at import time (STYLE.md §7).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from hub.errors import Unavailable

__all__ = ["Database", "unavailable_errors"]

unavailable_errors = (OperationalError, InterfaceError, OSError, TimeoutError)


_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def _local_without_ssl_setting(url: str) -> bool:
    """True for a loopback or Unix-socket URL that says nothing about TLS (``ssl``/``sslmode``):
    there the TLS attempt is a wasted round trip per connection."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if "ssl" in query or "sslmode" in query:
        return False
    host = query["host"][0] if "host" in query else parts.hostname or ""
    return not host or host.startswith("/") or host in _LOOPBACK


class Database:
    """An async engine plus ``async_sessionmaker(expire_on_commit=False)``.

    Args:
        url: ``postgresql+asyncpg://…`` (a ``?host=/socket/dir`` query selects a Unix socket).
        pool_size: connections kept per process.
    """

    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.url = url
        connect_args: dict[str, Any] = {"server_settings": {"application_name": "evently-hub"}}
        if _local_without_ssl_setting(url):
            connect_args["ssl"] = False  # asyncpg's default "prefer" tries TLS first
        # A fixed pool, no overflow: overflow connections are closed when handed back, so a
        # burst above the pool reconnected mid-run (TLS attempt + type introspection each
        # time). No pre-ping (a round trip per checkout); a connection that died is
        # invalidated by SQLAlchemy on its first error, which callers see as Unavailable.
        self.engine: AsyncEngine = create_async_engine(
            url, pool_size=pool_size, max_overflow=0, pool_pre_ping=False,
            pool_recycle=1800, connect_args=connect_args,
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside ``BEGIN … COMMIT``; connection trouble becomes ``Unavailable``.

        ``IntegrityError`` is left to the caller, which knows which contract error it means.
        """
        try:
            async with self.sessions() as session, session.begin():
                yield session
        except IntegrityError:
            raise
        except unavailable_errors as exc:
            raise Unavailable("PostgreSQL is unavailable; nothing was changed.") from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise Unavailable("PostgreSQL connection lost; nothing was changed.") from exc
            raise

    async def ping(self) -> bool:
        """True when PostgreSQL answers ``SELECT 1``."""
        from sqlalchemy import text

        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def close(self) -> None:
        await self.engine.dispose()
