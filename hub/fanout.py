"""Local fan-out: one process's sessions, their bounded outboxes, and the event/user channels
they need (DESIGN.md "Fan-out").

A hub process keeps one Redis subscription per event that has local subscribers and one per
user with local sessions. The channel driver (:class:`hub.ports.ChannelDriver`, implemented in
``storage.pubsub``) is asked for them by event id and user id, since channel names are storage's
business. It hands every message to :meth:`Broadcaster.dispatch_event` or
:meth:`Broadcaster.dispatch_user`, which decode it once and append the same encoded text to every
interested session's :class:`Outbox`. An outbox is bounded: when a session falls too far behind
it is marked overflowed and the web layer closes it with 1013, so one slow client never delays
the others.

A ``session.revoked`` push on a user's channel that names a ``family`` reaches only the
sessions authenticated with a token of that login family (DESIGN invariant 9); without one it
reaches every session of the user. After the pub/sub connection was lost (a revocation's push
may have been missed), every user session's ``recheck`` hook runs: it reads the denylist again.

A subscription starts *pending*: deltas are buffered while the snapshot (or history) is read,
then released in order, skipping those already covered by the snapshot's ``seq``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from hub.ports import ChannelDriver

__all__ = ["REVOKED", "Broadcaster", "Outbox", "Subscription"]

REVOKED = "session.revoked"  #: the ``type`` of the push that ends sessions (closed with 4401)


class Outbox:
    """A session's bounded queue of encoded JSON messages (text), drained by one writer task.

    ``limit`` counts messages. :meth:`put` returns False, and sets :attr:`overflowed`, when the
    session is too slow to keep up.
    """

    def __init__(self, limit: int = 1024) -> None:
        self.limit = limit
        self._items: deque[str] = deque()
        self._ready = asyncio.Event()
        self.overflowed = False
        self.closed = False

    def put(self, text: str) -> bool:
        if self.closed:
            return False
        if len(self._items) >= self.limit:
            self.overflowed = True
            self._ready.set()
            return False
        self._items.append(text)
        self._ready.set()
        return True

    async def take(self) -> list[str]:
        """Wait for messages and return all queued ones (oldest first); ``[]`` once closed."""
        while not self._items and not self.closed and not self.overflowed:
            self._ready.clear()
            await self._ready.wait()
        items = list(self._items)
        self._items.clear()
        return items

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    def __len__(self) -> int:
        return len(self._items)


ResyncHook = Callable[["Subscription"], Awaitable[None] | None]
RecheckHook = Callable[[], Awaitable[None]]


@dataclass(eq=False, slots=True)
class Subscription:
    """One session's interest in one event.

    While ``pending``, deltas go to ``buffer``; once active, a delta is forwarded when its
    ``seq`` is above ``seq`` (the snapshot's or the last forwarded) within the same ``epoch``.
    A delta of another epoch, or an ``epoch`` notice, calls the session's resync hook instead.
    """

    event_id: int
    outbox: Outbox
    on_resync: ResyncHook
    epoch: int = 0
    seq: int = 0
    pending: bool = True
    buffer: list[tuple[int, int, str]] = field(default_factory=list)

    def activate(self, epoch: int, seq: int) -> list[str]:
        """Leave pending at ``(epoch, seq)``; return the buffered deltas past it, in order."""
        self.epoch, self.seq, self.pending = epoch, seq, False
        out = []
        for d_epoch, d_seq, text in sorted(self.buffer, key=lambda b: (b[0], b[1])):
            if d_epoch == epoch and d_seq > self.seq:
                out.append(text)
                self.seq = d_seq
        self.buffer.clear()
        return out


class Broadcaster:
    """This process's registry of sessions by event and by user, and the message router."""

    def __init__(self, driver: ChannelDriver) -> None:
        self.driver = driver
        self.by_event: dict[int, set[Subscription]] = {}
        self.by_user: dict[int, set[Outbox]] = {}
        self.family_of: dict[Outbox, str | None] = {}
        self.rechecks: dict[Outbox, RecheckHook] = {}
        self._lock = asyncio.Lock()
        self.delivered = 0
        self.dropped_sessions = 0
        self.on_delta: Callable[[dict[str, Any]], None] | None = None
        self._background: set[asyncio.Future[Any]] = set()

    # -- registry --------------------------------------------------------------------------

    async def add_subscription(self, sub: Subscription) -> None:
        """Register ``sub`` (pending) and make sure this process listens to its event."""
        async with self._lock:
            subs = self.by_event.setdefault(sub.event_id, set())
            first = not subs
            subs.add(sub)
            if first:
                await self.driver.subscribe_event(sub.event_id)

    async def remove_subscription(self, sub: Subscription) -> None:
        async with self._lock:
            subs = self.by_event.get(sub.event_id)
            if subs is None or sub not in subs:
                return
            subs.discard(sub)
            if not subs:
                del self.by_event[sub.event_id]
                await self.driver.unsubscribe_event(sub.event_id)

    async def add_user(self, user_id: int, outbox: Outbox, family: str | None = None,
                       recheck: RecheckHook | None = None) -> None:
        """Route the user's personal pushes to ``outbox`` (again: the session's token, and so
        its login ``family``, may have changed); ``recheck`` runs after a pub/sub gap.
        Raises: Unavailable."""
        async with self._lock:
            self.family_of[outbox] = family
            if recheck is not None:
                self.rechecks[outbox] = recheck
            boxes = self.by_user.setdefault(user_id, set())
            first = not boxes
            boxes.add(outbox)
            if first:
                await self.driver.subscribe_user(user_id)

    async def remove_user(self, user_id: int, outbox: Outbox) -> None:
        async with self._lock:
            boxes = self.by_user.get(user_id)
            if boxes is None or outbox not in boxes:
                return
            boxes.discard(outbox)
            self.family_of.pop(outbox, None)
            self.rechecks.pop(outbox, None)
            if not boxes:
                del self.by_user[user_id]
                await self.driver.unsubscribe_user(user_id)

    def subscriber_count(self, event_id: int) -> int:
        return len(self.by_event.get(event_id, ()))

    def session_count(self) -> int:
        return len({id(b) for boxes in self.by_user.values() for b in boxes} |
                   {id(s.outbox) for subs in self.by_event.values() for s in subs})

    # -- routing ---------------------------------------------------------------------------

    def dispatch_user(self, user_id: int, data: bytes | str) -> None:
        """Route one personal push (JSON text) to every local session of ``user_id``; a
        ``session.revoked`` naming a ``family`` only to the sessions of that family."""
        text = data.decode() if isinstance(data, bytes) else data
        boxes = list(self.by_user.get(user_id, ()))
        if REVOKED in text:
            msg = orjson.loads(text)
            family = msg.get("family") if msg.get("type") == REVOKED else None
            if family:
                boxes = [b for b in boxes if self.family_of.get(b) == family]
        for box in boxes:
            self._put(box, text)

    def dispatch_event(self, data: bytes | str) -> None:
        """Route one message of an event's channel: decoded once, the same text sent to every
        subscribed session in ``seq`` order.

        ``data`` is a ``delta`` (``{type, event_id, epoch, seq, ts, changes}``) or an ``epoch``
        notice (``{type: "epoch", event_id, epoch}``: the view was rebuilt, resynchronise).
        """
        text = data.decode() if isinstance(data, bytes) else data
        msg = orjson.loads(text)
        event_id = int(msg["event_id"])
        subs = self.by_event.get(event_id)
        if not subs:
            return
        if msg.get("type") == "epoch":
            for sub in list(subs):
                self._resync(sub)
            return
        epoch, seq = int(msg["epoch"]), int(msg["seq"])
        if self.on_delta is not None:
            self.on_delta(msg)
        for sub in list(subs):
            if sub.pending:
                sub.buffer.append((epoch, seq, text))
            elif epoch != sub.epoch or seq > sub.seq + 1:
                self._resync(sub)
            elif seq == sub.seq + 1:
                sub.seq = seq
                self._put(sub.outbox, text)

    def resync_all(self) -> None:
        """After pub/sub was interrupted: every local subscription takes a fresh snapshot and
        every user session checks its token again (a revocation may have been missed)."""
        for subs in list(self.by_event.values()):
            for sub in list(subs):
                self._resync(sub)
        for recheck in list(self.rechecks.values()):
            self._spawn(recheck())

    def _put(self, box: Outbox, text: str) -> None:
        if box.put(text):
            self.delivered += 1
        elif box.overflowed:
            self.dropped_sessions += 1

    def _resync(self, sub: Subscription) -> None:
        sub.pending = True
        sub.buffer.clear()
        result = sub.on_resync(sub)
        if result is not None:
            self._spawn(result)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
