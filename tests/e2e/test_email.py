"""E-mail: exactly one message per notification reaches a real local SMTP server (aiosmtpd),
also when the hub is restarted while sending, and a failing server only delays delivery."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.support.api import PASSWORD, auth
from tests.support.servers import HubProcess, free_port, hub_env
from tests.support.stores import timing

pytestmark = pytest.mark.e2e


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.fail = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.fail:
            return "451 try again later"
        self.messages.append(envelope.content)
        return "250 OK"

    def message_ids(self) -> list[str]:
        out = []
        for m in self.messages:
            for line in m.decode(errors="replace").splitlines():
                if line.lower().startswith("message-id:"):
                    out.append(line.split(":", 1)[1].strip())
        return out


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def mail_hub(clean_stores: Any, smtp: tuple[Inbox, int]) -> Iterator[HubProcess]:
    hub = HubProcess(hub_env(clean_stores, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp[1])))
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


def wait_for(predicate: Any, seconds: float) -> None:
    deadline = time.monotonic() + timing(seconds)
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def setup_sale(hub: HubProcess, clean_stores: Any, capacity: int,
               **extra: Any) -> tuple[dict[str, Any], str]:
    """An organizer and an event "Mail Night" 2031-01-01 20:00-22:00 UTC; ``extra`` adds
    fields to the event body (e.g. ``timezone``)."""
    import asyncio

    import asyncpg

    email = "org-mail@example.test"
    assert httpx.post(hub.url + "/auth/signup", json={"name": "Org", "email": email,
                                                      "password": PASSWORD}).status_code == 201

    async def promote() -> None:
        conn = await asyncpg.connect(clean_stores.database_url.replace("+asyncpg", ""))
        await conn.execute("UPDATE users SET role = 'organizer' WHERE email = $1", email)
        await conn.close()

    asyncio.run(promote())
    token = httpx.post(hub.url + "/auth/login",
                       json={"email": email, "password": PASSWORD}).json()["access_token"]
    ev = httpx.post(hub.url + "/admin/events", headers=auth(token), json={
        "name": "Mail Night", "venue": "Post Office", "start_time": "2031-01-01T20:00:00Z",
        "end_time": "2031-01-01T22:00:00Z", "capacity": capacity, **extra}).json()
    return ev, token


def test_one_message_per_notification_across_a_restart(
        mail_hub: HubProcess, smtp: tuple[Inbox, int], clean_stores: Any) -> None:
    inbox, _ = smtp
    ev, token = setup_sale(mail_hub, clean_stores, 40)
    for _ in range(10):
        r = httpx.post(mail_hub.url + f"/events/{ev['id']}/book", json={"qty": 1},
                       headers=auth(token))
        assert r.status_code == 201
    mail_hub.restart()  # mid-way: some messages may still be waiting in the outbox
    for _ in range(5):
        httpx.post(mail_hub.url + f"/events/{ev['id']}/book", json={"qty": 1},
                   headers=auth(token))
    wait_for(lambda: len(inbox.messages) >= 15, 15)
    time.sleep(1.5)  # nothing more arrives
    ids = inbox.message_ids()
    assert len(ids) == 15 and len(set(ids)) == 15
    assert b"Your booking is confirmed" in inbox.messages[0]


def test_a_failing_server_delays_but_loses_nothing(
        mail_hub: HubProcess, smtp: tuple[Inbox, int], clean_stores: Any) -> None:
    inbox, _ = smtp
    inbox.fail = True
    ev, token = setup_sale(mail_hub, clean_stores, 5)
    r = httpx.post(mail_hub.url + f"/events/{ev['id']}/book", json={"qty": 2},
                   headers=auth(token))
    assert r.status_code == 201
    time.sleep(1.5)
    assert inbox.messages == []
    inbox.fail = False
    wait_for(lambda: len(inbox.messages) == 1, 10)
