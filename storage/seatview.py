"""The Redis seat view: holds as TTL leases, per-event seat status, ``seq``/``epoch``, capped
history and pub/sub publishing, all changed by Lua scripts in ``storage/lua/``.

The key layout is drawn in :mod:`storage.keys`; every key used here is built there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from hub.errors import (
    Forbidden,
    HoldLimit,
    NotFound,
    Unavailable,
    ValidationFailed,
    error_for_code,
)
from hub.model import Hold, HoldStatus, Seat
from hub.ports import EventCounts, HoldRequest, Snapshot, SweptHold, ViewMissing, ViewSource
from storage.keys import (
    EVENT_VIEW_PARTS,
    LIVE_EVENTS,
    event_key,
    event_meta,
    event_minute,
    live_bucket,
    live_buckets,
)
from storage.redis_conn import execute, is_cluster

__all__ = ["RedisSeatView", "script_source"]

LUA_DIR = Path(__file__).parent / "lua"
SWEEP_BATCH = 500
# Sets the ttl of a loaded view only: an absent view must stay absent (never a partial view).
_SET_TTL = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'ttl', ARGV[1]) end
return 1
"""
T = TypeVar("T")


@cache
def script_source(name: str, sharded: bool = False) -> str:
    """The full text of Lua script ``name`` as the hub runs it (the shared helpers first).

    ``hold_begin`` is composed, not a file: ``hold.lua`` then ``confirm_begin.lua`` in one
    script (one round trip for the book path), each body as a function of its own ARGV.
    ARGV: 1 grace_ms, then exactly ``hold.lua``'s ARGV. Reply: ``confirm_begin``'s, or the
    first ``{'ERR', …}``.

    ``sharded``: on a Redis Cluster the scripts publish with ``SPUBLISH`` (sharded pub/sub,
    Redis 7: the message stays on the shard that owns the event's slot, which the script's
    keys are on already) instead of ``PUBLISH`` (rebroadcast to every node of the cluster).
    """
    lib = (LUA_DIR / "_lib.lua").read_text()
    if name == "hold_begin":
        text = "\n".join([
            lib,
            "local function step_hold(ARGV)", (LUA_DIR / "hold.lua").read_text(), "end",
            "local function step_begin(ARGV)", (LUA_DIR / "confirm_begin.lua").read_text(),
            "end",
            "local hold_args = {}",
            "for i = 2, #ARGV do hold_args[i - 1] = ARGV[i] end",
            "local held = step_hold(hold_args)",
            "if held[1] == 'ERR' then return held end",
            "return step_begin({ARGV[4], ARGV[3], ARGV[5], ARGV[1]})",
        ])
    else:
        text = lib + "\n" + (LUA_DIR / f"{name}.lua").read_text()
    if sharded:
        text = text.replace("redis.call('PUBLISH', ", "redis.call('SPUBLISH', ")
    return text


def _ids(csv: bytes | str | None) -> list[int]:
    if not csv:
        return []
    text = csv.decode() if isinstance(csv, bytes) else csv
    return [int(x) for x in text.split(",") if x]


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _ms_to_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class RedisSeatView:
    """:class:`hub.ports.SeatView` on a real Redis (6.2+; Cluster-safe key layout).

    Redis failures become :class:`hub.errors.Unavailable` here, chained to the original.
    """

    SCRIPTS = ("hold", "hold_begin", "get_hold", "extend", "release", "confirm_begin",
               "confirm_abort", "confirm_finish", "free", "sweep", "load", "reconcile",
               "add_seats", "offer", "waiting", "rebase")

    def __init__(self, client: aioredis.Redis) -> None:
        self.r = client
        sharded = is_cluster(client)
        self._scripts: dict[str, AsyncScript] = {
            name: client.register_script(script_source(name, sharded)) for name in self.SCRIPTS
        }
        self._set_ttl = client.register_script(_SET_TTL)

    async def _run(self, name: str, event_id: int, args: list[Any]) -> list[Any]:
        try:
            reply = await self._scripts[name](keys=[event_meta(event_id)], args=args)
        except RedisError as exc:
            raise Unavailable(f"Redis failed: {type(exc).__name__}") from exc
        if isinstance(reply, list) and reply and _s(reply[0]) == "ERR":
            self._raise(event_id, _s(reply[1]), _s(reply[2]) if len(reply) > 2 else "")
        return list(reply)

    @staticmethod
    def _raise(event_id: int, code: str, detail: str) -> None:
        if code == "NO_VIEW":
            raise ViewMissing(event_id)
        if code == "UNKNOWN_SEATS":
            raise ValidationFailed("Some seat ids are not seats of this event.", fields=[
                {"field": "seat_ids", "message": f"not seats of event {event_id}: {detail}"}])
        if code == "SEAT_UNAVAILABLE":
            raise error_for_code(code, seat_ids=_ids(detail))
        if code == "NOT_ENOUGH_SEATS":
            raise error_for_code(code, available=int(detail or 0))
        if code == "HOLD_LIMIT":
            raise HoldLimit(held=int(detail or 0))
        if code == "FORBIDDEN":
            raise Forbidden("That hold belongs to another user.")
        if code == "NOT_FOUND":
            raise NotFound("No such hold; it may have expired or been released.")
        raise error_for_code(code)

    async def _read(self, *commands: tuple[str, tuple[Any, ...], dict[str, Any]]) -> list[Any]:
        """Run read commands in one MULTI/EXEC, so they see one consistent moment.
        Raises: Unavailable."""
        async def run() -> list[Any]:
            async with self.r.pipeline(transaction=True) as pipe:
                for name, args, kwargs in commands:
                    getattr(pipe, name)(*args, **kwargs)
                return list(await execute(pipe))

        return await self._call(run)

    async def _call(self, op: Callable[[], Awaitable[T]]) -> T:
        try:
            return await op()
        except RedisError as exc:
            raise Unavailable(f"Redis failed: {type(exc).__name__}") from exc

    @staticmethod
    def _hold(event_id: int, reply: list[Any]) -> Hold:
        _, tok, user, created, expires, fence, epoch, seats, labels = (_s(x) for x in reply[:9])
        entry = _s(reply[9]) if len(reply) > 9 else "0"
        state = HoldStatus(_s(reply[10])) if len(reply) > 10 else HoldStatus.ACTIVE
        seat_ids = _ids(seats)
        return Hold(
            entry_id=int(entry or 0),
            hold_id=f"{event_id}.{tok}", event_id=event_id, user_id=int(user),
            seat_ids=seat_ids, labels=labels.split("\n") if seat_ids else [],
            created_at=_ms_to_dt(int(created)), expires_at=_ms_to_dt(int(expires)),
            fence=(int(epoch) << 32) | int(fence), state=state,
        )

    # -- holds -------------------------------------------------------------------------------

    async def hold(self, req: HoldRequest) -> Hold:
        """``hold.lua``; ``req.ttl_ms`` 0 means the event's TTL (meta ``ttl``, from
        ``hold_ttl_seconds``), resolved inside the script so a TTL change applies at once."""
        args = [req.event_id, req.user_id, req.token, req.now_ms, req.ttl_ms, req.max_held,
                req.qty, req.lifetime_ms, req.reserved_for, *req.seat_ids]
        return self._hold(req.event_id, await self._run("hold", req.event_id, args))

    async def hold_begin(self, req: HoldRequest, grace_ms: int) -> Hold:
        """``hold.lua`` then ``confirm_begin.lua`` in one script (:func:`script_source`): the
        new hold is already ``confirming``; the reply is ``confirm_begin``'s."""
        args = [grace_ms, req.event_id, req.user_id, req.token, req.now_ms, req.ttl_ms,
                req.max_held, req.qty, req.lifetime_ms, req.reserved_for, *req.seat_ids]
        return self._hold(req.event_id, await self._run("hold_begin", req.event_id, args))

    async def get_hold(self, event_id: int, token: str) -> Hold | None:
        return (await self.lookup_hold(event_id, token))[0]

    async def lookup_hold(self, event_id: int,
                          token: str) -> tuple[Hold | None, tuple[int, HoldStatus] | None]:
        """``(live hold, None)``, or ``(None, (user_id, RELEASED | EXPIRED))`` for a hold
        that ended within the last hour without a booking, or ``(None, None)``.
        Raises: Unavailable."""
        try:
            reply = list(await self._scripts["get_hold"](keys=[event_meta(event_id)],
                                                         args=[token]))
        except RedisError as exc:
            raise Unavailable(f"Redis failed: {type(exc).__name__}") from exc
        if _s(reply[0]) != "ERR":
            return self._hold(event_id, reply), None
        user, _, outcome = _s(reply[2] if len(reply) > 2 else "").partition("|")
        if user.isdigit() and outcome in (HoldStatus.RELEASED, HoldStatus.EXPIRED):
            return None, (int(user), HoldStatus(outcome))
        return None, None

    async def extend(self, event_id: int, token: str, user_id: int, now_ms: int, ttl_ms: int,
                     lifetime_ms: int) -> Hold:
        """``extend.lua``; ``ttl_ms`` 0 means the event's TTL (meta ``ttl``)."""
        reply = await self._run("extend", event_id, [token, user_id, now_ms, ttl_ms, lifetime_ms])
        return self._hold(event_id, reply)

    async def release(self, event_id: int, token: str, user_id: int, now_ms: int,
                      outcome: HoldStatus = HoldStatus.RELEASED) -> list[int]:
        reply = await self._run("release", event_id,
                                [event_id, token, user_id, now_ms, outcome])
        return _ids(reply[1])

    async def confirm_begin(self, event_id: int, token: str, user_id: int, now_ms: int,
                            grace_ms: int) -> Hold:
        reply = await self._run("confirm_begin", event_id, [token, user_id, now_ms, grace_ms])
        return self._hold(event_id, reply)

    async def confirm_finish(self, event_id: int, token: str, seat_ids: list[int],
                             now_ms: int) -> None:
        await self._run("confirm_finish", event_id, [event_id, token, now_ms, *seat_ids])

    async def confirm_abort(self, event_id: int, token: str, now_ms: int) -> None:
        await self._run("confirm_abort", event_id, [token])

    async def free(self, event_id: int, seat_ids: list[int], now_ms: int) -> list[int]:
        reply = await self._run("free", event_id, [event_id, now_ms, *seat_ids])
        return _ids(reply[1])

    # -- the view ------------------------------------------------------------------------------

    async def load(self, source: ViewSource, now_ms: int) -> bool:
        """Build the view unless another process already did; True when this call built it."""
        args: list[Any] = [source.event_id, source.epoch, 1 if source.active else 0,
                           source.hold_ttl_ms, len(source.seats)]
        for seat in source.seats:
            args += [seat.id, seat.rank, seat.label]
        args += source.sold_ids
        reply = await self._run("load", source.event_id, args)
        await self._call(lambda: self.r.sadd(live_bucket(source.event_id), source.event_id))
        return _s(reply[0]) == "OK"

    async def offer(self, event_id: int, user_id: int, token: str, now_ms: int, ttl_ms: int,
                    qty: int, entry_id: int, max_held: int) -> Hold:
        """A hold of ``qty`` seats for a waitlist entry's user (pool first, then the best
        available), counted toward ``max_held`` in the same script.
        Raises: NotEnoughSeats, HoldLimit, EventInactive, ViewMissing."""
        reply = await self._run("offer", event_id, [event_id, user_id, token, now_ms, ttl_ms,
                                                    qty, entry_id, max_held])
        return self._hold(event_id, reply)

    async def set_waiting(self, event_id: int, waiting: int, now_ms: int,
                          reserve_ms: int) -> int:
        """Record the number of waiting entries and how long a freed seat is kept for them
        (``reserve_ms``); with none waiting, pooled seats go public. Returns how many did."""
        try:
            reply = await self._run("waiting", event_id, [event_id, now_ms, waiting, reserve_ms])
        except ViewMissing:
            return 0
        return int(_s(reply[1]))

    async def free_count(self, event_id: int) -> int:
        """Seats a waitlist offer could take now: pooled + available."""
        pooled, avail, exists = await self._read(
            ("scard", (event_key(event_id, "pool"),), {}),
            ("zcard", (event_key(event_id, "avail"),), {}),
            ("exists", (event_meta(event_id),), {}))
        if not exists:
            raise ViewMissing(event_id)
        return int(pooled) + int(avail)

    async def add_seats(self, event_id: int, seats: list[Seat], now_ms: int) -> int:
        """New seats join the view as available (one delta); returns how many were new.
        A missing view needs nothing: it is built with every seat when next used."""
        args: list[Any] = [event_id, now_ms]
        for seat in seats:
            args += [seat.id, seat.rank, seat.label]
        try:
            reply = await self._run("add_seats", event_id, args)
        except ViewMissing:
            return 0
        return int(_s(reply[1]))

    async def reconcile(self, event_id: int, sold_ids: list[int], now_ms: int) -> int:
        reply = await self._run("reconcile", event_id, [event_id, now_ms, *sold_ids])
        return int(_s(reply[1]))

    async def rebase(self, event_id: int, epoch: int) -> bool:
        """``rebase.lua``: the loaded view continues under ``epoch`` (a fresh one from
        PostgreSQL), its history dropped and an ``epoch`` message published, so every client
        takes a snapshot. Used after a Redis failover. False when no view is loaded."""
        try:
            await self._run("rebase", event_id, [event_id, epoch])
        except ViewMissing:
            return False
        return True

    async def sweep(self, event_id: int, now_ms: int) -> list[SweptHold]:
        reply = await self._run("sweep", event_id, [event_id, now_ms, SWEEP_BATCH])
        out = []
        for i in range(1, len(reply), 5):
            tok, user, freed, repair, entry = (_s(x) for x in reply[i:i + 5])
            out.append(SweptHold(hold_id=f"{event_id}.{tok}", event_id=event_id,
                                 user_id=int(user), seat_ids=_ids(freed),
                                 needs_repair=repair == "1", needs_settle=repair == "2",
                                 entry_id=int(entry or 0)))
        return out

    async def live_events(self) -> list[int]:
        """Every event with a view: the union of the live buckets (one pipeline; on a cluster
        it is split per node) and the unsharded set older processes wrote."""
        async def read() -> list[Any]:
            async with self.r.pipeline(transaction=False) as pipe:
                for key in (*live_buckets(), LIVE_EVENTS):
                    pipe.smembers(key)
                return list(await execute(pipe))

        sets = await self._call(read)
        return sorted({int(_s(m)) for members in sets for m in members})

    async def snapshot(self, event_id: int) -> Snapshot:
        (epoch, seq), view = await self._read(
            ("hmget", (event_meta(event_id), "epoch", "seq"), {}),
            ("hgetall", (event_key(event_id, "view"),), {}))
        if epoch is None:
            raise ViewMissing(event_id)
        available, held, sold = [], [], []
        held_by: dict[int, str] = {}
        for k, v in view.items():
            seat, state = int(k), _s(v)
            if state == "a":
                available.append(seat)
            elif state == "s":
                sold.append(seat)
            else:
                held.append(seat)
                if state.startswith("h:"):
                    held_by[seat] = f"{event_id}.{state[2:]}"
        return Snapshot(event_id, int(epoch), int(seq), sorted(available), sorted(held),
                        sorted(sold), held_by)

    async def history(self, event_id: int, epoch: int,
                      after_seq: int) -> tuple[int, int, list[str]] | None:
        """``(epoch, seq, deltas)``: the encoded deltas after ``after_seq`` in order, up to
        the current ``seq``; None when history no longer covers them (another epoch, trimmed,
        or ``after_seq`` from the future)."""
        (cur_epoch, cur_seq), first, entries = await self._read(
            ("hmget", (event_meta(event_id), "epoch", "seq"), {}),
            ("xrange", (event_key(event_id, "hist"), "-", "+"), {"count": 1}),
            ("xrange", (event_key(event_id, "hist"), f"{after_seq + 1}-0", "+"), {}))
        if cur_epoch is None:
            raise ViewMissing(event_id)
        if int(cur_epoch) != epoch or after_seq > int(cur_seq) or after_seq < 0:
            return None
        if after_seq == int(cur_seq):
            return epoch, after_seq, []
        first_seq = int(_s(first[0][0]).split("-")[0]) if first else int(cur_seq) + 1
        if first_seq > after_seq + 1:
            return None
        texts = [_s(fields.get(b"d", fields.get("d"))) for _, fields in entries]
        return epoch, int(cur_seq), texts

    async def counts(self, event_id: int) -> EventCounts | None:
        (held, sold), avail = await self._read(
            ("hmget", (event_meta(event_id), "held", "sold"), {}),
            ("zcard", (event_key(event_id, "avail"),), {}))
        if held is None:
            return None
        return EventCounts(available=int(avail), held=int(held), sold=int(sold))

    async def set_active(self, event_id: int, active: bool, now_ms: int) -> None:
        async def write() -> None:
            if await self.r.exists(event_meta(event_id)):
                await self.r.hset(event_meta(event_id), "active", 1 if active else 0)

        await self._call(write)

    async def drop(self, event_id: int) -> None:
        """Forget an event's view (deleted event); it is rebuilt if the event is used again."""
        async def write() -> None:
            await self.r.delete(*(event_key(event_id, n) for n in EVENT_VIEW_PARTS))
            await self.r.srem(live_bucket(event_id), event_id)
            await self.r.srem(LIVE_EVENTS, event_id)

        await self._call(write)

    async def set_hold_ttl(self, event_id: int, ttl_ms: int) -> None:
        """New holds of a loaded view last ``ttl_ms``; an absent view is built with the
        event's TTL from PostgreSQL anyway. Atomic. Raises: Unavailable."""
        try:
            await self._set_ttl(keys=[event_meta(event_id)], args=[ttl_ms])
        except RedisError as exc:
            raise Unavailable("Redis failed.") from exc

    async def exists(self, event_id: int) -> bool:
        return bool(await self._call(lambda: self.r.exists(event_meta(event_id))))

    async def minute_stats(self, event_id: int, minute: int) -> dict[str, int]:
        raw = await self._call(lambda: self.r.hgetall(event_minute(event_id, minute)))
        return {_s(k): int(v) for k, v in raw.items()}


