"""The pub/sub driver on a real Redis: the seat view's deltas and personal pushes reach the
callbacks of a subscribed process, unsubscribing stops them, and a lost connection is
re-established with every subscription and reported (so sessions resynchronise).

Channels are server-wide (not per database): the event and user ids here are this session's
own, so other sessions on the same server do not speak on them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest
import redis.asyncio as aioredis

from storage.keys import user_channel
from storage.pubsub import RedisChannels, publish
from storage.seatview import RedisSeatView
from tests.support.seats import EPOCH, EVENT, NOW, hold_request, source
from tests.support.stores import timing

USER = EVENT + 1  # a user id no other session uses


class Received:
    """What the driver handed to its callbacks, with a way to wait for the next one."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[dict[str, object]] = asyncio.Queue()
        self.users: asyncio.Queue[tuple[int, dict[str, object]]] = asyncio.Queue()
        self.reconnects = 0

    def on_event(self, data: bytes) -> None:
        self.events.put_nowait(orjson.loads(data))

    def on_user(self, user_id: int, data: bytes) -> None:
        self.users.put_nowait((user_id, orjson.loads(data)))

    def on_reconnect(self) -> None:
        self.reconnects += 1


@pytest.fixture
async def driver(redis_client: aioredis.Redis) -> AsyncIterator[tuple[RedisChannels, Received]]:
    got = Received()
    channels = RedisChannels(redis_client, got.on_event, got.on_user, got.on_reconnect)
    await channels.start()
    try:
        yield channels, got
    finally:
        await channels.stop()


async def test_deltas_and_pushes_reach_a_subscriber(
        driver: tuple[RedisChannels, Received], view: RedisSeatView,
        redis_client: aioredis.Redis) -> None:
    channels, got = driver
    await view.load(source(4), NOW)
    await channels.subscribe_event(EVENT)
    await channels.subscribe_user(USER)
    await view.hold(hold_request(7, "a", seat_ids=(2,)))
    delta = await asyncio.wait_for(got.events.get(), timing(3))
    assert (delta["type"], delta["epoch"], delta["seq"]) == ("delta", EPOCH, 1)
    await publish(redis_client, user_channel(USER), {"type": "notification", "n": 1})
    assert await asyncio.wait_for(got.users.get(), timing(3)) == (
        USER, {"type": "notification", "n": 1})
    await publish(redis_client, user_channel(USER + 1), {"type": "notification"})  # not subscribed
    await channels.unsubscribe_event(EVENT)
    await view.release(EVENT, "a", 7, NOW + 1)
    await asyncio.sleep(timing(0.3))
    assert got.events.empty() and got.users.empty()


async def test_a_lost_connection_comes_back_with_its_subscriptions(
        driver: tuple[RedisChannels, Received], view: RedisSeatView,
        redis_client: aioredis.Redis) -> None:
    channels, got = driver
    await view.load(source(4), NOW)
    await channels.subscribe_event(EVENT)
    conn = channels.pubsub.connection
    assert conn is not None
    sockname = conn._writer.get_extra_info("sockname")  # type: ignore[union-attr]
    if isinstance(sockname, tuple):
        # TCP: kill exactly this process's pub/sub connection (other clients of the server
        # stay: the machine's Redis is shared).
        host, port = sockname[:2]
        assert await redis_client.client_kill_filter(_type=None, addr=f"{host}:{port}") == 1
    else:
        # A unix socket (the embedded Redis, private to this test session): every unix client
        # has the same address, so kill the session's pub/sub connections by type.
        assert await redis_client.client_kill_filter(_type="pubsub") >= 1
    deadline = asyncio.get_running_loop().time() + timing(5)
    while got.reconnects == 0:
        assert asyncio.get_running_loop().time() < deadline, "the driver never reconnected"
        await asyncio.sleep(0.05)
    await view.hold(hold_request(7, "a", seat_ids=(1,)))
    delta = await asyncio.wait_for(got.events.get(), timing(3))
    assert delta.get("seq") == 1 and got.reconnects == 1, delta
