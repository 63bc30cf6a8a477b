"""Hub core latency: hold round trip over ``/ws`` and delta fan-out lag across two processes.

Usage (two hubs already running on the same stores, an organizer account existing)::

    uv run python -m loadtest.bench.hub_core --hub http://127.0.0.1:8501 \
        --hub http://127.0.0.1:8502 --email org@x.io --password secret123 \
        --subscribers 200 --holds 1000

One actor on the first hub alternates ``hold`` (1 seat) and ``release``; every hold's round
trip (send → ``ok``) is timed on the client's monotonic clock. ``--subscribers`` sessions,
spread over the hubs, receive every delta; lag = arrival wall time − the delta's ``ts`` (the
server's epoch ms at the change, stamped inside the Lua script). Prints p50/p90/p99/max in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import websockets

from loadtest.bench.common import raise_nofile, summarize_ms


async def _subscriber(
    url: str,
    event_id: int,
    lags: list[float],
    ready: asyncio.Event,
    counter: list[int],
    total: int,
    stop: asyncio.Event,
) -> None:
    async with websockets.connect(url, max_size=2**24) as ws:
        await ws.send(orjson.dumps({"op": "subscribe", "event_id": event_id, "ref": 1}))
        while True:
            msgs = orjson.loads(await ws.recv())
            if any(
                m.get("type") == "snapshot" for m in (msgs if isinstance(msgs, list) else [msgs])
            ):
                break
        counter[0] += 1
        if counter[0] == total:
            ready.set()
        while not stop.is_set():
            try:
                frame = await asyncio.wait_for(ws.recv(), 1)
            except TimeoutError:
                continue
            now_ms = time.time() * 1000
            data = orjson.loads(frame)
            for m in data if isinstance(data, list) else [data]:
                if m.get("type") == "delta":
                    lags.append(now_ms - m["ts"])


async def run(hubs: list[str], email: str, password: str, subscribers: int, holds: int) -> None:
    raise_nofile(subscribers * 2 + 256)
    base = hubs[0]
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        token = (
            await http.post("/auth/login", json={"email": email, "password": password})
        ).json()["access_token"]
        start = datetime.now(UTC) + timedelta(days=30)
        ev = (
            await http.post(
                "/admin/events",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "name": "bench",
                    "venue": "bench",
                    "start_time": start.isoformat(),
                    "end_time": (start + timedelta(hours=1)).isoformat(),
                    "capacity": 500,
                },
            )
        ).json()
    ws_urls = [h.replace("http://", "ws://") + "/ws" for h in hubs]
    lags: list[float] = []
    ready, stop = asyncio.Event(), asyncio.Event()
    counter = [0]
    subs = [
        asyncio.create_task(
            _subscriber(
                ws_urls[i % len(ws_urls)], ev["id"], lags, ready, counter, subscribers, stop
            )
        )
        for i in range(subscribers)
    ]
    await asyncio.wait_for(ready.wait(), 120)
    rtts: list[float] = []
    async with websockets.connect(ws_urls[0]) as ws:
        await ws.send(orjson.dumps({"op": "auth", "token": token, "ref": 0}))
        await ws.recv()

        async def call(msg: dict[str, object]) -> dict[str, object]:
            await ws.send(orjson.dumps(msg))
            while True:
                data = orjson.loads(await ws.recv())
                for m in data if isinstance(data, list) else [data]:
                    if m.get("ref") == msg["ref"]:
                        return dict(m)

        t_start = time.monotonic()
        for i in range(holds):
            t0 = time.monotonic()
            reply = await call({"op": "hold", "event_id": ev["id"], "qty": 1, "ref": 2 * i + 1})
            rtts.append((time.monotonic() - t0) * 1000)
            assert reply["type"] == "ok", reply
            await call({"op": "release", "hold_id": reply["hold_id"], "ref": 2 * i + 2})
        elapsed = time.monotonic() - t_start
    await asyncio.sleep(1)
    stop.set()
    await asyncio.gather(*subs, return_exceptions=True)
    h, f = summarize_ms(rtts), summarize_ms(lags)
    print(
        f"hubs={len(hubs)} subscribers={subscribers} holds={holds} "
        f"({2 * holds / elapsed:.0f} deltas/s published)"
    )
    print(
        f"hold round trip over /ws (ms): p50 {h['p50']:.2f}  p90 {h['p90']:.2f}  "
        f"p99 {h['p99']:.2f}  max {h['max']:.2f}  (n={int(h['n'])})"
    )
    print(
        f"delta fan-out lag (ms):        p50 {f['p50']:.2f}  p90 {f['p90']:.2f}  "
        f"p99 {f['p99']:.2f}  max {f['max']:.2f}  (n={int(f['n'])}, "
        f"expected {2 * holds * subscribers})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hub", action="append", required=True)
    ap.add_argument("--email", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--subscribers", type=int, default=200)
    ap.add_argument("--holds", type=int, default=1000)
    a = ap.parse_args()
    asyncio.run(run(a.hub, a.email, a.password, a.subscribers, a.holds))


if __name__ == "__main__":
    main()
