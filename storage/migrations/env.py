"""Alembic environment: async engine on the URL given by ``storage.migrate``."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import engine_options
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      compare_type=True)
    with context.begin_transaction():
        # Several processes may start at once (tests, replicas): one migrates, others wait.
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7412001)")
        context.run_migrations()


async def _online() -> None:
    # PgBouncer-safe (unique statement names, no caches): a URL may name a pooler.
    engine = create_async_engine(config.get_main_option("sqlalchemy.url") or "",
                                 **engine_options(True, "evently-migrate"))
    async with engine.connect() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_online())
