"""Waitlist offer push latency: from the response of the request that freed a seat to the
``waitlist.offered`` push on each of the waiter's sessions (two, on different hub processes).

Usage (two hubs on the same stores, an organizer account existing)::

    uv run python -m loadtest.bench.offer_push --hub http://127.0.0.1:8501 \
        --hub http://127.0.0.1:8502 --email org@x.io --password secret123 --rounds 100

Setup: an event of ``rounds`` seats sold one seat per booking, ``rounds`` waiters (qty 1) each
with one session per hub. Each round cancels one booking over REST and times, on the client's
monotonic clock, the push's arrival minus the cancel response's arrival (negative when the
push overtakes the HTTP response: the promotion runs inside the cancel request). Prints
p50/p90/p99/max in ms over every session.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import websockets

from loadtest.bench.common import summarize_ms


async def _session(
    url: str, token: str, arrivals: list[float], got: asyncio.Event
) -> websockets.ClientConnection:
    ws = await websockets.connect(url)
    await ws.send(orjson.dumps({"op": "auth", "token": token, "ref": 1}))
    await ws.recv()

    async def read() -> None:
        async for frame in ws:
            data = orjson.loads(frame)
            for m in data if isinstance(data, list) else [data]:
                if m.get("type") == "waitlist.offered":
                    arrivals.append(time.monotonic())
                    got.set()

    asyncio.get_running_loop().create_task(read())
    return ws


async def run(hubs: list[str], email: str, password: str, rounds: int) -> None:
    async with httpx.AsyncClient(base_url=hubs[0], timeout=30) as http:
        org = (await http.post("/auth/login", json={"email": email, "password": password})).json()[
            "access_token"
        ]
        start = datetime.now(UTC) + timedelta(days=40)
        ev = (
            await http.post(
                "/admin/events",
                headers={"Authorization": f"Bearer {org}"},
                json={
                    "name": "offer bench",
                    "venue": "bench",
                    "start_time": start.isoformat(),
                    "end_time": (start + timedelta(hours=1)).isoformat(),
                    "capacity": rounds,
                },
            )
        ).json()
        bookings = []
        for _ in range(rounds):
            r = await http.post(
                f"/events/{ev['id']}/book",
                json={"qty": 1},
                headers={"Authorization": f"Bearer {org}"},
            )
            bookings.append(r.json()["id"])
        waiters = []
        for _ in range(rounds):
            mail = f"waiter-{uuid.uuid4().hex[:10]}@bench.test"
            await http.post(
                "/auth/signup", json={"name": "w", "email": mail, "password": "bench-pass-1"}
            )
            tok = (
                await http.post("/auth/login", json={"email": mail, "password": "bench-pass-1"})
            ).json()["access_token"]
            await http.post(
                f"/events/{ev['id']}/waitlist",
                json={"qty": 1},
                headers={"Authorization": f"Bearer {tok}"},
            )
            waiters.append(tok)
        lat: list[float] = []
        for i in range(rounds):
            arrivals: list[float] = []
            got = asyncio.Event()
            socks = [
                await _session(h.replace("http", "ws", 1) + "/ws", waiters[i], arrivals, got)
                for h in hubs
            ]
            r = await http.delete(
                f"/bookings/{bookings[i]}", headers={"Authorization": f"Bearer {org}"}
            )
            t_resp = time.monotonic()
            assert r.status_code == 200, r.text
            deadline = time.monotonic() + 5
            while len(arrivals) < len(hubs) and time.monotonic() < deadline:
                await asyncio.sleep(0.001)
            lat += [(a - t_resp) * 1000 for a in arrivals]
            for s in socks:
                await s.close()
    s = summarize_ms(lat)
    print(
        f"waitlist.offered push after the freeing response, {rounds} rounds x "
        f"{len(hubs)} sessions (ms): p50 {s['p50']:.2f}  p90 {s['p90']:.2f}  "
        f"p99 {s['p99']:.2f}  max {s['max']:.2f}  (n={int(s['n'])}; target p99 < 250)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hub", action="append", required=True)
    ap.add_argument("--email", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--rounds", type=int, default=100)
    a = ap.parse_args()
    asyncio.run(run(a.hub, a.email, a.password, a.rounds))


if __name__ == "__main__":
    main()
