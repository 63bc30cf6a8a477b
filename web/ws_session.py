"""``GET /ws``: one live session (CONTRACT.md §3) — framing, size limit, origin check
(:mod:`web.origin`, before the handshake), the resource limits (:mod:`web.ws_limits`: idle
close, sockets per address and per user), the outbox, and who the session is. The ops
themselves are in :mod:`web.ws_ops`.

One task reads client messages and runs them one at a time (so a session's replies keep the
order of its requests); one writer task drains the session's bounded :class:`Outbox`, sending
several queued messages as one JSON array frame. Replies and pushes share the outbox, so a
frame never interleaves. A bad message gets an ``error`` reply and the session lives on.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from hub.errors import BadRequest, Evently, TokenExpired, TokenRevoked, Unauthenticated
from hub.fanout import REVOKED, Outbox, Subscription
from hub.ports.runtime import Principal
from web import metrics, ws_ops
from web.auth import bearer
from web.clock import utcnow
from web.errors import as_evently, ws_error
from web.origin import refuse_foreign_origin
from web.runtime import Runtime
from web.ws_fields import echoable_ref
from web.ws_limits import CLOSE_POLICY, admit_address, too_many_sockets

__all__ = ["Session", "ws_endpoint"]

log = logging.getLogger(__name__)

CLOSE_TOO_BIG, CLOSE_ERROR, CLOSE_OVERLOADED, CLOSE_REVOKED = 1009, 1011, 1013, 4401
REVOKED_MARK = f'"type":"{REVOKED}"'  # pushed on a user's channel when banned/revoked


class Session:
    """One WebSocket session's state: who it is, what it watches, its outbox."""

    def __init__(self, ws: WebSocket, runtime: Runtime) -> None:
        self.ws = ws
        self.runtime = runtime
        self.services = runtime.services
        self.outbox = Outbox(runtime.ws.outbox_limit)
        self.principal: Principal | None = None
        self.expired = False
        self.revoked = False
        self.subs: dict[int, Subscription] = {}
        self.resyncing: set[int] = set()
        self._expiry_timer: asyncio.TimerHandle | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self.close_request: tuple[int, str] | None = None  # close once the queue is sent
        self.key = secrets.token_hex(8)  # the session's subscribe-rate bucket (all processes)
        self._handling = False
        self._background: set[asyncio.Task[None]] = set()

    def send(self, message: dict[str, Any]) -> None:
        """Queue one message (a reply or a push) for the writer."""
        self.outbox.put(orjson.dumps(message).decode())

    async def writer(self) -> None:
        """Drain the outbox: a batch goes out as one frame (an array when several)."""
        while True:
            batch = await self.outbox.take()
            if self.outbox.overflowed:
                await self.close(CLOSE_OVERLOADED, "too slow to keep up; resubscribe with since")
                return
            if not batch:
                if self.close_request is not None:
                    await self.close(*self.close_request)
                return
            cut = next((i for i, t in enumerate(batch) if REVOKED_MARK in t), None)
            if cut is not None:
                if cut:  # what was queued before the revocation still goes out
                    await self.ws.send_text(batch[0] if cut == 1
                                            else "[" + ",".join(batch[:cut]) + "]")
                await self.close(CLOSE_REVOKED, "session revoked")
                return
            await self.ws.send_text(batch[0] if len(batch) == 1 else "[" + ",".join(batch) + "]")

    async def close(self, code: int, reason: str = "") -> None:
        """Close the outbox and the socket with ``code`` (CONTRACT §3 close codes)."""
        self.outbox.close()
        if self.ws.application_state == WebSocketState.CONNECTED:
            try:
                await self.ws.close(code, reason)
            except Exception:
                pass

    async def close_overloaded(self, reason: str) -> None:
        """Close with 1013 (try again later): the client reconnects and resubscribes."""
        await self.close(CLOSE_OVERLOADED, reason)

    def close_after_replies(self, code: int, reason: str) -> None:
        """Send what is queued, then close with ``code``; nothing more is queued."""
        self.close_request = (code, reason)
        self.outbox.close()

    def watch_idle(self) -> None:
        """Run the idle clock (``WS_IDLE_SECONDS``) while the session has no user and no
        subscription; stop it otherwise. Called on open and after each message."""
        idle = self.principal is None and not self.subs
        if idle and self._idle_timer is None:
            self._idle_timer = asyncio.get_running_loop().call_later(
                self.runtime.ws.idle_seconds, self._on_idle)
        elif not idle and self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _on_idle(self) -> None:
        self._idle_timer = None  # a message being run (a slow subscribe) re-arms it after
        if self.principal is None and not self.subs and not self._handling:
            metrics.ws_limited("idle")
            self.close_after_replies(
                CLOSE_POLICY, f"idle: no auth or subscribe in {self.runtime.ws.idle_seconds:g} s")

    async def handle(self, text: str) -> None:
        """Run one client message and queue its reply; every failure is an ``error`` reply
        (an unexpected one is ``INTERNAL``, logged with its trace)."""
        ref: Any = None
        self._handling = True
        try:
            msg = _decode(text)
            ref = echoable_ref(msg.get("ref"))
            reply = await ws_ops.run(self, msg)
            if reply is not None:
                self.send({**reply, "ref": ref} if reply.get("type") == "pong"
                          else {"type": "ok", "ref": ref, **reply})
        except Exception as exc:
            if not isinstance(exc, Evently):
                log.exception("ws op failed")
            self.send(ws_error(as_evently(exc), ref))
            if self.revoked:  # the error goes out, then the session closes with 4401
                self.send({"type": REVOKED})
        finally:
            self._handling = False
        if self.close_request is not None:
            self.outbox.close()

    def require_auth(self) -> Principal:
        """Raises: Unauthenticated (no ``auth`` yet), TokenExpired (send a fresh one)."""
        if self.principal is None:
            raise Unauthenticated("Send {\"op\": \"auth\", \"token\": …} first.")
        if self.expired:
            raise TokenExpired("The session's token expired; send a fresh auth.")
        return self.principal

    async def require_live(self) -> Principal:
        """:meth:`require_auth`, and the token is still not revoked (read again from the
        denylist, so an op racing a revocation's push is refused too). Raises:
        Unauthenticated, TokenExpired, TokenRevoked (the session then closes with 4401)."""
        principal = self.require_auth()
        try:
            await self.services.sessions.recheck(principal)
        except TokenRevoked:
            self.revoked = True
            raise
        return principal

    async def authenticate(self, token: str) -> Principal:
        """Become the token's user (again). Raises: Unauthenticated, TokenExpired,
        TokenRevoked, BadRequest (another user than before), RateLimited (the user has
        ``WS_MAX_SOCKETS_PER_USER`` sockets open already: the session closes with 1008 after
        the reply)."""
        principal = await self.services.sessions.authenticate(token)
        if self.principal is not None and self.principal.id != principal.id:
            raise BadRequest("A session cannot change user; open a new one.")
        caps, first = self.runtime.ws.caps, self.principal is None
        if first and not caps.add_user(principal.id):
            self.close_request = (CLOSE_POLICY, "too many sockets for this user")
            raise too_many_sockets(caps.per_user)
        try:
            await self.services.live.broadcaster.add_user(principal.id, self.outbox,
                                                          principal.family, self.recheck)
        except BaseException:
            if first:
                caps.remove_user(principal.id)
            raise
        self.principal, self.expired = principal, False
        if self._expiry_timer:
            self._expiry_timer.cancel()
        delay = max((principal.expires_at - utcnow()).total_seconds(), 0)
        self._expiry_timer = asyncio.get_running_loop().call_later(delay, self._on_expiry)
        return principal

    async def recheck(self) -> None:
        """Read the denylist again for the session's token (after a pub/sub gap, when a
        revocation's push may have been missed); a revoked session closes with 4401."""
        if self.principal is None:
            return
        try:
            await self.services.sessions.recheck(self.principal)
        except TokenRevoked:
            self.revoked = True
            self.send({"type": REVOKED})
        except Evently:
            log.warning("re-checking a session's token failed", exc_info=True)

    def _on_expiry(self) -> None:
        self.expired = True
        self.send({"type": "auth.expired"})
        if self.principal is not None:
            task = asyncio.create_task(self.services.live.broadcaster.remove_user(
                self.principal.id, self.outbox))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def cleanup(self) -> None:
        """Leave every subscription and the user's channel; stop counting the user's socket."""
        if self._expiry_timer:
            self._expiry_timer.cancel()
        if self._idle_timer:
            self._idle_timer.cancel()
        self.outbox.close()
        broadcaster = self.services.live.broadcaster
        for sub in list(self.subs.values()):
            await broadcaster.remove_subscription(sub)
        self.subs.clear()
        if self.principal is not None:
            self.runtime.ws.caps.remove_user(self.principal.id)
            await broadcaster.remove_user(self.principal.id, self.outbox)


def _decode(text: str) -> dict[str, Any]:
    try:
        msg = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise BadRequest("Messages are JSON objects.") from None
    if not isinstance(msg, dict):
        raise BadRequest("Messages are JSON objects.")
    return msg


async def _read_text(ws: WebSocket, session: Session, limit: int) -> str | None:
    """The next message's text; None when the session ends (a disconnect, or a message over
    ``limit`` bytes, closed with 1009). A binary frame that is not UTF-8 gets an error."""
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return None
        text = message.get("text")
        if text is None:
            data = message.get("bytes") or b""
            if len(data) > limit:
                await session.close(CLOSE_TOO_BIG, "message too big")
                return None
            try:
                text = data.decode()
            except UnicodeDecodeError:
                session.send(ws_error(BadRequest("Messages are UTF-8 JSON text.")))
                continue
        if len(text) > limit:
            await session.close(CLOSE_TOO_BIG, "message too big")
            return None
        return str(text)


async def ws_endpoint(ws: WebSocket) -> None:
    """Check the origin (web.origin, before accepting: a foreign one gets HTTP 403) and the
    client address's socket cap (web.ws_limits: HTTP 429), accept, authenticate an upgrade's
    bearer token, then run messages until the client leaves or the session is closed."""
    runtime: Runtime = ws.app.state.runtime
    if await refuse_foreign_origin(ws, runtime.ws.origins):
        return  # refused before the handshake: HTTP 403, never a WebSocket
    address = await admit_address(ws, runtime.ws.caps)
    if address is None:
        return  # refused before the handshake: HTTP 429
    try:
        await ws.accept()
        await _run(ws, runtime)
    finally:
        runtime.ws.caps.close_address(address)


async def _run(ws: WebSocket, runtime: Runtime) -> None:
    """One accepted session, from its bearer token to its cleanup."""
    session = Session(ws, runtime)
    live = runtime.services.live
    live.session_opened()
    metrics.ws_session_opened()
    writer = asyncio.create_task(session.writer())
    try:
        token = bearer(ws)
        if token:
            try:
                await session.authenticate(token)
            except Evently as err:
                session.send(ws_error(err))
                if session.close_request is not None:
                    session.outbox.close()
        session.watch_idle()
        while not session.outbox.closed:
            text = await _read_text(ws, session, runtime.ws.max_message_bytes)
            if text is None:
                break
            await session.handle(text)
            session.watch_idle()
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("ws session failed")
        await session.close(CLOSE_ERROR, "server error")
    finally:
        live.session_closed(session.outbox)
        metrics.ws_session_closed()
        await session.cleanup()
        if session.close_request is None:
            writer.cancel()
        try:  # a requested close first sends what was queued (an error reply)
            await asyncio.wait_for(writer, 5)
        except (asyncio.CancelledError, Exception):
            pass
