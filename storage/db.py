"""Engines and session factories, and the one place PostgreSQL driver errors are translated.

A :class:`Database` has a primary engine (every write, every read a hold or confirm decides
on) and, when ``DATABASE_REPLICA_URL`` is set, a replica engine for lag-tolerant reads
(:meth:`Database.read`). With ``DATABASE_PGBOUNCER=true`` both engines are built for PgBouncer
in transaction pooling mode (:func:`engine_options`). Created by the app's lifespan (or the
CLI), never at import time (STYLE.md §7).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from hub.errors import Unavailable

if TYPE_CHECKING:
    from storage.settings import Settings

__all__ = ["Database", "engine_options", "unavailable_errors"]

log = logging.getLogger(__name__)
unavailable_errors = (OperationalError, InterfaceError, OSError, TimeoutError)


def _statement_name() -> str:
    return f"__asyncpg_{uuid4().hex}__"


def engine_options(pgbouncer: bool, application_name: str = "evently-hub") -> dict[str, Any]:
    """``connect_args`` for ``create_async_engine`` on asyncpg.

    ``pgbouncer=True`` (PgBouncer < 1.21 in transaction pooling mode, which cannot track
    protocol-level prepared statements): asyncpg's statement cache off
    (``statement_cache_size=0``), SQLAlchemy's off (``prepared_statement_cache_size=0``), and
    every statement SQLAlchemy prepares gets a unique name, so a name left on a server
    connection by another client (or process) never collides. Source: SQLAlchemy's asyncpg
    dialect notes "Prepared Statement Name with PGBouncer"; asyncpg FAQ on pgbouncer.
    """
    args: dict[str, Any] = {"server_settings": {"application_name": application_name}}
    if pgbouncer:
        args.update(statement_cache_size=0, prepared_statement_cache_size=0,
                    prepared_statement_name_func=_statement_name)
    return {"connect_args": args}


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
    """An async engine plus ``async_sessionmaker(expire_on_commit=False)``, and optionally a
    replica engine for :meth:`read`.

    Args:
        url: ``postgresql+asyncpg://…`` (a ``?host=/socket/dir`` query selects a Unix socket).
        pool_size: connections kept per process (per engine).
        replica_url: a streaming replica of ``url`` (same form); None: reads use the primary.
        pgbouncer: the URLs name PgBouncer in transaction pooling mode (:func:`engine_options`).
    """

    def __init__(self, url: str, pool_size: int = 10, *, replica_url: str | None = None,
                 pgbouncer: bool = False) -> None:
        self.url = url
        self.pgbouncer = pgbouncer
        self.engine: AsyncEngine = self._engine(url, pool_size, pgbouncer)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.replica: AsyncEngine | None = (
            self._engine(replica_url, pool_size, pgbouncer) if replica_url else None)

    @classmethod
    def from_settings(cls, settings: Settings, pool_size: int | None = None) -> Database:
        """The process's database from ``DATABASE_URL``, ``DATABASE_REPLICA_URL`` and
        ``DATABASE_PGBOUNCER``; ``pool_size`` defaults to ``DB_POOL_SIZE``.

        Raises: ValueError, ``DATABASE_URL`` unset.
        """
        if not settings.database_url:
            raise ValueError("DATABASE_URL is not set")
        return cls(settings.database_url,
                   settings.db_pool_size if pool_size is None else pool_size,
                   replica_url=settings.database_replica_url,
                   pgbouncer=settings.database_pgbouncer)

    @staticmethod
    def _engine(url: str, pool_size: int, pgbouncer: bool) -> AsyncEngine:
        options = engine_options(pgbouncer)
        if _local_without_ssl_setting(url):
            options["connect_args"]["ssl"] = False  # asyncpg's default "prefer" tries TLS first
        # A fixed pool, no overflow: overflow connections are closed when handed back, so a
        # burst above the pool reconnected mid-run (TLS attempt + type introspection each
        # time). No pre-ping (a round trip per checkout); a connection that died is
        # invalidated by SQLAlchemy on its first error, which callers see as Unavailable.
        return create_async_engine(url, pool_size=pool_size, max_overflow=0,
                                   pool_pre_ping=False, pool_recycle=1800, **options)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session on the primary inside ``BEGIN … COMMIT``; connection trouble becomes
        ``Unavailable``.

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

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[AsyncConnection]:
        """A primary connection for one self-contained statement (a function call that is its
        own transaction): in autocommit mode, one round trip.

        Through PgBouncer the statement runs inside ``BEGIN … COMMIT`` instead: in autocommit
        mode the server connection can change between asyncpg's Parse/Describe and its
        Bind/Execute once an earlier statement failed, and the named statement is then gone
        ("prepared statement … does not exist"; reproduced on PgBouncer 1.18). Errors are the
        driver's, as with ``engine.connect()``.
        """
        async with self.engine.connect() as conn:
            if self.pgbouncer:
                async with conn.begin():
                    yield conn
            else:
                yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    async def _replica_connection(self) -> AsyncConnection | None:
        """A connection to the replica, or None (no replica, or it cannot be reached)."""
        if self.replica is None:
            return None
        try:
            return await self.replica.connect()
        except (*unavailable_errors, DBAPIError):
            log.warning("PostgreSQL replica unreachable; reading from the primary")
            return None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only session for reads that tolerate replication lag (listings, seat labels,
        analytics): on the replica when one is configured and reachable, else on the primary.

        Never use it for anything a hold, confirm or view rebuild decides on: a replica may be
        behind the primary by its replay lag.
        """
        conn = await self._replica_connection()
        if conn is None:
            async with self.transaction() as session:
                yield session
            return
        try:
            async with AsyncSession(bind=conn, expire_on_commit=False) as session, \
                    session.begin():
                yield session
        except unavailable_errors as exc:
            raise Unavailable("PostgreSQL replica is unavailable.") from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise Unavailable("PostgreSQL replica connection lost.") from exc
            raise
        finally:
            await conn.close()

    async def ping(self) -> bool:
        """True when the primary answers ``SELECT 1``."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def close(self) -> None:
        """Dispose of both engines' pools."""
        await self.engine.dispose()
        if self.replica is not None:
            await self.replica.dispose()
