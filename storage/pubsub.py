"""The Redis pub/sub driver of one hub process: one connection, subscriptions on demand,
every message handed to :meth:`hub.fanout.Broadcaster.dispatch` (DESIGN "Fan-out").

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

__all__ = ["RedisChannels", "publish"]

log = logging.getLogger(__name__)


async def publish(client: aioredis.Redis, channel: str, message: dict[str, Any]) -> None:
    """Publish one JSON message. Raises: Unavailable."""
    try:
        await client.publish(channel, orjson.dumps(message))
    except RedisError as exc:
        raise Unavailable("Redis failed to publish.") from exc


class RedisChannels:
    """:class:`hub.fanout.ChannelDriver` on one Redis pub/sub connection.

    Args:
        client: the process's Redis client (a dedicated connection is taken from it).
        on_message: ``(channel, data)`` for every published message.
        on_reconnect: called after the connection was lost and re-established (every
            subscriber should then resynchronise: messages may have been missed).
    """

    def __init__(self, client: aioredis.Redis, on_message: Callable[[str, bytes], None],
                 on_reconnect: Callable[[], None] | None = None) -> None:
        self.client = client
        self.on_message = on_message
        self.on_reconnect = on_reconnect
        self.pubsub = client.pubsub(ignore_subscribe_messages=False)
        self.channels: set[str] = set()
        self._waiting: dict[str, asyncio.Future[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        # A connection is needed before listening; a keep-alive channel gives one.
        await self.pubsub.subscribe("evently:hello")
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
                try:
                    self.on_message(channel, msg["data"])
                except Exception:
                    log.exception("dispatch of a message on %s failed", channel)
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
                await self.pubsub.subscribe("evently:hello", *sorted(self.channels))
                break
            except (RedisError, OSError):
                delay = min(delay * 2, 2.0)
        if self.on_reconnect is not None:
            self.on_reconnect()
