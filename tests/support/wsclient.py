"""A real WebSocket client of ``/ws`` for tests: replies by ``ref``, pushes in a queue, and a
live seat map kept from snapshot + deltas exactly as CONTRACT §3 tells clients to."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import orjson
import websockets

from tests.support.api import server_map
from tests.support.stores import timing

__all__ = ["LiveClient", "settle"]


class LiveClient:
    """``await LiveClient.connect(url, token)``; ``await c.request("hold", event_id=1, qty=2)``.

    ``seats[event_id]`` maps seat_id → status as this client sees it; ``resyncs`` counts
    snapshots taken after the first. A gap in ``seq`` makes it resubscribe with ``since``.
    """

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self._refs = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.pushes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.seats: dict[int, dict[int, str]] = {}
        self.position: dict[int, tuple[int, int]] = {}
        self.deltas: list[dict[str, Any]] = []
        self.snapshots = 0
        self.gaps = 0
        self._reader = asyncio.create_task(self._read())
        self._background: set[asyncio.Task[Any]] = set()

    @classmethod
    async def connect(cls, url: str, token: str | None = None,
                      **kwargs: Any) -> LiveClient:
        ws = await websockets.connect(url, max_size=2**24, **kwargs)
        client = cls(ws)
        if token:
            reply = await client.request("auth", token=token)
            if reply["type"] != "ok":
                await client.close()
                raise AssertionError(f"auth failed: {reply}")
        return client

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        try:
            await self._reader
        except (asyncio.CancelledError, Exception):
            pass

    async def send_raw(self, text: str) -> None:
        await self.ws.send(text)

    async def request(self, op: str, timeout: float = 10, **fields: Any) -> dict[str, Any]:
        """Send ``op`` and return the ``ok`` reply's fields; an ``error`` reply is returned
        as is (``type == "error"``) for the caller to assert on."""
        ref = next(self._refs)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[ref] = fut
        await self.ws.send(orjson.dumps({"op": op, "ref": ref, **fields}).decode())
        return await asyncio.wait_for(fut, timeout)

    async def subscribe(self, event_id: int, since: tuple[int, int] | None = None,
                        ) -> dict[str, Any]:
        extra = {} if since is None else {"since": {"epoch": since[0], "seq": since[1]}}
        return await self.request("subscribe", event_id=event_id, **extra)

    async def next_push(self, kind: str, timeout: float = 5) -> dict[str, Any]:
        """The next push of type ``kind`` (others are skipped)."""
        async def find() -> dict[str, Any]:
            while True:
                msg = await self.pushes.get()
                if msg.get("type") == kind:
                    return msg

        return await asyncio.wait_for(find(), timeout)

    async def _read(self) -> None:
        async for frame in self.ws:
            data = orjson.loads(frame)
            for msg in data if isinstance(data, list) else [data]:
                self._on(msg)

    def _on(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind in ("ok", "error") or (kind == "pong" and msg.get("ref") is not None):
            fut = self._waiting.pop(msg.get("ref"), None)  # type: ignore[arg-type]
            if fut is not None and not fut.done():
                fut.set_result(msg)
            return
        if kind == "snapshot":
            ev = msg["event_id"]
            self.snapshots += 1
            m: dict[int, str] = {}
            for status, ids in msg["seats"].items():
                for i in ids:
                    m[i] = status
            self.seats[ev] = m
            self.position[ev] = (msg["epoch"], msg["seq"])
        elif kind == "delta":
            ev = msg["event_id"]
            epoch, seq = self.position.get(ev, (None, None))
            if epoch != msg["epoch"] or seq is None or msg["seq"] != seq + 1:
                self.gaps += 1
                if seq is not None and msg["seq"] <= seq and epoch == msg["epoch"]:
                    return  # an old delta: already applied
                task = asyncio.create_task(self.subscribe(ev, (epoch, seq) if epoch else None))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
                return
            self.deltas.append(msg)
            for c in msg["changes"]:
                self.seats[ev][c["seat_id"]] = c["status"]
            self.position[ev] = (epoch, msg["seq"])
        elif kind == "recovered":
            pass
        self.pushes.put_nowait(msg)


async def settle(clients: list[LiveClient], hub: Any, event_id: int,
                 within: float = 1.0) -> dict[int, str]:
    """Wait up to ``within`` seconds (scaled) for every client's map to equal the server's;
    returns the server's map. Raises AssertionError naming the clients that disagree."""
    deadline = time.monotonic() + timing(within)
    while True:
        truth = server_map(hub, event_id)
        if all(c.seats.get(event_id) == truth for c in clients):
            return truth
        if time.monotonic() > deadline:
            wrong = [i for i, c in enumerate(clients) if c.seats.get(event_id) != truth]
            raise AssertionError(f"clients {wrong[:10]} disagree with the server")
        await asyncio.sleep(0.05)
