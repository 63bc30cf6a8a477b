"""``GET /ws``: the live seat-map session (CONTRACT.md §3).

One task reads client messages and runs them one at a time (so a session's replies keep the
order of its requests); one writer task drains the session's bounded :class:`Outbox`, sending
several queued messages as one JSON array frame. Replies and pushes share the outbox, so a
frame never interleaves. A bad message gets an ``error`` reply and the session lives on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from hub.errors import BadRequest, Evently, TokenExpired, Unauthenticated, Unavailable
from hub.fanout import Outbox, Subscription
from hub.policy import require_admin
from web import metrics, ratelimit, render
from web.auth import bearer
from web.context import Hub, utcnow
from web.errors import ws_error
from web.idempotency import fingerprint, run_once
from web.schemas import ConfirmIn, HoldIn, parse_obj
from web.security import Principal

__all__ = ["origin_allowed", "ws_endpoint"]

log = logging.getLogger(__name__)

CLOSE_POLICY, CLOSE_TOO_BIG, CLOSE_ERROR, CLOSE_OVERLOADED, CLOSE_REVOKED = (
    1008, 1009, 1011, 1013, 4401)
PUBLIC_OPS = {"auth", "subscribe", "unsubscribe", "ping"}
METERED_OPS = {"hold", "confirm", "cancel", "extend", "release"}
REVOKED_MARK = '"type":"session.revoked"'  # pushed on a user's channel when banned/revoked


def origin_allowed(origin: str | None, host: str | None, allowed: set[str]) -> bool:
    """Same-origin is always allowed, plus ``ALLOWED_ORIGINS``; no Origin header (a
    non-browser client) is allowed. ``*`` in the list allows every origin."""
    if not origin:
        return True
    origin = origin.rstrip("/")
    if "*" in allowed or origin in allowed:
        return True
    _, _, origin_host = origin.partition("://")
    return bool(host) and origin_host == host


def _int_field(msg: dict[str, Any], name: str) -> int:
    value = msg.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise BadRequest(f"'{name}' must be a positive integer.",
                         fields=[{"field": name, "message": "a positive integer"}])
    return value


def _str_field(msg: dict[str, Any], name: str) -> str:
    value = msg.get(name)
    if not isinstance(value, str) or not value or len(value) > 300:
        raise BadRequest(f"'{name}' must be a string.",
                         fields=[{"field": name, "message": "a non-empty string"}])
    return value


class Session:
    """One WebSocket session's state: who it is, what it watches, its outbox."""

    def __init__(self, ws: WebSocket, hub: Hub) -> None:
        self.ws = ws
        self.hub = hub
        self.outbox = Outbox(hub.settings.ws_outbox_limit)
        self.principal: Principal | None = None
        self.expired = False
        self.subs: dict[int, Subscription] = {}
        self._expiry_timer: asyncio.TimerHandle | None = None
        self._resyncing: set[int] = set()
        self._background: set[asyncio.Task[None]] = set()
        self.ops: dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]] = {
            "auth": self.op_auth, "subscribe": self.op_subscribe,
            "unsubscribe": self.op_unsubscribe, "ping": self.op_ping, "hold": self.op_hold,
            "extend": self.op_extend, "release": self.op_release, "confirm": self.op_confirm,
            "cancel": self.op_cancel, "waitlist.join": self.op_waitlist_join,
            "waitlist.leave": self.op_waitlist_leave,
            "analytics.subscribe": self.op_analytics_subscribe,
        }

    # -- plumbing ----------------------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        self.outbox.put(orjson.dumps(message).decode())

    async def writer(self) -> None:
        while True:
            batch = await self.outbox.take()
            if self.outbox.overflowed:
                await self.close(CLOSE_OVERLOADED, "too slow to keep up; resubscribe with since")
                return
            if not batch:
                return
            if any(REVOKED_MARK in t for t in batch):
                await self.close(CLOSE_REVOKED, "session revoked")
                return
            text = batch[0] if len(batch) == 1 else "[" + ",".join(batch) + "]"
            await self.ws.send_text(text)

    async def close(self, code: int, reason: str = "") -> None:
        self.outbox.close()
        if self.ws.application_state == WebSocketState.CONNECTED:
            try:
                await self.ws.close(code, reason)
            except Exception:
                pass

    async def handle(self, text: str) -> None:
        ref: Any = None
        try:
            try:
                msg = orjson.loads(text)
            except orjson.JSONDecodeError:
                raise BadRequest("Messages are JSON objects.") from None
            if not isinstance(msg, dict):
                raise BadRequest("Messages are JSON objects.")
            ref = msg.get("ref")
            op = msg.get("op")
            handler = self.ops.get(op) if isinstance(op, str) else None
            if handler is None:
                raise BadRequest(f"Unknown op {op!r}.", fields=[{"field": "op",
                                                                 "message": "unknown op"}])
            if op not in PUBLIC_OPS:
                self.require_auth()
            try:
                result = await handler(msg)
            except Evently as err:
                if op in METERED_OPS:
                    metrics.ws_op(op, err.code)
                raise
            if op in METERED_OPS:
                metrics.ws_op(op, "ok")
            if result.get("type") == "_sent":
                return
            if result.get("type") == "pong":
                self.send({**result, "ref": ref})
            else:
                self.send({"type": "ok", "ref": ref, **result})
        except Evently as err:
            self.send(ws_error(err, ref))
        except Exception:
            log.exception("ws op failed")
            self.send(ws_error(Unavailable("The server failed to handle that message."), ref))

    def require_auth(self) -> Principal:
        if self.principal is None:
            raise Unauthenticated("Send {\"op\": \"auth\", \"token\": …} first.")
        if self.expired:
            raise TokenExpired("The session's token expired; send a fresh auth.")
        return self.principal

    async def authenticate(self, token: str) -> Principal:
        principal = self.hub.tokens.principal(token)
        await self.hub.check_revoked(principal)
        if self.principal is not None and self.principal.id != principal.id:
            raise BadRequest("A session cannot change user; open a new one.")
        if self.principal is None or self.expired:
            await self.hub.broadcaster.add_user(principal.id, self.outbox)
        self.principal, self.expired = principal, False
        if self._expiry_timer:
            self._expiry_timer.cancel()
        delay = max((principal.expires_at - utcnow()).total_seconds(), 0)
        self._expiry_timer = asyncio.get_running_loop().call_later(delay, self._on_expiry)
        return principal

    def _on_expiry(self) -> None:
        self.expired = True
        self.send({"type": "auth.expired"})
        if self.principal is not None:
            task = asyncio.create_task(self.hub.broadcaster.remove_user(self.principal.id,
                                                                        self.outbox))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def cleanup(self) -> None:
        self.hub.analytics_outboxes.discard(self.outbox)
        if self._expiry_timer:
            self._expiry_timer.cancel()
        self.outbox.close()
        for sub in list(self.subs.values()):
            await self.hub.broadcaster.remove_subscription(sub)
        self.subs.clear()
        if self.principal is not None:
            await self.hub.broadcaster.remove_user(self.principal.id, self.outbox)

    # -- ops ---------------------------------------------------------------------------------

    async def op_ping(self, msg: dict[str, Any]) -> dict[str, Any]:
        return {"type": "pong"}

    async def op_auth(self, msg: dict[str, Any]) -> dict[str, Any]:
        p = await self.authenticate(_str_field(msg, "token"))
        return {"user_id": p.id, "role": str(p.role), "expires_at": p.expires_at}

    async def op_subscribe(self, msg: dict[str, Any]) -> dict[str, Any]:
        event_id = _int_field(msg, "event_id")
        since = msg.get("since")
        if since is not None and not (
                isinstance(since, dict) and all(isinstance(since.get(k), int)
                                                and not isinstance(since.get(k), bool)
                                                for k in ("epoch", "seq"))):
            raise BadRequest("'since' is {epoch, seq}.", fields=[{"field": "since",
                                                                  "message": "{epoch, seq}"}])
        old = self.subs.pop(event_id, None)
        if old is not None:
            await self.hub.broadcaster.remove_subscription(old)
        sub = Subscription(event_id, self.outbox, self._resync)
        await self.hub.broadcaster.add_subscription(sub)
        try:
            now = utcnow()
            missed = None
            if since is not None:
                missed = await self.hub.bookings.history(event_id, since["epoch"], since["seq"],
                                                         now)
            if missed is not None:
                epoch, seq, texts = missed
                self.send({"type": "ok", "ref": msg.get("ref"), "event_id": event_id,
                           "epoch": epoch, "seq": seq})
                for t in texts:
                    self.outbox.put(t)
                self.send({"type": "recovered", "event_id": event_id, "seq": seq})
                for t in sub.activate(epoch, seq):
                    self.outbox.put(t)
            else:
                snap = await self.hub.bookings.snapshot(event_id, now)
                self.send({"type": "ok", "ref": msg.get("ref"), "event_id": event_id,
                           "epoch": snap.epoch, "seq": snap.seq})
                self.send(render.snapshot(snap))
                for t in sub.activate(snap.epoch, snap.seq):
                    self.outbox.put(t)
        except BaseException:
            await self.hub.broadcaster.remove_subscription(sub)
            raise
        self.subs[event_id] = sub
        return {"type": "_sent"}

    def _resync(self, sub: Subscription) -> Awaitable[None] | None:
        if sub.event_id in self._resyncing:
            return None
        self._resyncing.add(sub.event_id)
        return self._do_resync(sub)

    async def _do_resync(self, sub: Subscription) -> None:
        """A fresh snapshot, retried ~30 s (a stuck ``pending`` buffers deltas for ever)."""
        try:
            for attempt in range(20):  # then 1013: the client reconnects
                try:
                    return await self._resync_once(sub)
                except Exception as exc:
                    if self.subs.get(sub.event_id) is not sub or self.outbox.closed:
                        return
                    log.warning("resync of event %d failed: %r", sub.event_id, exc)
                await asyncio.sleep(min(0.1 * 2 ** attempt, 2.0))
            await self.close(CLOSE_OVERLOADED, "could not resynchronise; reconnect")
        finally:
            self._resyncing.discard(sub.event_id)

    async def _resync_once(self, sub: Subscription) -> None:
        for _ in range(3):
            snap = await self.hub.bookings.snapshot(sub.event_id, utcnow())
            if self.subs.get(sub.event_id) is not sub:
                return
            self.send(render.snapshot(snap))
            for t in sub.activate(snap.epoch, snap.seq):
                self.outbox.put(t)
            if not sub.pending:
                return

    async def op_unsubscribe(self, msg: dict[str, Any]) -> dict[str, Any]:
        event_id = _int_field(msg, "event_id")
        sub = self.subs.pop(event_id, None)
        if sub is not None:
            await self.hub.broadcaster.remove_subscription(sub)
        return {}

    async def op_hold(self, msg: dict[str, Any]) -> dict[str, Any]:
        principal = self.require_auth()
        event_id = _int_field(msg, "event_id")
        body = parse_obj(HoldIn, {k: msg[k] for k in ("seat_ids", "qty") if k in msg})
        await ratelimit.check(self.hub, "holds", str(principal.id))
        hold = await self.hub.bookings.hold(principal, event_id, utcnow(),
                                            seat_ids=body.seat_ids, qty=body.qty)
        return render.hold(hold)

    async def op_extend(self, msg: dict[str, Any]) -> dict[str, Any]:
        hold = await self.hub.bookings.extend(self.require_auth(), _str_field(msg, "hold_id"),
                                              utcnow())
        return render.hold(hold)

    async def op_release(self, msg: dict[str, Any]) -> dict[str, Any]:
        await self.hub.bookings.release(self.require_auth(), _str_field(msg, "hold_id"),
                                        utcnow())
        return {}

    async def op_confirm(self, msg: dict[str, Any]) -> dict[str, Any]:
        principal = self.require_auth()
        hold_id = _str_field(msg, "hold_id")
        await ratelimit.check(self.hub, "bookings", str(principal.id))
        body = parse_obj(ConfirmIn, {k: msg[k] for k in ("guest",) if k in msg})
        guest = body.guest.model_dump() if body.guest else None

        async def run() -> tuple[int, dict[str, Any]]:
            booking = await self.hub.bookings.confirm(principal, hold_id, utcnow(), guest)
            return 201, render.booking(booking)

        if msg.get("idempotency_key") is None:
            return (await run())[1]
        # The same key space as REST: a retry over either transport replays the first booking.
        fp = fingerprint("POST", f"/holds/{hold_id}/confirm",
                         orjson.dumps({"guest": guest} if guest else {}))
        _, body_out, _ = await run_once(self.hub.idempotency, principal.id,
                                        _str_field(msg, "idempotency_key"), fp, run)
        return dict(body_out)

    async def op_cancel(self, msg: dict[str, Any]) -> dict[str, Any]:
        booking = await self.hub.bookings.cancel(self.require_auth(),
                                                 _int_field(msg, "booking_id"), utcnow())
        return render.booking(booking)


    async def op_analytics_subscribe(self, msg: dict[str, Any]) -> dict[str, Any]:
        require_admin(self.require_auth())
        self.hub.analytics_outboxes.add(self.outbox)
        return {}

    async def op_waitlist_join(self, msg: dict[str, Any]) -> dict[str, Any]:
        entry = await self.hub.waitlist.join(self.require_auth(), _int_field(msg, "event_id"),
                                             _int_field(msg, "qty"), utcnow())
        return render.waitlist_entry(entry)

    async def op_waitlist_leave(self, msg: dict[str, Any]) -> dict[str, Any]:
        await self.hub.waitlist.leave(self.require_auth(), _int_field(msg, "entry_id"),
                                      utcnow())
        return {}


async def ws_endpoint(ws: WebSocket) -> None:
    hub: Hub = ws.app.state.hub
    await ws.accept()
    if not origin_allowed(ws.headers.get("origin"), ws.headers.get("host"),
                          hub.settings.origins):
        await ws.close(CLOSE_POLICY, "origin not allowed")
        return
    session = Session(ws, hub)
    hub.connections += 1
    metrics.ws_session_opened()
    writer = asyncio.create_task(session.writer())
    try:
        token = bearer(ws)
        if token:
            try:
                await session.authenticate(token)
            except Evently as err:
                session.send(ws_error(err))
        limit = hub.settings.ws_max_message_bytes
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                data = message.get("bytes") or b""
                if len(data) > limit:
                    await session.close(CLOSE_TOO_BIG, "message too big")
                    break
                try:
                    text = data.decode()
                except UnicodeDecodeError:
                    session.send(ws_error(BadRequest("Messages are UTF-8 JSON text.")))
                    continue
            if len(text) > limit:
                await session.close(CLOSE_TOO_BIG, "message too big")
                break
            await session.handle(text)
            if session.outbox.closed:
                break
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("ws session failed")
        await session.close(CLOSE_ERROR, "server error")
    finally:
        hub.connections -= 1
        metrics.ws_session_closed()
        await session.cleanup()
        writer.cancel()
        try:
            await writer
        except (asyncio.CancelledError, Exception):
            pass
