"""Concurrent ``POST /events/{id}/book`` against a real ``evently serve``: never more seats
sold than the event has, and one ``Idempotency-Key`` makes exactly one booking however many
requests race with it (DESIGN invariant 1, CONTRACT §2)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import httpx
import pytest

from tests.support.api import auth
from tests.support.servers import ROOT

pytestmark = pytest.mark.e2e

REFUSALS = {"SOLD_OUT", "NOT_ENOUGH_SEATS", "SEAT_UNAVAILABLE", "HOLD_LIMIT"}


async def _race(url: str, requests: list[tuple[str, dict[str, Any], dict[str, str]]]
                ) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(requests))
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        start = asyncio.Event()

        async def one(path: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
            await start.wait()
            return await client.post(path, json=body, headers=headers)

        tasks = [asyncio.create_task(one(*r)) for r in requests]
        await asyncio.sleep(0.05)
        start.set()
        return list(await asyncio.gather(*tasks))


def verify(stores: Any, event_id: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": stores.database_url, "REDIS_URL": stores.redis_url,
           "JWT_SECRET": "test-secret-" + "x" * 32, "LOG_LEVEL": "warning"}
    return subprocess.run([sys.executable, "-m", "web.cli", "verify", "--event", str(event_id)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_parallel_bookings_never_exceed_capacity(hub: Any, stores: Any, make_user: Any,
                                                 make_event: Any) -> None:
    org = make_user("organizer")
    ev = make_event(org["token"], capacity=10)
    users = [make_user() for _ in range(10)]
    requests = [(f"/events/{ev['id']}/book", {"qty": 1 + i % 3}, auth(users[i % 10]["token"]))
                for i in range(40)]
    responses = asyncio.run(_race(hub.url, requests))

    booked = [r.json() for r in responses if r.status_code == 201]
    refused = [r.json()["error"]["code"] for r in responses if r.status_code != 201]
    assert set(refused) <= REFUSALS, refused
    seat_ids = [s for b in booked for s in b["seat_ids"]]
    assert len(seat_ids) == len(set(seat_ids)) and len(seat_ids) <= 10
    assert seat_ids

    event = httpx.get(f"{hub.url}/events/{ev['id']}").json()
    assert event["booked_count"] == len(seat_ids)
    assert event["booked_count"] + event["held_count"] + event["available_count"] == 10
    seats = httpx.get(f"{hub.url}/events/{ev['id']}/seats").json()["seats"]
    assert sorted(s["id"] for s in seats if s["status"] == "sold") == sorted(seat_ids)
    done = verify(stores, ev["id"])
    assert done.returncode == 0, done.stdout + done.stderr


def test_one_idempotency_key_makes_one_booking(hub: Any, make_user: Any,
                                               make_event: Any) -> None:
    org, buyer = make_user("organizer"), make_user()
    ev = make_event(org["token"], capacity=20)
    headers = {**auth(buyer["token"]), "Idempotency-Key": "race-key-1"}
    requests = [(f"/events/{ev['id']}/book", {"qty": 2}, headers) for _ in range(20)]
    responses = asyncio.run(_race(hub.url, requests))

    ok = [r.json() for r in responses if r.status_code == 201]
    others = [(r.status_code, r.json()["error"]["code"]) for r in responses
              if r.status_code != 201]
    assert ok, others
    assert set(others) <= {(409, "IDEMPOTENCY_KEY_IN_USE")}, others
    assert len({b["id"] for b in ok}) == 1
    mine = httpx.get(f"{hub.url}/me/bookings", headers=auth(buyer["token"])).json()
    assert [b["id"] for b in mine] == [ok[0]["id"]]
    assert httpx.get(f"{hub.url}/events/{ev['id']}").json()["booked_count"] == 2

    # Replaying the key later answers the first booking again; another body is refused.
    again = httpx.post(f"{hub.url}/events/{ev['id']}/book", json={"qty": 2}, headers=headers)
    assert again.status_code == 201 and again.json()["id"] == ok[0]["id"]
    other = httpx.post(f"{hub.url}/events/{ev['id']}/book", json={"qty": 3}, headers=headers)
    assert other.status_code == 422 and other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
