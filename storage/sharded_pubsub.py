"""The sharded pub/sub driver of one hub process on a Redis Cluster (Redis 7 ``SSUBSCRIBE``).

A shard channel lives on the node that owns its slot (``ev:{e:42}`` is in the slot of the
event's keys, so the seat scripts ``SPUBLISH`` to it on the node they run on), and a message
published to it never leaves that shard. This driver keeps **one subscription connection per
shard master**: a plain ``redis.asyncio`` connection to the node, issuing ``SSUBSCRIBE`` for the
channels whose slot that node owns (slot owners come from the cluster client's slot map,
``CLUSTER SLOTS``). A reader task per connection hands messages to the callbacks.

When a connection breaks (a master killed, a failover), the node answers ``MOVED``, or Redis
drops a subscription because its slot moved (an unasked ``sunsubscribe``), the driver
refreshes the slot map until every channel's owner answers, re-subscribes every channel on its
new owner, and calls ``on_reconnect`` (subscribers then take a fresh snapshot: messages may
have been missed). redis-py's own ``ClusterPubSub`` polls its node connections one after the
other from one caller; one reader per shard delivers without that added latency.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot
from redis.exceptions import RedisError

from hub.errors import Unavailable
from storage.keys import event_id_of_channel
from storage.pubsub import ChannelRouting

__all__ = ["ShardedChannels"]

log = logging.getLogger(__name__)
CONFIRM_SECONDS = 5.0


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


class _Shard:
    """One subscription connection to one master node, with its reader task."""

    def __init__(self, name: str, host: str, port: int, owner: ShardedChannels) -> None:
        self.name = name
        self.client = aioredis.Redis(host=host, port=port, health_check_interval=5,
                                     socket_connect_timeout=2)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=False)
        self.owner = owner
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._read(), name=f"evently-spubsub-{self.name}")

    async def _read(self) -> None:
        while True:
            try:
                if not self.pubsub.subscribed:
                    await asyncio.sleep(0.2)
                    continue
                msg = await self.pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self.owner._lost(f"{self.name}: {exc!r}")
                return
            if msg is not None:
                self.owner._handle(msg)

    async def close(self) -> None:
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()
            try:
                await self.task
            except (asyncio.CancelledError, Exception):
                pass
        for closer in (self.pubsub.aclose, self.client.aclose):
            try:
                await closer()
            except Exception:
                pass


class ShardedChannels(ChannelRouting):
    """:class:`hub.ports.ChannelDriver` on a Redis Cluster with sharded pub/sub.

    Args:
        cluster: the process's :class:`RedisCluster` client (its slot map says which node
            owns a channel; its nodes manager is refreshed after a failure).
        on_event: ``(data)`` for every message on an event channel (JSON bytes).
        on_user: ``(user_id, data)`` for every message on a user's channel.
        on_reconnect: called after subscriptions were re-established on (possibly new)
            owners; messages may have been missed in between.
    """

    def __init__(self, cluster: RedisCluster, on_event: Callable[[bytes], None],
                 on_user: Callable[[int, bytes], None],
                 on_reconnect: Callable[[], None] | None = None) -> None:
        self.cluster = cluster
        self.on_event = on_event
        self.on_user = on_user
        self.on_reconnect = on_reconnect
        self.channels: set[str] = set()
        self.shards: dict[str, _Shard] = {}
        self.where: dict[str, str] = {}  # channel -> shard name it is subscribed on
        self._waiting: dict[str, asyncio.Future[None]] = {}
        self._lock = asyncio.Lock()
        self._remap: asyncio.Task[None] | None = None
        self._stopped = False
        #: Event ids whose channel moved to another node in the last remap (a failover):
        #: their views may have lost writes (read by the reconnect hook, then cleared).
        self.moved_events: set[int] = set()

    async def start(self) -> None:
        """Read the cluster's slot map (no connection is opened before a subscription)."""
        await self.cluster.initialize()

    async def stop(self) -> None:
        self._stopped = True
        if self._remap is not None:
            self._remap.cancel()
        for shard in list(self.shards.values()):
            await shard.close()
        self.shards.clear()

    def node_counts(self) -> dict[str, int]:
        """Channels subscribed per shard node (``host:port`` → count), for metrics and tests."""
        counts: dict[str, int] = defaultdict(int)
        for name in self.where.values():
            counts[name] += 1
        return dict(counts)

    async def subscribe(self, channel: str) -> None:
        """``SSUBSCRIBE`` on the owner of the channel's slot and wait (≤ 5 s) for Redis's
        confirmation. During a remap the channel is subscribed by the remap instead.
        Raises: Unavailable."""
        loop = asyncio.get_running_loop()
        async with self._lock:
            self.channels.add(channel)
            fut = self._waiting.setdefault(channel, loop.create_future())
            if self._remap is None or self._remap.done():
                try:
                    await self._ssubscribe_locked(channel)
                except (RedisError, OSError) as exc:
                    self.channels.discard(channel)
                    self._waiting.pop(channel, None)
                    self._lost(f"ssubscribe {channel}: {exc!r}")
                    raise Unavailable("Redis sharded pub/sub failed.") from exc
        try:
            await asyncio.wait_for(asyncio.shield(fut), CONFIRM_SECONDS)
        except TimeoutError as exc:
            raise Unavailable("Redis did not confirm the subscription.") from exc

    async def unsubscribe(self, channel: str) -> None:
        async with self._lock:
            self.channels.discard(channel)
            name = self.where.pop(channel, None)
            shard = self.shards.get(name) if name else None
            if shard is None:
                return
            try:
                await shard.pubsub.sunsubscribe(channel)
            except (RedisError, OSError):
                log.warning("sunsubscribe from %s failed", channel)

    async def _ssubscribe_locked(self, channel: str) -> None:
        node = self.cluster.get_node_from_key(channel)
        if node is None:
            raise RedisError(f"no node owns the slot of {channel}")
        shard = self.shards.get(node.name)
        if shard is None:
            shard = self.shards[node.name] = _Shard(node.name, node.host, node.port, self)
            await shard.pubsub.ssubscribe(channel)
            shard.start()
        else:
            await shard.pubsub.ssubscribe(channel)
        self.where[channel] = node.name

    def _handle(self, msg: dict[str, Any]) -> None:
        kind = _s(msg["type"])
        channel = _s(msg["channel"])
        if kind in ("smessage", "message"):
            self.dispatch(channel, msg["data"])
        elif kind == "ssubscribe":
            fut = self._waiting.pop(channel, None)
            if fut is not None and not fut.done():
                fut.set_result(None)
        elif kind == "sunsubscribe" and channel in self.channels:
            # Not asked for: the slot moved to another node (resharding or failover).
            self._lost(f"{channel} was unsubscribed by the server (slot moved)")

    def _lost(self, why: str) -> None:
        """Start one remap (if none runs): refresh slots, re-subscribe everything."""
        if self._stopped or (self._remap is not None and not self._remap.done()):
            return
        log.warning("sharded pub/sub interrupted (%s); remapping", why)
        self._remap = asyncio.create_task(self._remap_all(), name="evently-spubsub-remap")

    async def _remap_all(self) -> None:
        delay = 0.1
        while not self._stopped:
            await asyncio.sleep(delay)
            try:
                async with self._lock:
                    await self._resubscribe_locked()
                break
            except (RedisError, OSError) as exc:
                log.info("sharded pub/sub remap failed (%r); retrying", exc)
                delay = min(delay * 2, 1.0)
        if self.on_reconnect is not None and not self._stopped:
            self.on_reconnect()

    async def _resubscribe_locked(self) -> None:
        before = dict(self.where)
        for shard in list(self.shards.values()):
            await shard.close()
        self.shards.clear()
        self.where.clear()
        # A fresh slot map: a promoted replica owns the slots of the master it replaced.
        await self.cluster.nodes_manager.initialize()
        by_slot: dict[int, list[str]] = defaultdict(list)
        for channel in self.channels:
            by_slot[key_slot(channel.encode())].append(channel)
        for channels in by_slot.values():
            for channel in channels:  # one slot per SSUBSCRIBE call is required
                await self._ssubscribe_locked(channel)
        for shard in self.shards.values():
            await shard.client.ping()
        for channel, name in self.where.items():
            event_id = event_id_of_channel(channel)
            if event_id is not None and before.get(channel, name) != name:
                self.moved_events.add(event_id)
