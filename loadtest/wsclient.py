"""A WebSocket client of the hub for gevent (Locust): request/reply by ``ref`` plus a live seat map.

Built on ``websockets.sync.client``; under Locust's gevent monkey-patching its I/O thread is a
greenlet, so thousands of sessions fit in one process. One reader greenlet per session decodes
every frame (a message object or an array of them, CONTRACT §3), resolves replies by ``ref``,
keeps the :class:`SeatMap` current and reports each delta's lag.

Latency figures reported through ``fire(request_type, name, response_time, response_length, exc)``
(Locust's ``events.request.fire`` signature, times in **ms**):

- ``WS <op>``: client round trip of one op, send → reply.
- ``WS delta lag``: client receive time − the delta's server ``ts`` (epoch ms stamped when the
  change happened). Same-host clocks here; across hosts it includes clock skew.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import gevent
import orjson
from gevent.event import AsyncResult
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

__all__ = ["FireFn", "SeatMap", "WsClosed", "WsError", "WsSession", "ws_url"]

FireFn = Callable[..., None]


def ws_url(base_url: str) -> str:
    """``http://h:p`` → ``ws://h:p/ws`` (``https`` → ``wss``)."""
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws", "", ""))


class WsError(Exception):
    """An ``{"type": "error"}`` reply. ``code`` is the contract error code."""

    def __init__(self, code: str, message: str = "", details: dict[str, Any] | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details or {}


class WsClosed(Exception):
    """The connection closed before the reply arrived. ``code`` is the close code if known."""

    def __init__(self, code: int | None, reason: str = ""):
        super().__init__(f"closed {code} {reason}".strip())
        self.code = code


class SeatMap:
    """One event's seat statuses as a client sees them, kept in ``seq`` order (CONTRACT §3).

    ``statuses`` maps seat id → ``"available" | "held" | "sold"``. Deltas that arrive ahead of
    ``seq + 1`` wait in ``pending`` until the gap is filled by a recovery or a snapshot.
    """

    def __init__(self, event_id: int):
        self.event_id = event_id
        self.epoch: Any = None
        self.seq: int | None = None
        self.statuses: dict[int, str] = {}
        self.pending: dict[int, list[dict[str, Any]]] = {}
        self.gaps = 0
        self.resyncs = 0
        self.ready = False

    def apply_snapshot(self, msg: dict[str, Any]) -> None:
        self.epoch = msg.get("epoch")
        self.seq = int(msg["seq"])
        statuses: dict[int, str] = {}
        for status, ids in (msg.get("seats") or {}).items():
            for seat_id in ids:
                statuses[int(seat_id)] = status
        self.statuses = statuses
        self.pending = {s: c for s, c in self.pending.items() if s > self.seq}
        self.ready = True
        self._drain()

    def apply_delta(self, msg: dict[str, Any]) -> str:
        """Apply or queue one delta.

        Returns:
            ``"applied"``, ``"stale"`` (old seq, ignored), ``"gap"`` (queued; the caller should
            resubscribe with ``since``) or ``"epoch"`` (new epoch; the caller should resubscribe
            without ``since``).
        """
        if not self.ready or self.seq is None:
            self.pending[int(msg["seq"])] = msg["changes"]
            return "stale"
        if msg.get("epoch") != self.epoch:
            return "epoch"
        seq = int(msg["seq"])
        if seq <= self.seq:
            return "stale"
        self.pending[seq] = msg["changes"]
        self._drain()
        if self.pending:
            self.gaps += 1
            return "gap"
        return "applied"

    def _drain(self) -> None:
        assert self.seq is not None
        while self.seq + 1 in self.pending:
            self.seq += 1
            for change in self.pending.pop(self.seq):
                self.statuses[int(change["seat_id"])] = change["status"]
        for stale in [s for s in self.pending if s <= self.seq]:
            del self.pending[stale]

    def available(self) -> list[int]:
        return [s for s, st in self.statuses.items() if st == "available"]


class WsSession:
    """One ``/ws`` connection with an optional subscription.

    Args:
        base_url: the hub's HTTP base URL.
        token: access token, sent as ``Authorization: Bearer`` on the upgrade request.
        fire: Locust ``events.request.fire``-compatible callback, or None.
        op_timeout: seconds to wait for a reply.
        compression: negotiate permessage-deflate (browsers do; costs client CPU).
        on_push: called with every server push that is not a reply, delta or snapshot.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        fire: FireFn | None = None,
        op_timeout: float = 15.0,
        compression: bool = False,
        on_push: Callable[[dict[str, Any]], None] | None = None,
    ):
        self.url = ws_url(base_url)
        self.token = token
        self.fire = fire
        self.op_timeout = op_timeout
        self.compression = compression
        self.on_push = on_push
        self.maps: dict[int, SeatMap] = {}
        self.close_code: int | None = None
        self._conn: ClientConnection | None = None
        self._refs = itertools.count(1)
        self._waiting: dict[int, AsyncResult] = {}
        self._reader: gevent.Greenlet | None = None
        self._resyncing: set[int] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def open(self) -> bool:
        return self._conn is not None and self.close_code is None

    def connect(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
        t0 = time.perf_counter()
        try:
            self._conn = connect(
                self.url,
                additional_headers=headers,
                compression="deflate" if self.compression else None,
                open_timeout=self.op_timeout,
                max_size=2**23,
                ping_interval=None,  # the hub pings; keepalive threads cost greenlets
                close_timeout=2,
            )
        except Exception as exc:
            self._report("connect", t0, 0, exc)
            raise
        self._report("connect", t0, 0, None)
        self.close_code = None
        self._reader = gevent.spawn(self._read_loop)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass
        if self._reader is not None:
            self._reader.join(timeout=3)
            self._reader.kill(block=False)

    # -- requests ----------------------------------------------------------------------------

    def request(self, op: str, name: str | None = None, **fields: Any) -> dict[str, Any]:
        """Send ``{"op": op, "ref": n, **fields}`` and wait for the reply.

        Reports ``WS <name or op>`` to Locust. Contract errors whose code is in
        ``fields.pop("expected", ())`` are reported as successes named ``<op> → CODE``, because
        losing a race for a seat is the system working, not failing.

        Raises:
            WsError: an error reply (any code).
            WsClosed: the connection closed first.
            TimeoutError: no reply within ``op_timeout`` seconds.
        """
        expected: tuple[str, ...] = fields.pop("expected", ())
        label = name or op
        if not self.open:
            raise WsClosed(self.close_code, "not connected")
        ref = next(self._refs)
        waiter = AsyncResult()
        self._waiting[ref] = waiter
        frame = orjson.dumps({"op": op, "ref": ref, **fields})
        t0 = time.perf_counter()
        try:
            assert self._conn is not None
            self._conn.send(frame.decode())
            reply = waiter.get(timeout=self.op_timeout)
        except gevent.Timeout:
            exc = TimeoutError(f"{op}: no reply in {self.op_timeout} s")
            self._report(label, t0, len(frame), exc)
            raise exc from None
        except ConnectionClosed as exc:
            err = WsClosed(exc.rcvd.code if exc.rcvd else None)
            self._report(label, t0, len(frame), err)
            raise err from exc
        except WsClosed as exc:
            self._report(label, t0, len(frame), exc)
            raise
        finally:
            self._waiting.pop(ref, None)
        if reply.get("type") == "error":
            err = WsError(reply.get("code", "?"), reply.get("message", ""), reply.get("details"))
            if err.code in expected:
                self._report(f"{label} → {err.code}", t0, len(frame), None)
            else:
                self._report(label, t0, len(frame), err)
            raise err
        self._report(label, t0, len(frame), None)
        return reply

    def subscribe(self, event_id: int, wait_snapshot: bool = True) -> SeatMap:
        """Subscribe and (by default) wait until the snapshot has arrived."""
        seat_map = self.maps.setdefault(event_id, SeatMap(event_id))
        seat_map.ready = False
        self.request("subscribe", event_id=event_id)
        if wait_snapshot:
            deadline = time.monotonic() + self.op_timeout
            while not seat_map.ready and time.monotonic() < deadline and self.open:
                gevent.sleep(0.02)
            if not seat_map.ready:
                raise TimeoutError(f"no snapshot for event {event_id}")
        return seat_map

    # -- reading -----------------------------------------------------------------------------

    def _read_loop(self) -> None:
        conn = self._conn
        assert conn is not None
        try:
            while True:
                raw = conn.recv()
                now_ms = time.time() * 1000.0
                data = orjson.loads(raw)
                messages = data if isinstance(data, list) else [data]
                size = len(raw) // max(1, len(messages))
                for msg in messages:
                    self._dispatch(msg, now_ms, size)
        except ConnectionClosed as exc:
            self.close_code = exc.rcvd.code if exc.rcvd else 1006
        except Exception:
            self.close_code = self.close_code or 1006
        finally:
            for waiter in list(self._waiting.values()):
                if not waiter.ready():
                    waiter.set_exception(WsClosed(self.close_code))

    def _dispatch(self, msg: dict[str, Any], now_ms: float, size: int) -> None:
        kind = msg.get("type")
        ref = msg.get("ref")
        if ref is not None and ref in self._waiting and kind in ("ok", "error", "pong"):
            self._waiting[ref].set(msg)
            return
        if kind == "delta":
            self._on_delta(msg, now_ms, size)
        elif kind == "snapshot":
            seat_map = self.maps.get(int(msg["event_id"]))
            if seat_map is not None:
                seat_map.apply_snapshot(msg)
                self._resyncing.discard(seat_map.event_id)
        elif kind == "recovered":
            seat_map = self.maps.get(int(msg["event_id"]))
            self._resyncing.discard(int(msg["event_id"]))
            if seat_map is not None and seat_map.pending:
                self._resync(seat_map, fresh=False)
        elif self.on_push is not None and kind not in ("ok", "error", "pong"):
            self.on_push(msg)  # replies to resync subscribes are dropped above

    def _on_delta(self, msg: dict[str, Any], now_ms: float, size: int) -> None:
        ts = msg.get("ts")
        if ts is not None and self.fire is not None:
            self.fire(
                request_type="WS",
                name="delta lag",
                response_time=max(0.0, now_ms - float(ts)),
                response_length=size,
                exception=None,
                context={},
            )
        seat_map = self.maps.get(int(msg["event_id"]))
        if seat_map is None:
            return
        outcome = seat_map.apply_delta(msg)
        if outcome in ("gap", "epoch"):
            self._resync(seat_map, fresh=outcome == "epoch")

    def _resync(self, seat_map: SeatMap, fresh: bool) -> None:
        """Resubscribe with ``since`` (or fresh on a new epoch) without blocking the reader."""
        if seat_map.event_id in self._resyncing or not self.open:
            return
        self._resyncing.add(seat_map.event_id)
        seat_map.resyncs += 1
        fields: dict[str, Any] = {"event_id": seat_map.event_id}
        if not fresh and seat_map.seq is not None:
            fields["since"] = {"epoch": seat_map.epoch, "seq": seat_map.seq}
        else:
            seat_map.ready = False
        ref = next(self._refs)
        try:
            assert self._conn is not None
            self._conn.send(orjson.dumps({"op": "subscribe", "ref": ref, **fields}).decode())
        except Exception:
            self._resyncing.discard(seat_map.event_id)

    def _report(self, name: str, t0: float, length: int, exc: Exception | None) -> None:
        if self.fire is not None:
            self.fire(
                request_type="WS",
                name=name,
                response_time=(time.perf_counter() - t0) * 1000.0,
                response_length=length,
                exception=exc,
                context={},
            )
