"""Shared fixtures: real stores (cleaned before each test that uses them), real hub
processes, and account/event factories that go through the public API.

Only fixtures live here; helpers that test modules import are in ``tests/support/``."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.api import PASSWORD
from tests.support.servers import HubProcess, hub_env
from tests.support.stores import TestStores, clean, open_stores, run_sync, set_role
from tests.support.tools import ensure_e2e_tools


def pytest_configure(config: pytest.Config) -> None:
    """Before any test module is imported: install the heavy test tools on first use."""
    try:
        ensure_e2e_tools()
    except RuntimeError as exc:
        raise pytest.UsageError(str(exc)) from exc


@pytest.fixture(scope="session")
def stores() -> Iterator[TestStores]:
    s = open_stores()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def clean_stores(stores: TestStores) -> TestStores:
    """The stores, emptied (tables truncated, Redis database flushed) before the test."""
    run_sync(clean(stores))
    return stores


@pytest.fixture(scope="session")
def hub_server(stores: TestStores) -> Iterator[HubProcess]:
    """One ``evently serve`` process for the session (``.url``, ``.ws_url``, ``.restart()``)."""
    hub = HubProcess(hub_env(stores)).start()
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture(scope="session")
def second_hub(stores: TestStores, hub_server: HubProcess) -> Iterator[HubProcess]:
    """A second hub process on the same stores: fan-out must cross processes."""
    hub = HubProcess(hub_env(stores)).start()
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture
def hub(hub_server: HubProcess, clean_stores: TestStores) -> HubProcess:
    """The session's hub, on freshly emptied stores."""
    return hub_server


_emails = itertools.count(1)


@pytest.fixture
def make_user(hub: HubProcess, stores: TestStores) -> Callable[..., dict[str, Any]]:
    """``make_user(role="user") -> {id, email, password, token, role}`` through the API."""
    def make(role: str = "user", name: str | None = None) -> dict[str, Any]:
        email = f"user{next(_emails)}-{os.getpid()}@example.test"
        r = httpx.post(hub.url + "/auth/signup",
                       json={"name": name or email.split("@")[0], "email": email,
                             "password": PASSWORD})
        assert r.status_code == 201, r.text
        user_id = r.json()["id"]
        if role != "user":
            run_sync(set_role(stores, user_id, role))
        r = httpx.post(hub.url + "/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return {"id": user_id, "email": email, "password": PASSWORD, "role": role,
                "token": r.json()["access_token"],
                "refresh_token": r.json()["refresh_token"]}

    return make


@pytest.fixture
def make_event(hub: HubProcess) -> Callable[..., dict[str, Any]]:
    """``make_event(token, **fields) -> Event`` via ``POST /admin/events`` (capacity 20)."""
    def make(token: str, **fields: Any) -> dict[str, Any]:
        start = datetime.now(UTC) + timedelta(days=10)
        body = {"name": "Test Night", "venue": "Test Hall", "start_time": start.isoformat(),
                "end_time": (start + timedelta(hours=2)).isoformat(), **fields}
        if "capacity" not in body and "seat_map" not in body:
            body["capacity"] = 20
        r = httpx.post(hub.url + "/admin/events", json=body,
                       headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201, r.text
        return dict(r.json())

    return make

