"""The raw fan-out limit: a bare ``websockets`` broadcast server, just enough of CONTRACT §3.

Nothing but the WebSocket library, the event loop (uvloop when installed, as uvicorn uses) and
orjson: no Redis, no auth, no queues. The fan-out benchmark runs the same clients against it and
against the hub, so the hub's figures read as a fraction of what this machine can do at all.

Protocol (text frames of JSON):

- ``{"op": "subscribe", "event_id": int, "ref": any}`` → ``{"type": "ok", "ref", "event_id",
  "epoch", "seq"}`` then ``{"type": "snapshot", "event_id", "epoch", "seq", "seats": {…}}``.
- ``{"op": "publish", "event_id": int, "seat_id": int, "status": str, "ref": any}`` → every
  subscriber of the event gets ``{"type": "delta", "event_id", "epoch", "seq", "ts", "changes":
  [{"seat_id", "status"}]}`` (``ts`` = epoch ms at publish, ``seq`` +1 per delta), then the
  publisher gets ``{"type": "ok", "ref", "seq"}``.
- ``{"op": "ping", "ref": any}`` → ``{"type": "pong", "ref"}``.

Run: ``uv run python -m loadtest.bench.raw_broadcast --port 8499`` (prints ``ready`` when
listening).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

from loadtest.bench.common import raise_nofile

__all__ = ["RawHub", "main"]


class RawHub:
    """Subscribers per event and the per-event ``seq``; the whole of the raw server's state."""

    def __init__(self) -> None:
        self.subscribers: dict[int, set[ServerConnection]] = {}
        self.seq: dict[int, int] = {}

    async def handler(self, ws: ServerConnection) -> None:
        joined: set[int] = set()
        try:
            async for raw in ws:
                msg: dict[str, Any] = orjson.loads(raw)
                op, ref = msg.get("op"), msg.get("ref")
                if op == "publish":
                    self.publish(int(msg["event_id"]), msg.get("seat_id", 0), msg.get("status"))
                    seq = self.seq[int(msg["event_id"])]
                    await ws.send(orjson.dumps({"type": "ok", "ref": ref, "seq": seq}).decode())
                elif op == "subscribe":
                    event_id = int(msg["event_id"])
                    self.subscribers.setdefault(event_id, set()).add(ws)
                    joined.add(event_id)
                    seq = self.seq.setdefault(event_id, 0)
                    head = {"event_id": event_id, "epoch": "raw", "seq": seq}
                    await ws.send(orjson.dumps({"type": "ok", "ref": ref, **head}).decode())
                    snapshot = {"type": "snapshot", **head, "seats": {"available": []}}
                    await ws.send(orjson.dumps(snapshot).decode())
                elif op == "ping":
                    await ws.send(orjson.dumps({"type": "pong", "ref": ref}).decode())
                else:
                    err = {"type": "error", "ref": ref, "code": "BAD_REQUEST", "message": "op"}
                    await ws.send(orjson.dumps(err).decode())
        except ConnectionClosed:
            pass
        finally:
            for event_id in joined:
                self.subscribers.get(event_id, set()).discard(ws)

    def publish(self, event_id: int, seat_id: int, status: Any) -> None:
        seq = self.seq.get(event_id, 0) + 1
        self.seq[event_id] = seq
        delta = {
            "type": "delta",
            "event_id": event_id,
            "epoch": "raw",
            "seq": seq,
            "ts": time.time() * 1000.0,
            "changes": [{"seat_id": seat_id, "status": status}],
        }
        # broadcast() encodes the frame once and writes it to every socket without awaiting:
        # the cheapest fan-out the library offers.
        broadcast(self.subscribers.get(event_id, ()), orjson.dumps(delta).decode())


async def run(host: str, port: int) -> None:
    hub = RawHub()
    async with serve(
        hub.handler, host, port, compression=None, max_size=2**16, backlog=4096
    ) as server:
        print("ready", flush=True)
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8499)
    args = parser.parse_args(argv)
    raise_nofile(65536)
    try:
        import uvloop

        uvloop.run(run(args.host, args.port))
    except ImportError:
        asyncio.run(run(args.host, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
