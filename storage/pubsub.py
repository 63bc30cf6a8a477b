"""The Redis pub/sub driver of one hub process: one connection, subscriptions on demand,
every message handed to :meth:`hub.fanout.Broadcaster.dispatch_event` or
:meth:`~hub.fanout.Broadcaster.dispatch_user` (DESIGN "Fan-out"). Channel names come from
:mod:`storage.keys`.

:meth:`RedisChannels.subscribe` returns only once Redis has confirmed the subscription, so a
session that reads its snapshot afterwards cannot miss a delta published in between.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from hub.errors import Unavailable
from storage.keys import HELLO_CHANNEL, event_channel, user_channel, user_id_of_channel
from storage.redis_conn import is_cluster

__all__ = ["ChannelRouting", "RedisChannels", "publish"]

log = logging.getLogger(__name__)


async def publish(client: aioredis.Redis, channel: str, message: dict[str, Any]) -> None:
    """Publish one JSON message: ``SPUBLISH`` on a Redis Cluster (sharded pub/sub, routed to
    the channel's slot owner), ``PUBLISH`` on a single Redis. Raises: Unavailable."""
    try:
        if is_cluster(client):
            await client.spublish(channel, orjson.dumps(message))
        else:
            await client.publish(channel, orjson.dumps(message))
    except RedisError as exc:
        raise Unavailable("Redis failed to publish.") from exc


class ChannelRouting:
    """What both pub/sub drivers (:class:`RedisChannels`, and the sharded one for Redis Cluster
    in :mod:`storage.sharded_pubsub`) share: channels named by event or user id
    (:mod:`storage.keys`), and a received message handed to ``on_event(data)`` or
    ``on_user(user_id, data)`` by its channel. Subclasses set ``on_event``/``on_user`` and
    implement ``subscribe(channel)`` / ``unsubscribe(channel)``."""

    on_event: Callable[[bytes], None]
    on_user: Callable[[int, bytes], None]

    async def subscribe(self, channel: str) -> None:
        raise NotImplementedError

    async def unsubscribe(self, channel: str) -> None:
        raise NotImplementedError

    async def subscribe_event(self, event_id: int) -> None:
        """Subscribe to the event's channel (confirmed). Raises: Unavailable."""
        await self.subscribe(event_channel(event_id))

    async def unsubscribe_event(self, event_id: int) -> None:
        await self.unsubscribe(event_channel(event_id))

    async def subscribe_user(self, user_id: int) -> None:
        """Subscribe to the user's channel (confirmed). Raises: Unavailable."""
        await self.subscribe(user_channel(user_id))

    async def unsubscribe_user(self, user_id: int) -> None:
        await self.unsubscribe(user_channel(user_id))

    def dispatch(self, channel: str, data: bytes) -> None:
        """Hand one message to ``on_user`` (a user channel) or ``on_event``; a failing
        handler is logged, never raised into the reader loop."""
        try:
            user_id = user_id_of_channel(channel)
            if user_id is not None:
                self.on_user(user_id, data)
            else:
                self.on_event(data)
        except Exception:
            log.exception("dispatch of a message on %s failed", channel)


class RedisChannels(ChannelRouting):
    """:class:`hub.ports.ChannelDriver` on one Redis pub/sub connection.

    Args:
        client: the process's Redis client (a dedicated connection is taken from it).
        on_event: ``(data)`` for every message on an event channel (JSON bytes).
        on_user: ``(user_id, data)`` for every message on a user's channel.
        on_reconnect: called after the connection was lost and re-established (every
            subscriber should then resynchronise: messages may have been missed).
    """

    def __init__(self, client: aioredis.Redis, on_event: Callable[[bytes], None],
                 on_user: Callable[[int, bytes], None],
                 on_reconnect: Callable[[], None] | None = None) -> None:
        self.client = client
        self.on_event = on_event
        self.on_user = on_user
        self.on_reconnect = on_reconnect
        self.pubsub = client.pubsub(ignore_subscribe_messages=False)
        self.channels: set[str] = set()
        self._waiting: dict[str, asyncio.Future[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        # A connection is needed before listening; a keep-alive channel gives one.
        await self.pubsub.subscribe(HELLO_CHANNEL)
        self._task = asyncio.create_task(self._reader(), name="evently-pubsub")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        try:
            await self.pubsub.aclose()
        except Exception:
            pass

    async def subscribe(self, channel: str) -> None:
        """Subscribe and wait (≤ 5 s) for Redis's confirmation. Raises: Unavailable."""
        loop = asyncio.get_running_loop()
        async with self._lock:
            self.channels.add(channel)
            fut = self._waiting.setdefault(channel, loop.create_future())
            try:
                await self.pubsub.subscribe(channel)
            except RedisError as exc:
                self.channels.discard(channel)
                self._waiting.pop(channel, None)
                raise Unavailable("Redis pub/sub failed.") from exc
        try:
            await asyncio.wait_for(asyncio.shield(fut), 5)
        except TimeoutError as exc:
            raise Unavailable("Redis did not confirm the subscription.") from exc

    async def unsubscribe(self, channel: str) -> None:
        async with self._lock:
            self.channels.discard(channel)
            try:
                await self.pubsub.unsubscribe(channel)
            except RedisError:
                log.warning("unsubscribe from %s failed", channel)

    async def _reader(self) -> None:
        while True:
            try:
                msg = await self.pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("pub/sub connection lost (%s); reconnecting", exc)
                await self._reconnect()
                continue
            if msg is None:
                continue
            kind = msg["type"]
            channel = msg["channel"]
            channel = channel.decode() if isinstance(channel, bytes) else channel
            if kind == "message":
                if channel not in self.channels:
                    # unsubscribed: Redis may still deliver what was published before it
                    # read the UNSUBSCRIBE (it comes on another connection than the publish)
                    continue
                self.dispatch(channel, msg["data"])
            elif kind == "subscribe":
                fut = self._waiting.pop(channel, None)
                if fut is not None and not fut.done():
                    fut.set_result(None)

    async def _reconnect(self) -> None:
        delay = 0.1
        while True:
            await asyncio.sleep(delay)
            try:
                await self.pubsub.aclose()
                self.pubsub = self.client.pubsub(ignore_subscribe_messages=False)
                await self.pubsub.subscribe(HELLO_CHANNEL, *sorted(self.channels))
                break
            except (RedisError, OSError):
                delay = min(delay * 2, 2.0)
        if self.on_reconnect is not None:
            self.on_reconnect()
