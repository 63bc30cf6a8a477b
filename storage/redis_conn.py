"""Building the process's Redis client: one Redis (``redis.asyncio.Redis`` on a blocking pool)
or a Redis Cluster (``redis.asyncio.RedisCluster``) when ``REDIS_CLUSTER=true``.

Every storage adapter takes the client this module builds and asks :func:`is_cluster` only
where the two differ: pub/sub (``SPUBLISH``/``SSUBSCRIBE`` on a cluster, DESIGN "Fan-out") and
the Lua scripts' publish command. Keys are laid out for a cluster either way
(:mod:`storage.keys`).
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterPipeline, RedisCluster
from redis.exceptions import ConnectionError
from redis.maint_notifications import MaintNotificationsConfig

__all__ = ["RedisClient", "close_client", "connect", "execute", "is_cluster"]

#: What every storage adapter accepts: a single Redis or a cluster client.
RedisClient = aioredis.Redis | RedisCluster
CLUSTER_POOL_FACTOR = 8


def _closed_under_us(exc: BaseException) -> bool:
    """True for the errors redis-py's asyncio cluster client raises when a node connection is
    closed under a command while it re-reads the slot map after a node failed (a failover):
    ``RuntimeError`` from the closed transport, ``AttributeError`` on its ``None`` writer."""
    return isinstance(exc, RuntimeError) or (
        isinstance(exc, AttributeError) and "NoneType" in str(exc))


class _Cluster(RedisCluster):
    """:class:`RedisCluster` whose commands (and scripts) fail with a Redis
    ``ConnectionError`` when a connection was closed under them (see
    :func:`_closed_under_us`), so callers turn them into ``Unavailable`` as usual."""

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().execute_command(*args, **kwargs)
        except (AttributeError, RuntimeError) as exc:
            if not _closed_under_us(exc):
                raise
            raise ConnectionError(f"cluster command failed: {exc!r}") from exc


def connect(url: str, cluster: bool, pool_size: int) -> Any:
    """A client for ``url``.

    Args:
        url: ``redis://host:port/db`` (single) or ``redis://host:port`` naming any one node of
            the cluster (the others are discovered with ``CLUSTER SLOTS``).
        cluster: build a :class:`RedisCluster` (refreshes its slot map on ``MOVED`` and on
            connection errors, so a promoted replica is found after a failover).
        pool_size: connections in the blocking pool (single), or ``pool_size ×
            CLUSTER_POOL_FACTOR`` at most per node (cluster).
    """
    if cluster:
        # Maintenance notifications off: Redis 7 does not know the handshake, and redis-py's
        # "auto" attempt on every new node connection broke connects under a burst.
        # The cluster client's per-node pool does not block when it is full: it fails the
        # command (and a failing pipeline makes redis-py drop every node's connections), so
        # the cap is set well above the single-Redis pool's; connections open on demand.
        return _Cluster.from_url(
            url, max_connections=pool_size * CLUSTER_POOL_FACTOR, health_check_interval=30,
            maint_notifications_config=MaintNotificationsConfig(enabled=False))
    # A blocking pool: under a burst, commands wait for a connection instead of failing.
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=pool_size, timeout=5, health_check_interval=30)
    return aioredis.Redis(connection_pool=pool)


def is_cluster(client: Any) -> bool:
    """True for a :class:`RedisCluster` client (or a pipeline of one)."""
    return isinstance(client, RedisCluster)


async def execute(pipe: Any) -> list[Any]:
    """``await pipe.execute()``; on a cluster, a failure of the wrong type becomes a
    :class:`redis.exceptions.ConnectionError` (which callers turn into ``Unavailable``).

    redis-py's asyncio cluster pipeline can fail with ``AttributeError``/``RuntimeError``
    when a node connection is closed under it while the client re-reads the slot map after a
    node failed (a failover), instead of raising a Redis connection error.
    """
    if not isinstance(pipe, ClusterPipeline):
        return list(await pipe.execute())
    try:
        return list(await pipe.execute())
    except (AttributeError, RuntimeError) as exc:
        if not _closed_under_us(exc):
            raise
        raise ConnectionError(f"cluster pipeline failed: {exc!r}") from exc


async def close_client(client: Any) -> None:
    """Close the client and the pool(s) it was built with."""
    if is_cluster(client):
        await client.aclose()
    else:
        await client.aclose(close_connection_pool=True)
