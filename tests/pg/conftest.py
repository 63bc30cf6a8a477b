"""Fixtures of the ``pgscale`` group: the hub on a PostgreSQL primary with a streaming replica,
both behind PgBouncer in transaction pooling mode (:mod:`tests.support.pgtopology`).

The group runs only when selected (``pytest -m pgscale``; a CI step of its own), because it
starts three servers of its own. Redis is ``TEST_REDIS_URL`` (flushed before each test).
The test database is created and migrated on the primary directly; the hubs reach both
servers through PgBouncer only.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.pgtopology import PgTopology, missing_tools, start_topology
from tests.support.servers import HubProcess, hub_env
from tests.support.stores import TestStores


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the group unless ``-m`` names it (it starts its own servers)."""
    if "pgscale" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="own PostgreSQL topology: run with -m pgscale")
    for item in items:
        if item.get_closest_marker("pgscale"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def topology() -> Iterator[PgTopology]:
    """Primary + replica + PgBouncer (transaction pooling, 8 server connections a database)."""
    missing = missing_tools()
    if missing:
        pytest.skip(f"missing {missing}")
    topo = start_topology(pool_size=8)
    try:
        yield topo
    finally:
        topo.stop()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """``TEST_REDIS_URL`` (a database the group may flush); the group needs one."""
    import os

    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("set TEST_REDIS_URL (a Redis database the tests may flush)")
    return url


@pytest.fixture(scope="session")
def stores(topology: PgTopology, redis_url: str) -> TestStores:
    """The primary's test database, migrated (directly, not through PgBouncer), and Redis."""
    from storage.migrate import upgrade
    from storage.settings import Settings

    url = Settings(database_url=topology.primary_url).database_url
    assert url
    upgrade(url)
    return TestStores(url, redis_url)


def scaled_env(stores: TestStores, topology: PgTopology) -> dict[str, str]:
    """A hub's environment: primary and replica both through PgBouncer."""
    return hub_env(stores, DATABASE_URL=topology.bouncer_url,
                   DATABASE_REPLICA_URL=topology.bouncer_replica_url,
                   DATABASE_PGBOUNCER="true", DB_POOL_SIZE="20")


@pytest.fixture(scope="session")
def hub_server(stores: TestStores, topology: PgTopology) -> Iterator[HubProcess]:
    """One hub process through PgBouncer, with the replica for reads."""
    hub = HubProcess(scaled_env(stores, topology)).start()
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture(scope="session")
def second_hub(stores: TestStores, topology: PgTopology,
               hub_server: HubProcess) -> Iterator[HubProcess]:
    """A second hub process on the same topology: fan-out must cross processes."""
    hub = HubProcess(scaled_env(stores, topology)).start()
    try:
        yield hub
    finally:
        hub.stop()
