"""Abuse tests for the hub's edges (issue 10): body limits, client-address spoofing, the
WebSocket Origin check, security headers and the ``/metrics`` token, against real
``evently serve`` processes."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.support import stores as test_stores
from tests.support.servers import HubProcess, free_port, hub_env
from tests.support.stores import run_sync

METRICS_TOKEN = "metrics-" + "m" * 24
ALLOWED = "https://tickets.example:8443"


@pytest.fixture(scope="module")
def edge_hub(stores: test_stores.TestStores) -> Iterator[HubProcess]:
    """A hub with small login limits, a metrics token and one extra allowed origin; it trusts
    no proxy (``FORWARDED_ALLOW_IPS`` unset)."""
    hub = HubProcess(hub_env(stores, RATE_LIMIT_ENABLED="true", RATE_LIMIT_LOGIN="3/minute",
                             RATE_LIMIT_LOGIN_IP="6/minute", METRICS_TOKEN=METRICS_TOKEN,
                             ALLOWED_ORIGINS=ALLOWED)).start()
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture
def edge(edge_hub: HubProcess, clean_stores: test_stores.TestStores) -> HubProcess:
    """The edge hub on emptied stores (rate-limit windows included)."""
    return edge_hub


def login(url: str, email: str, headers: dict[str, str] | None = None,
          **extra: Any) -> httpx.Response:
    return httpx.post(url + "/auth/login", json={"email": email, "password": "wrong-pass-1",
                                                 **extra}, headers=headers, timeout=10)


def raw_post(port: int, path: str, headers: dict[str, str], body_chunks: Iterator[bytes],
             timeout: float = 10) -> tuple[int, bytes, int]:
    """POST over a bare socket, sending ``body_chunks`` until the server answers or stops
    reading. Returns ``(status, response bytes, body bytes sent)``."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sent = 0
    try:
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode())
        sock.setblocking(False)
        answer = b""
        for chunk in body_chunks:
            try:
                answer += sock.recv(65536)
            except BlockingIOError:
                pass
            if answer:
                break
            try:
                sock.sendall(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        sock.setblocking(True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # the 413 closes the connection: read to its end
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            answer += data
    finally:
        sock.close()
    return int(answer.split(b" ", 2)[1]), answer, sent


# -- request body limits ---------------------------------------------------------------------

def test_twenty_megabytes_to_refresh_is_refused_before_it_is_read(edge: HubProcess) -> None:
    size = 20 * 1024 * 1024
    started = time.monotonic()
    status, answer, sent = raw_post(
        edge.port, "/auth/refresh",
        {"Content-Type": "application/json", "Content-Length": str(size)},
        iter([b"x" * 65536] * (size // 65536)))
    assert status == 413, answer
    assert b'"PAYLOAD_TOO_LARGE"' in answer
    assert time.monotonic() - started < 5
    assert sent < size // 2


def test_a_chunked_body_is_cut_off_at_the_limit(edge: HubProcess) -> None:
    def chunks() -> Iterator[bytes]:
        piece = b"x" * 16384
        for _ in range(1280):  # 20 MB in chunked transfer encoding
            yield b"%x\r\n%s\r\n" % (len(piece), piece)

    started = time.monotonic()
    status, answer, sent = raw_post(
        edge.port, "/auth/refresh",
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}, chunks())
    assert status == 413, answer
    assert b'"PAYLOAD_TOO_LARGE"' in answer
    assert time.monotonic() - started < 5
    assert sent < 10 * 1024 * 1024


def test_route_limits(edge: HubProcess) -> None:
    big = {"qty": 1, "pad": "x" * 70_000}
    r = httpx.post(edge.url + "/events/1/holds", json=big, timeout=10)
    assert r.status_code == 413 and r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert r.json()["error"]["details"]["limit"] == 64 * 1024
    # Admin bodies (seat maps) may be larger; this one reaches the route (401: no token).
    r = httpx.post(edge.url + "/admin/events", json=big, timeout=10)
    assert r.status_code == 401, r.text
    r = httpx.post(edge.url + "/auth/signup", json={"email": "a@example.test",
                                                     "name": "x" * 5000, "password": "p"})
    assert r.status_code == 413


def test_a_padded_login_is_still_rate_limited(edge: HubProcess) -> None:
    email = "victim@example.test"
    for _ in range(3):
        assert login(edge.url, email).status_code == 401
    # Padded to just under the auth limit: read whole, counted against the e-mail.
    assert login(edge.url, email, pad="x" * 3500).status_code == 429
    # Padded past it (the old bypass was past 16 KiB): never reaches the password check.
    r = login(edge.url, email, pad="x" * 20_000)
    assert r.status_code == 413, r.text
    assert login(edge.url, email).status_code == 429


# -- client addresses ------------------------------------------------------------------------

def _spoofing_gets_new_buckets(hub: HubProcess) -> bool:
    """Send 7 logins (limit 6/minute per client address), each with a new X-Forwarded-For and
    a new e-mail; True when none was limited, i.e. the header chose the bucket."""
    codes = [login(hub.url, f"spoof{i}@example.test",
                   headers={"X-Forwarded-For": f"203.0.113.{i + 1}"}).status_code
             for i in range(7)]
    assert set(codes) <= {401, 429}, codes
    return 429 not in codes


def test_a_direct_client_cannot_spoof_its_address(edge: HubProcess) -> None:
    assert not _spoofing_gets_new_buckets(edge)


def test_forwarded_headers_are_believed_from_the_configured_proxy(
        stores: test_stores.TestStores, clean_stores: test_stores.TestStores) -> None:
    # The control: this hub trusts 127.0.0.1 as its proxy, so the same requests pass.
    hub = HubProcess(hub_env(stores, RATE_LIMIT_ENABLED="true", RATE_LIMIT_LOGIN="3/minute",
                             RATE_LIMIT_LOGIN_IP="6/minute",
                             FORWARDED_ALLOW_IPS="127.0.0.1")).start()
    try:
        assert _spoofing_gets_new_buckets(hub)
    finally:
        hub.stop()


# -- WebSocket Origin --------------------------------------------------------------------------

async def _handshake(url: str, origin: str | None) -> int:
    """The HTTP status of the upgrade (101 when it became a WebSocket)."""
    try:
        async with websockets.connect(url, origin=origin,  # type: ignore[arg-type]
                                      open_timeout=5) as ws:
            await ws.send('{"type":"ping","ref":1}')
            await asyncio.wait_for(ws.recv(), 5)
            return 101
    except InvalidStatus as exc:
        return int(exc.response.status_code)


@pytest.mark.parametrize(("origin", "status"), [
    ("http://evil.example", 403),
    ("http://127.0.0.1:{other}", 403),      # same host, other port
    ("https://127.0.0.1:{port}", 403),      # same host and port, other scheme
    ("http://127.0.0.1.evil.example:{port}", 403),
    ("null", 403),
    ("http://127.0.0.1:{port}", 101),       # same origin
    ("HTTP://127.0.0.1:{port}/", 101),
    (ALLOWED, 101),                          # ALLOWED_ORIGINS
    ("https://tickets.example", 403),        # listed host, default port 443 ≠ 8443
    (None, 101),                             # not a browser
])
def test_websocket_origin_is_checked_before_the_handshake(
        edge: HubProcess, origin: str | None, status: int) -> None:
    if origin is not None:
        origin = origin.format(port=edge.port, other=free_port())
    assert run_sync(_handshake(edge.ws_url, origin)) == status


def test_a_refused_upgrade_is_a_plain_403(edge: HubProcess) -> None:
    r = httpx.get(edge.url + "/ws", headers={
        "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": "http://evil.example"})
    assert r.status_code == 403
    assert "sec-websocket-accept" not in r.headers


# -- headers and /metrics ----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/admin", "/docs", "/events", "/healthz", "/nope",
                                  "/static/js/app.js"])
def test_security_headers_everywhere(edge: HubProcess, path: str) -> None:
    r = httpx.get(edge.url + path, timeout=10)
    assert r.status_code < 500
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-eval" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_metrics_needs_the_token_when_one_is_set(edge: HubProcess) -> None:
    assert httpx.get(edge.url + "/metrics").status_code == 401
    r = httpx.get(edge.url + "/metrics", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "UNAUTHENTICATED"
    r = httpx.get(edge.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert r.status_code == 200 and "evently_" in r.text


def test_metrics_are_open_without_a_token(hub: HubProcess) -> None:
    assert httpx.get(hub.url + "/metrics").status_code == 200
