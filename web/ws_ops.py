"""The client ops of a ``/ws`` session (CONTRACT.md §3): each parses its fields, calls one
service and returns the reply's fields (or None when it queued its replies itself).

Until authenticated a session may only ``auth``, ``subscribe``, ``unsubscribe`` and ``ping``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson

from hub.errors import BadRequest, Evently, RateLimited
from hub.fanout import Subscription
from hub.model import Role
from hub.policy import require_event_creator
from web import metrics, ratelimit, render
from web.clock import utcnow
from web.idempotency import check_key, fingerprint
from web.schemas import BookingPatchIn, ConfirmIn, HoldIn, WaitlistIn, parse_obj
from web.ws_fields import int_field, since_field, str_field
from web.ws_limits import check_subscription_cap

if TYPE_CHECKING:
    from web.ws_session import Session

__all__ = ["METERED_OPS", "OPS", "PUBLIC_OPS", "run"]

log = logging.getLogger(__name__)

Reply = dict[str, Any] | None
Op = Callable[["Session", dict[str, Any]], Awaitable[Reply]]

PUBLIC_OPS = {"auth", "subscribe", "unsubscribe", "ping"}
METERED_OPS = {"hold", "confirm", "cancel", "extend", "release", "booking.update"}


async def run(session: Session, msg: dict[str, Any]) -> Reply:
    """Run the op a message names, counting metered ops by outcome; a user's op is counted
    against its rate-limit rule first (``RATE_LIMITED``).

    Raises: BadRequest (unknown op), Unauthenticated / TokenExpired (a private op before a
    valid ``auth``), TokenRevoked (the session's login was revoked), and whatever the op
    raises.
    """
    op = msg.get("op")
    handler = OPS.get(op) if isinstance(op, str) else None
    if handler is None or not isinstance(op, str):
        raise BadRequest(f"Unknown op {op!r}.", fields=[{"field": "op", "message": "unknown op"}])
    principal = None if op in PUBLIC_OPS else await session.require_live()
    try:
        if principal is not None:  # the per-user rules REST uses too (ratelimit.USER_ACTIONS)
            await ratelimit.check_op(session.runtime, op, principal.id)
        reply = await handler(session, msg)
    except Evently as err:
        if op in METERED_OPS:
            metrics.ws_op(op, err.code)
        raise
    if op in METERED_OPS:
        metrics.ws_op(op, "ok")
    return reply


async def op_ping(s: Session, msg: dict[str, Any]) -> Reply:
    return {"type": "pong"}


async def op_auth(s: Session, msg: dict[str, Any]) -> Reply:
    p = await s.authenticate(str_field(msg, "token"))
    return {"user_id": p.id, "role": str(p.role), "expires_at": p.expires_at}


async def op_subscribe(s: Session, msg: dict[str, Any]) -> Reply:
    """Reply, then a snapshot — or the missed deltas and ``recovered`` when ``since`` is still
    in history — then the deltas queued meanwhile, in order.

    Raises: BadRequest (fields), ValidationFailed (``WS_MAX_SUBSCRIPTIONS`` events watched
    already), RateLimited (``RATE_LIMIT_WS_SUBSCRIBE``, per session; no snapshot is read)."""
    event_id = int_field(msg, "event_id")
    since = since_field(msg)
    if event_id not in s.subs:
        check_subscription_cap(len(s.subs), s.runtime.ws.max_subscriptions, event_id)
    try:
        await ratelimit.check(s.runtime, "ws_subscribe", s.key)
    except RateLimited:
        metrics.ws_limited("subscribe_rate")
        raise
    broadcaster, bookings = s.services.live.broadcaster, s.services.bookings
    old = s.subs.pop(event_id, None)
    if old is not None:
        await broadcaster.remove_subscription(old)
    sub = Subscription(event_id, s.outbox, lambda sub: _resync(s, sub))
    await broadcaster.add_subscription(sub)
    try:
        now = utcnow()
        missed = None
        if since is not None:
            missed = await bookings.history(event_id, since[0], since[1], now)
        if missed is not None:
            epoch, seq, texts = missed
            s.send({"type": "ok", "ref": msg.get("ref"), "event_id": event_id, "epoch": epoch,
                    "seq": seq})
            for t in texts:
                s.outbox.put(t)
            s.send({"type": "recovered", "event_id": event_id, "seq": seq})
        else:
            snap = await bookings.snapshot(event_id, now)
            epoch = snap.epoch
            s.send({"type": "ok", "ref": msg.get("ref"), "event_id": event_id,
                    "epoch": snap.epoch, "seq": snap.seq})
            s.send(render.snapshot(snap))
            seq = snap.seq
        for t in sub.activate(epoch, seq):
            s.outbox.put(t)
    except BaseException:
        await broadcaster.remove_subscription(sub)
        raise
    s.subs[event_id] = sub
    return None


def _resync(s: Session, sub: Subscription) -> Awaitable[None] | None:
    """A gap or a new epoch: send a fresh snapshot (one resync per event at a time)."""
    if sub.event_id in s.resyncing:
        return None
    s.resyncing.add(sub.event_id)
    return _do_resync(s, sub)


async def _do_resync(s: Session, sub: Subscription) -> None:
    """A fresh snapshot, retried with backoff for ~30 s (a subscription left ``pending``
    would buffer every later delta for ever: say, Redis still reconnecting after a restart),
    then the session closes with 1013 and the client reconnects."""
    try:
        for attempt in range(20):
            try:
                return await _resync_once(s, sub)
            except Exception as exc:
                if s.subs.get(sub.event_id) is not sub or s.outbox.closed:
                    return
                log.warning("resync of event %d failed: %r", sub.event_id, exc)
            await asyncio.sleep(min(0.1 * 2 ** attempt, 2.0))
        await s.close_overloaded("could not resynchronise; reconnect")
    finally:
        s.resyncing.discard(sub.event_id)


async def _resync_once(s: Session, sub: Subscription) -> None:
    for _ in range(3):
        snap = await s.services.bookings.snapshot(sub.event_id, utcnow())
        if s.subs.get(sub.event_id) is not sub:
            return
        s.send(render.snapshot(snap))
        for t in sub.activate(snap.epoch, snap.seq):
            s.outbox.put(t)
        if not sub.pending:
            return


async def op_unsubscribe(s: Session, msg: dict[str, Any]) -> Reply:
    sub = s.subs.pop(int_field(msg, "event_id"), None)
    if sub is not None:
        await s.services.live.broadcaster.remove_subscription(sub)
    return {}


async def op_hold(s: Session, msg: dict[str, Any]) -> Reply:
    principal = s.require_auth()
    event_id = int_field(msg, "event_id")
    body = parse_obj(HoldIn, {k: msg[k] for k in ("seat_ids", "qty") if k in msg})
    hold = await s.services.bookings.hold(principal, event_id, utcnow(),
                                          seat_ids=body.seat_ids, qty=body.qty)
    return render.hold(hold)


async def op_extend(s: Session, msg: dict[str, Any]) -> Reply:
    hold = await s.services.bookings.extend(s.require_auth(), str_field(msg, "hold_id"),
                                            utcnow())
    return render.hold(hold)


async def op_release(s: Session, msg: dict[str, Any]) -> Reply:
    await s.services.bookings.release(s.require_auth(), str_field(msg, "hold_id"), utcnow())
    return {}


async def op_confirm(s: Session, msg: dict[str, Any]) -> Reply:
    """A retry with the same ``idempotency_key`` over either transport replays the booking."""
    principal = s.require_auth()
    hold_id = str_field(msg, "hold_id")
    body = parse_obj(ConfirmIn, {k: msg[k] for k in ("guest",) if k in msg})
    guest = body.guest.model_dump() if body.guest else None

    async def confirm() -> tuple[int, dict[str, Any]]:
        booking = await s.services.bookings.confirm(principal, hold_id, utcnow(), guest)
        return 201, render.booking(booking)

    key = msg.get("idempotency_key")
    if key is None:
        return (await confirm())[1]
    if not isinstance(key, str):
        raise BadRequest("'idempotency_key' must be a string.",
                         fields=[{"field": "idempotency_key", "message": "a string"}])
    check_key(key, "idempotency_key")
    fp = fingerprint("POST", f"/holds/{hold_id}/confirm",
                     orjson.dumps({"guest": guest} if guest else {}))
    _, body_out, _ = await s.services.idempotency.run_once(
        principal.id, key, fp, confirm, utcnow())
    return dict(body_out)


async def op_cancel(s: Session, msg: dict[str, Any]) -> Reply:
    booking = await s.services.bookings.cancel(s.require_auth(), int_field(msg, "booking_id"),
                                               utcnow())
    return render.booking(booking)


async def op_booking_update(s: Session, msg: dict[str, Any]) -> Reply:
    """``PATCH /bookings/{id}`` over the socket: ``guest`` and/or ``release_seat_ids``."""
    principal = s.require_auth()
    booking_id = int_field(msg, "booking_id")
    body = parse_obj(BookingPatchIn, {k: msg[k] for k in ("guest", "release_seat_ids")
                                      if k in msg})
    booking = await s.services.booking_changes.change(
        principal, booking_id, utcnow(), guest=body.guest.model_dump() if body.guest else None,
        release_seat_ids=body.release_seat_ids)
    return render.booking(booking)


async def op_analytics_subscribe(s: Session, msg: dict[str, Any]) -> Reply:
    """Admins get every event; organizers only the events they organize."""
    principal = s.require_auth()
    require_event_creator(principal)
    s.services.live.watch_analytics(
        s.outbox, None if principal.role is Role.ADMIN else principal.id)
    return {}


async def op_waitlist_join(s: Session, msg: dict[str, Any]) -> Reply:
    principal, event_id = s.require_auth(), int_field(msg, "event_id")
    body = parse_obj(WaitlistIn, {k: msg[k] for k in ("qty",) if k in msg})
    entry = await s.services.box_office.join(principal, event_id, body.qty, utcnow())
    return render.waitlist_entry(entry)


async def op_waitlist_leave(s: Session, msg: dict[str, Any]) -> Reply:
    await s.services.box_office.leave(s.require_auth(), int_field(msg, "entry_id"), utcnow())
    return {}


OPS: dict[str, Op] = {
    "auth": op_auth, "subscribe": op_subscribe, "unsubscribe": op_unsubscribe,
    "ping": op_ping, "hold": op_hold, "extend": op_extend, "release": op_release,
    "confirm": op_confirm, "cancel": op_cancel, "booking.update": op_booking_update,
    "waitlist.join": op_waitlist_join,
    "waitlist.leave": op_waitlist_leave, "analytics.subscribe": op_analytics_subscribe,
}
