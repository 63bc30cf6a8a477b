"""``POST /events/{id}/book`` latency under concurrent REST clients.

Usage (a hub with ``RATE_LIMIT_ENABLED=false``, an organizer account existing)::

    uv run python -m loadtest.bench.book_latency --host http://127.0.0.1:8501 \
        --email org@x.io --password secret123 --clients 64 --per-client 20

Each of ``--clients`` concurrent clients (its own account and HTTP connection) books one seat
at a time (``{"qty": 1}``) ``--per-client`` times on one large event; every request's latency
is taken on the client's monotonic clock. Prints bookings/s and p50/p90/p99/max in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from loadtest.bench.common import summarize_ms


async def run(host: str, email: str, password: str, clients: int, per_client: int) -> None:
    async with httpx.AsyncClient(base_url=host, timeout=60) as http:
        org = (await http.post("/auth/login", json={"email": email, "password": password})
               ).json()["access_token"]
        start = datetime.now(UTC) + timedelta(days=50)
        ev = (await http.post("/admin/events", headers={"Authorization": f"Bearer {org}"},
                              json={"name": "book bench", "venue": "bench",
                                    "start_time": start.isoformat(),
                                    "end_time": (start + timedelta(hours=1)).isoformat(),
                                    "capacity": clients * per_client})).json()

        async def account() -> str:
            mail = f"booker-{uuid.uuid4().hex[:10]}@bench.test"
            await http.post("/auth/signup", json={"name": "b", "email": mail,
                                                  "password": "bench-pass-1"})
            r = await http.post("/auth/login", json={"email": mail, "password": "bench-pass-1"})
            return str(r.json()["access_token"])

        tokens = [await account() for _ in range(clients)]
    lat: list[float] = []
    errors = 0

    async def client(token: str) -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=host, timeout=60,
                                     headers={"Authorization": f"Bearer {token}"}) as c:
            for _ in range(per_client):
                t0 = time.monotonic()
                r = await c.post(f"/events/{ev['id']}/book", json={"qty": 1})
                lat.append((time.monotonic() - t0) * 1000)
                errors += r.status_code != 201

    t0 = time.monotonic()
    await asyncio.gather(*(client(t) for t in tokens))
    elapsed = time.monotonic() - t0
    s = summarize_ms(lat)
    print(f"POST /events/{{id}}/book, {clients} concurrent clients x {per_client}: "
          f"{len(lat) / elapsed:.0f} bookings/s, errors {errors}")
    print(f"latency (ms): p50 {s['p50']:.1f}  p90 {s['p90']:.1f}  p99 {s['p99']:.1f}  "
          f"max {s['max']:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", required=True)
    ap.add_argument("--email", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--per-client", type=int, default=20)
    a = ap.parse_args()
    asyncio.run(run(a.host, a.email, a.password, a.clients, a.per_client))


if __name__ == "__main__":
    main()
