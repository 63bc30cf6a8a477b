"""The PostgreSQL scaling settings, without servers (part of the normal run): URL forms, the
PgBouncer driver options, and that no replica means one engine."""

from __future__ import annotations

import pytest

from storage.db import Database, engine_options
from storage.settings import Settings


def test_the_replica_url_gets_the_asyncpg_driver_like_the_primary() -> None:
    s = Settings(database_url="postgres://u@h/db", database_replica_url="postgresql://u@r/db",
                 database_pgbouncer=True)
    assert s.database_url == "postgresql+asyncpg://u@h/db"
    assert s.database_replica_url == "postgresql+asyncpg://u@r/db"
    assert Settings(database_replica_url="").database_replica_url is None


def test_pgbouncer_options_turn_off_both_caches_and_name_statements_uniquely() -> None:
    plain = engine_options(False)["connect_args"]
    assert "statement_cache_size" not in plain and "prepared_statement_name_func" not in plain
    args = engine_options(True)["connect_args"]
    assert args["statement_cache_size"] == 0 and args["prepared_statement_cache_size"] == 0
    names = {args["prepared_statement_name_func"]() for _ in range(1000)}
    assert len(names) == 1000 and all(n.startswith("__asyncpg_") for n in names)


async def test_from_settings_builds_a_replica_engine_only_when_asked() -> None:
    one = Database.from_settings(Settings(database_url="postgresql://u@h/db"))
    two = Database.from_settings(Settings(database_url="postgresql://u@h/db",
                                          database_replica_url="postgresql://u@r/db",
                                          database_pgbouncer=True), 3)
    try:
        assert one.replica is None and not one.pgbouncer
        assert one.engine.pool.size() == Settings().db_pool_size  # type: ignore[attr-defined]
        assert two.replica is not None and two.pgbouncer
        assert two.replica.url.host == "r" and two.engine.pool.size() == 3  # type: ignore[attr-defined]
    finally:
        await one.close()
        await two.close()
    with pytest.raises(ValueError, match="DATABASE_URL"):
        Database.from_settings(Settings(database_url=None))
