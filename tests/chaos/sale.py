"""A flash sale under fire: buyers over REST and WebSocket against several hub processes, each
keeping a client-side ledger, then the end-of-case checks of issue 10 ("Faults").

Each buyer loops: hold 1-2 seats, confirm. A 201 booking goes in the ledger as *told*; a
confirm whose answer was lost (hub died, 5xx) goes in as *unknown* and is asked about later
with ``GET /holds/{id}``, as a reconnecting buyer would. Every buyer also keeps a live seat map
over its WebSocket (reconnecting to a surviving hub when its own dies); at the end every map
must equal ``GET /events/{id}/seats`` within 2 s.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.chaos.servers import pg_connect
from tests.support.servers import ROOT, HubProcess
from tests.support.wsclient import LiveClient

__all__ = ["Ledger", "Sale", "record_matrix"]

PASSWORD = "correct-horse-9"
FINAL = {"confirmed", "released", "expired"}
MATRIX = ROOT / "test-output" / "chaos-matrix.txt"


@dataclass
class Ledger:
    """What the clients were told: booking id → seat ids, and holds whose confirm outcome
    they never heard (hold id → user token)."""

    told: dict[int, list[int]] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)
    learned: dict[str, str] = field(default_factory=dict)  # hold id → GET /holds status
    confirms: int = 0
    failures: int = 0


class Buyer:
    """One account with a REST client and a live WebSocket (``ws``) on one of the hubs."""

    def __init__(self, sale: Sale, token: str, via_ws: bool) -> None:
        self.sale, self.token, self.via_ws = sale, token, via_ws
        self.http = httpx.AsyncClient(timeout=10, headers={"Authorization": f"Bearer {token}"})
        self.ws: LiveClient | None = None

    async def connect(self) -> None:
        """(Re)connect the WebSocket to a live hub and subscribe to the sale's event."""
        if self.ws is not None:
            old, self.ws = self.ws, None
            try:
                await old.close()  # also collects its reader's ConnectionClosed
            except Exception:
                pass
        for _ in range(100):
            hub = self.sale.pick_hub()
            try:
                self.ws = await LiveClient.connect(hub.ws_url, self.token)
                await self.ws.subscribe(self.sale.event_id)
                return
            except Exception:  # the hub died while we connected: try another
                await asyncio.sleep(0.1)
        raise AssertionError("no hub accepted a WebSocket for 10 s")

    @property
    def ws_alive(self) -> bool:
        return self.ws is not None and not self.ws._reader.done()

    async def _call(self, method: str, path: str, **kw: Any) -> tuple[int, dict[str, Any]]:
        """REST or WS, per buyer; returns (status, body); raises on a transport failure."""
        if not self.via_ws:
            r = await self.http.request(method, self.sale.pick_hub().url + path, **kw)
            return r.status_code, (r.json() if r.content else {})
        if not self.ws_alive:
            await self.connect()
        assert self.ws is not None
        if path.endswith("/holds"):
            reply = await self.ws.request("hold", event_id=self.sale.event_id, **kw["json"])
            status = 201
        elif path.endswith("/confirm"):
            reply = await self.ws.request("confirm", hold_id=path.split("/")[2])
            status = 201
        else:
            reply = await self.ws.request("release", hold_id=path.split("/")[2])
            status = 204
        if reply["type"] == "error":
            code = reply.get("code", "")
            return (503 if code in ("UNAVAILABLE", "INTERNAL") else 409), reply
        return status, reply

    async def run(self, stop: asyncio.Event) -> None:
        ledger = self.sale.ledger
        while not stop.is_set():
            if not self.ws_alive:
                await self.connect()
            try:
                code, hold = await self._call("POST", f"/events/{self.sale.event_id}/holds",
                                              json={"qty": random.randint(1, 2)})
            except Exception:
                await asyncio.sleep(0.05)
                continue
            if code != 201:
                await asyncio.sleep(0.05 if code >= 500 else 0.2)
                continue
            hold_id = hold["hold_id"]
            ledger.confirms += 1
            try:
                code, body = await self._call("POST", f"/holds/{hold_id}/confirm")
            except Exception:
                ledger.unknown[hold_id] = self.token
                continue
            if code == 201:
                assert body["id"] not in ledger.told, f"booking {body['id']} told twice"
                ledger.told[body["id"]] = sorted(body["seat_ids"])
            elif code >= 500:
                ledger.unknown[hold_id] = self.token
            else:
                ledger.failures += 1
            await asyncio.sleep(random.uniform(0.02, 0.1))

    async def close(self) -> None:
        await self.http.aclose()
        if self.ws is not None:
            await self.ws.close()


class Sale:
    """The event, the hubs and the buyers of one chaos case."""

    def __init__(self, hubs: Sequence[HubProcess], database_url: str, redis_url: str) -> None:
        self.hubs = list(hubs)
        self.database_url, self.redis_url = database_url, redis_url
        self.ledger = Ledger()
        self.buyers: list[Buyer] = []
        self.event_id = 0
        self.capacity = 0
        self.notes: dict[str, str] = {}  # a fault's findings, for the matrix line

    def pick_hub(self) -> HubProcess:
        alive = [h for h in self.hubs if h.proc is not None and h.proc.poll() is None]
        return random.choice(alive or self.hubs)

    async def setup(self, buyers: int, capacity: int, hold_ttl: int = 30) -> None:
        """An admin, an event of ``capacity`` seats and ``buyers`` logged-in buyers, half of
        them buying over WebSocket."""
        hub = self.hubs[0]
        async with httpx.AsyncClient(base_url=hub.url, timeout=20) as c:
            tokens = []
            for i in range(buyers + 1):
                email = f"chaos{i}-{time.monotonic_ns()}@example.test"
                r = await c.post("/auth/signup", json={"name": f"c{i}", "email": email,
                                                       "password": PASSWORD})
                assert r.status_code == 201, r.text
                if i == 0:
                    conn = await pg_connect(self.database_url)
                    await conn.execute("UPDATE users SET role='admin' WHERE id=$1", r.json()["id"])
                    await conn.close()
                r = await c.post("/auth/login", json={"email": email, "password": PASSWORD})
                tokens.append(r.json()["access_token"])
            start = datetime.now(UTC) + timedelta(days=3)
            r = await c.post("/admin/events", headers={"Authorization": f"Bearer {tokens[0]}"},
                             json={"name": "Chaos Night", "venue": "Hall", "capacity": capacity,
                                   "start_time": start.isoformat(), "hold_ttl_seconds": hold_ttl,
                                   "end_time": (start + timedelta(hours=2)).isoformat()})
            assert r.status_code == 201, r.text
            self.event_id, self.capacity = r.json()["id"], capacity
        self.buyers = [Buyer(self, t, via_ws=i % 2 == 1) for i, t in enumerate(tokens[1:])]
        await asyncio.gather(*(b.connect() for b in self.buyers))

    async def run(self, seconds: float, fault: Callable[[], Any], fault_at: float) -> float:
        """Buy for ``seconds`` with ``fault()`` (sync or async) at ``fault_at``; then stop,
        learn every unknown outcome and return the time the clients went quiet."""
        stop = asyncio.Event()
        tasks = [asyncio.create_task(b.run(stop)) for b in self.buyers]
        await asyncio.sleep(fault_at)
        out = fault()
        if asyncio.iscoroutine(out):
            await out
        await asyncio.sleep(max(seconds - fault_at, 0))
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
        await self.learn_outcomes()
        return time.monotonic()

    async def learn_outcomes(self, timeout: float = 20) -> None:
        """Ask ``GET /holds/{id}`` about each confirm whose answer was lost, until it says
        confirmed / released / expired (or 404: the lease and its record are gone, and
        PostgreSQL has no booking for it). A confirmed one joins the told bookings."""
        deadline = time.monotonic() + timeout
        pending = dict(self.ledger.unknown)
        last: dict[str, str] = {}
        async with httpx.AsyncClient(timeout=10) as c:
            while pending and time.monotonic() < deadline:
                for hold_id, token in list(pending.items()):
                    try:
                        r = await c.get(f"{self.pick_hub().url}/holds/{hold_id}",
                                        headers={"Authorization": f"Bearer {token}"})
                    except httpx.TransportError:
                        continue
                    body = r.json()
                    status = "gone" if r.status_code == 404 else body.get("status", "")
                    last[hold_id] = f"{r.status_code} {status}"
                    if status == "active":  # the confirm never began: a buyer confirms again
                        r = await c.post(f"{self.pick_hub().url}/holds/{hold_id}/confirm",
                                         headers={"Authorization": f"Bearer {token}"})
                        if r.status_code == 201:
                            self.ledger.told[r.json()["id"]] = sorted(r.json()["seat_ids"])
                            self.ledger.learned[hold_id] = "active, confirmed on retry"
                            pending.pop(hold_id)
                        continue
                    if r.status_code == 404 or status in FINAL:
                        self.ledger.learned[hold_id] = status
                        pending.pop(hold_id)
                        if status == "confirmed":
                            self.ledger.told[body["booking_id"]] = sorted(
                                body["booking"]["seat_ids"])
                await asyncio.sleep(0.2)
        stuck = {h: last.get(h) for h in pending}
        assert not pending, f"holds stuck with no outcome after {timeout}s: {stuck}"

    async def check_ledger(self) -> tuple[int, int, int]:
        """``(oversold seats, lost bookings, untold bookings)`` from PostgreSQL against the
        ledger: lost = told of but not there (or other seats); untold = CONFIRMED in
        PostgreSQL but no buyer knows (told it failed, or never asked). Fails on a hold booked
        twice."""
        conn = await pg_connect(self.database_url)
        try:
            rows = await conn.fetch(
                "SELECT b.id, b.status, array_agg(bs.seat_id ORDER BY bs.seat_id) AS seats "
                "FROM bookings b JOIN booking_seats bs ON bs.booking_id = b.id "
                "WHERE b.event_id = $1 GROUP BY b.id", self.event_id)
            oversold = await conn.fetchval(
                "SELECT count(*) FROM (SELECT seat_id FROM booking_seats WHERE active "
                "AND event_id = $1 GROUP BY seat_id HAVING count(*) > 1) x", self.event_id)
            twice = await conn.fetchval(
                "SELECT count(*) FROM (SELECT hold_id FROM bookings WHERE event_id = $1 "
                "GROUP BY hold_id HAVING count(*) > 1) x", self.event_id)
        finally:
            await conn.close()
        stored = {r["id"]: (r["status"], list(r["seats"])) for r in rows}
        lost = sum(1 for bid, seats in self.ledger.told.items()
                   if stored.get(bid) != ("CONFIRMED", seats))
        sold = sum(len(s) for st, s in stored.values() if st == "CONFIRMED")
        untold = sum(1 for bid, (st, _) in stored.items()
                     if st == "CONFIRMED" and bid not in self.ledger.told)
        assert twice == 0, f"{twice} holds were booked twice"
        return int(oversold) + max(sold - self.capacity, 0), lost, untold

    def verify(self) -> str:
        """``evently verify`` against the stores; fails the test unless it says clean."""
        env = {"DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
               "PATH": "/usr/bin:/bin", "HOME": "/tmp"}
        out = subprocess.run([sys.executable, "-m", "web.cli", "verify",
                              "--event", str(self.event_id)], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout.strip()

    async def converge(self, quiet_at: float, limit: float = 2.0) -> float:
        """Seconds from ``quiet_at`` until every live client's map equals
        ``GET /events/{id}/seats`` (checked every 50 ms); fails past ``limit``."""
        for b in self.buyers:  # a client whose hub died reconnects, as a real one would
            if not b.ws_alive:
                await b.connect()
        async with httpx.AsyncClient(timeout=5) as c:
            while True:
                r = await c.get(f"{self.pick_hub().url}/events/{self.event_id}/seats")
                truth = {s["id"]: s["status"] for s in r.json()["seats"]}
                maps = [b.ws.seats.get(self.event_id) for b in self.buyers if b.ws]
                took = time.monotonic() - quiet_at
                if all(m == truth for m in maps):
                    return took
                if took > limit:
                    wrong = [b for b in self.buyers
                             if b.ws and b.ws.seats.get(self.event_id) != truth]
                    detail = [self._diff(b, truth) for b in wrong[:3]]
                    raise AssertionError(
                        f"{len(wrong)}/{len(maps)} client maps differ from GET /seats "
                        f"(epoch {r.json().get('epoch')}, seq {r.json().get('seq')}) "
                        f"{took:.1f}s after quiescence: {detail}")
                await asyncio.sleep(0.05)

    def _diff(self, b: Buyer, truth: dict[int, str]) -> str:
        assert b.ws is not None
        m = b.ws.seats.get(self.event_id) or {}
        diff = sorted((k, m.get(k), v) for k, v in truth.items() if m.get(k) != v)
        return (f"ws={'rest' if not b.via_ws else 'ws'} at {b.ws.position.get(self.event_id)} "
                f"gaps={b.ws.gaps} snapshots={b.ws.snapshots} {len(diff)} seats differ, "
                f"e.g. {diff[:4]}")

    async def close(self) -> None:
        await asyncio.gather(*(b.close() for b in self.buyers), return_exceptions=True)


def record_matrix(case: str, oversold: int, lost: int, seconds: float, extra: str = "") -> str:
    """Print one matrix line and append it to ``test-output/chaos-matrix.txt``."""
    line = (f"{case:<22} oversold={oversold:<3} lost_bookings={lost:<3} "
            f"converge_s={seconds:5.2f}  {extra}")
    print(line)
    MATRIX.parent.mkdir(parents=True, exist_ok=True)
    with MATRIX.open("a") as f:
        f.write(line + "\n")
    return line
