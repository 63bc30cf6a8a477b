"""The REST booker: ``POST /events/{id}/book {qty}`` with an ``Idempotency-Key`` (CONTRACT §2),
plus reads of the event and ``/me/bookings``."""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

import orjson
from locust import HttpUser, between, task

from loadtest.run_state import HOLD_RACE, STATE, record_booking

__all__ = ["RestBooker", "error_code"]


def error_code(response: Any) -> str:
    """The contract error ``code`` of a response body, ``"?"`` when it has none."""
    try:
        return str(response.json()["error"]["code"])
    except Exception:
        return "?"


class RestBooker(HttpUser):
    """A script or app that books over REST in one step (hold + confirm), weight 1."""

    weight = 1
    wait_time = between(0.3, 1.5)

    def __init__(self, environment: Any):
        self.host = STATE.next_host(environment.host or "")
        super().__init__(environment)
        assert STATE.pool is not None and STATE.settings is not None
        self.settings = STATE.settings
        self.account = STATE.pool.take()
        self.client.headers.update(self.account.auth_header)
        self.sold_out_at = 0.0

    @task(6)
    def book(self) -> None:
        if STATE.wind_down.is_set() or time.monotonic() - self.sold_out_at < 2.0:
            return
        qty = random.randint(1, self.settings.max_seats)
        with self.client.post(
            f"/events/{STATE.event_id}/book",
            data=orjson.dumps({"qty": qty}),
            headers={"Idempotency-Key": uuid.uuid4().hex, "content-type": "application/json"},
            name="POST /events/{id}/book",
            catch_response=True,
        ) as r:
            if r.status_code == 201:
                record_booking(r.json(), self.account.email, "rest")
                r.success()
                return
            code = error_code(r)
            if r.status_code == 409 and code in HOLD_RACE:
                if code == "SOLD_OUT":
                    self.sold_out_at = time.monotonic()
                r.request_meta["name"] = f"POST /events/{{id}}/book → {code}"
                r.success()
            else:
                r.failure(f"{r.status_code} {code}")

    @task(2)
    def view_event(self) -> None:
        self.client.get(f"/events/{STATE.event_id}", name="GET /events/{id}")

    @task(1)
    def my_bookings(self) -> None:
        self.client.get("/me/bookings", name="GET /me/bookings")
