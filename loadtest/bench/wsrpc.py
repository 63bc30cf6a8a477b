"""Request/reply by ``ref`` over one asyncio WebSocket, for the benchmarks' drivers.

CONTRACT §3: a reply echoes the request's ``ref``; a server frame is one message or an array
of them. Pushes (deltas, snapshots …) are dropped here; benchmarks that need them read the
socket themselves.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

__all__ = ["WsRpc", "open_rpc"]


class WsRpc:
    """``await rpc.call("hold", event_id=1, seat_ids=[3])`` → the reply message (ok or error)."""

    def __init__(self, ws: ClientConnection, timeout: float = 30.0):
        self.ws = ws
        self.timeout = timeout
        self._refs = 0
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                data = orjson.loads(raw)
                for msg in data if isinstance(data, list) else (data,):
                    fut = self._waiting.pop(msg["ref"], None) if "ref" in msg else None
                    if fut is not None and not fut.done():
                        fut.set_result(msg)
        finally:
            for fut in self._waiting.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("websocket closed"))

    async def call(self, op: str, **fields: Any) -> dict[str, Any]:
        self._refs += 1
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[self._refs] = fut
        await self.ws.send(orjson.dumps({"op": op, "ref": self._refs, **fields}))
        return await asyncio.wait_for(fut, self.timeout)

    async def close(self) -> None:
        self._reader.cancel()
        await self.ws.close()


async def open_rpc(url: str, token: str | None = None) -> WsRpc:
    """Connect (``Authorization: Bearer`` on the upgrade when ``token``) without compression."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    ws = await connect(
        url, compression=None, additional_headers=headers, ping_interval=None, max_size=2**23
    )
    return WsRpc(ws)
