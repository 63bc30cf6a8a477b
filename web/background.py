"""What runs in the background of a hub process, and how it stops.

Four loops, started by :meth:`Background.start` once the services are built:

* **sweeper** — every ``SWEEP_INTERVAL_SECONDS`` (0.2 s) expires the holds whose lease ran
  out (DESIGN invariant 6), and every fifth pass rebuilds the seat view of any event with
  local subscribers whose view is gone (a wiped Redis: new epoch, subscribers resync).
* **analytics** — every 0.9 s publishes this process's subscriber and session counts and
  pushes one ``analytics`` message to the admin sessions that asked (at least once a second).
* **mailer** — only with ``SMTP_*`` set: sends the e-mail outbox every second.
* **purger** — a minute after start, then hourly: deletes the rows of tables that only grow,
  idempotency keys past their 24 h retention and refresh tokens past their expiry
  (:func:`purge_once`). Every process runs it; the deletes are idempotent, so processes
  purging at once only repeat each other's work.

A failed pass is logged and retried on the next tick; nothing here ever ends the process.
:meth:`Background.stop` cancels the loops (again every :data:`RECANCEL_SECONDS` while one
still runs, as a cancel can be swallowed inside redis-py) and then closes the resources it was
handed, each step bounded by :data:`STOP_STEP_SECONDS`, so Ctrl-C always ends ``evently serve``
and a normal stop logs nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.errors import NotFound
from hub.holds import to_ms
from hub.services import Services
from web import metrics
from web.clock import utcnow

__all__ = ["PURGE_FIRST_DELAY_SECONDS", "PURGE_INTERVAL_SECONDS", "RECANCEL_SECONDS",
           "STOP_STEP_SECONDS", "Background", "Purged", "purge_once", "stop_task"]

log = logging.getLogger(__name__)

STOP_STEP_SECONDS = 3
#: While a loop has not ended after a cancel, it is cancelled again this often (seconds).
RECANCEL_SECONDS = 0.1
ANALYTICS_INTERVAL_SECONDS = 0.9
MAILER_INTERVAL_SECONDS = 1.0
PURGE_FIRST_DELAY_SECONDS = 60.0  # not in the way of start-up
PURGE_INTERVAL_SECONDS = 3600.0

#: One mailer pass: send what is due at ``now``; returns how many were sent (0: idle).
SendDue = Callable[[datetime], Awaitable[int]]
#: Whether the event's seat view is present in Redis.
ViewExists = Callable[[int], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class Purged:
    """Rows deleted by one purge pass."""

    idempotency_keys: int
    refresh_tokens: int


async def purge_once(services: Services, now: datetime) -> Purged:
    """Delete idempotency keys older than 24 h and refresh tokens expired before ``now``."""
    return Purged(await services.idempotency.purge(now),
                  await services.sessions.purge_expired(now))


class Background:
    """The background loops of one process and the resources closed after them.

    Args:
        services: the process's services.
        sweep_interval: seconds between sweeper passes.
        view_exists: whether an event's Redis view is present.
        send_due: the mailer pass, or None when e-mail is off.
        closers: ``(name, coroutine function)`` run in order by :meth:`stop` after the loops
            (pub/sub, Redis, PostgreSQL).
        purge_interval, purge_first_delay: seconds between purge passes, and before the first.
    """

    def __init__(self, services: Services, sweep_interval: float, view_exists: ViewExists,
                 send_due: SendDue | None,
                 closers: list[tuple[str, Callable[[], Awaitable[Any]]]], *,
                 purge_interval: float = PURGE_INTERVAL_SECONDS,
                 purge_first_delay: float = PURGE_FIRST_DELAY_SECONDS) -> None:
        self.services = services
        self.purge_interval = purge_interval
        self.purge_first_delay = purge_first_delay
        self.sweep_interval = sweep_interval
        self.view_exists = view_exists
        self.send_due = send_due
        self.closers = closers
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start the loops on the running event loop."""
        loops: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("evently-sweeper", self._sweeper), ("evently-analytics", self._analytics),
            ("evently-purge", self._purger)]
        if self.send_due is not None:
            loops.append(("evently-mailer", self._mailer))
        self.tasks = [asyncio.create_task(run(), name=name) for name, run in loops]

    async def stop(self) -> None:
        """Cancel the loops, then close every resource; each step bounded by
        :data:`STOP_STEP_SECONDS` (a WARNING names a step that overran it)."""
        for t in self.tasks:
            t.cancel()
        for t in self.tasks:
            await stop_task(t, STOP_STEP_SECONDS)
        for name, close in self.closers:
            try:
                await asyncio.wait_for(close(), STOP_STEP_SECONDS)
            except asyncio.CancelledError:
                pass
            except TimeoutError:
                log.warning("shutdown: %s did not stop within %s s", name, STOP_STEP_SECONDS)
            except Exception:
                log.exception("shutdown: %s failed", name)

    async def _every(self, seconds: float, what: str, step: Callable[[int], Awaitable[None]],
                     backoff: float = 0.0, wait_first: bool = True) -> None:
        """Run ``step(tick)`` every ``seconds`` (``tick`` counts from 1); a failure is logged,
        then ``backoff`` more seconds pass. ``wait_first=False`` runs the first step at once."""
        tick = 0
        while True:
            if wait_first or tick:
                await asyncio.sleep(seconds)
            tick += 1
            try:
                await step(tick)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; retrying", what)
                if backoff:
                    await asyncio.sleep(backoff)

    async def _sweeper(self) -> None:
        await self._every(self.sweep_interval, "sweep", self._sweep, backoff=1.0)

    async def _sweep(self, tick: int) -> None:
        bookings = self.services.bookings
        swept = await bookings.sweep(utcnow())
        metrics.holds_expired(len(swept))
        if tick % 5:
            return
        for event_id in list(self.services.live.broadcaster.by_event):
            if not await self.view_exists(event_id):
                try:
                    await bookings.ensure_view(event_id, utcnow())
                except NotFound:
                    pass  # a deleted event: its subscribers just stay idle

    async def _analytics(self) -> None:
        async def step(_: int) -> None:
            await self.services.live.tick(to_ms(utcnow()))

        await self._every(ANALYTICS_INTERVAL_SECONDS, "analytics tick", step)

    async def _mailer(self) -> None:
        send_due = self.send_due
        assert send_due is not None

        async def step(_: int) -> None:
            while await send_due(utcnow()):
                pass

        await self._every(MAILER_INTERVAL_SECONDS, "e-mail outbox pass", step, wait_first=False)

    async def _purger(self) -> None:
        async def step(_: int) -> None:
            purged = await purge_once(self.services, utcnow())
            if purged.idempotency_keys or purged.refresh_tokens:
                log.info("purged %d idempotency keys and %d refresh tokens",
                         purged.idempotency_keys, purged.refresh_tokens)

        await asyncio.sleep(self.purge_first_delay)
        await self._every(self.purge_interval, "purge pass", step, wait_first=False)


async def stop_task(task: asyncio.Task[Any], bound: float) -> bool:
    """Cancel ``task`` and wait up to ``bound`` seconds for it to end, cancelling it again
    every :data:`RECANCEL_SECONDS` while it still runs: a cancel can be swallowed inside a
    library call (redis-py's connection handling does so now and then), and the loop then
    simply goes on to its next sleep, where the next cancel lands.

    Returns: True when the task ended (cancelled, returned or failed: a failure is logged),
    False when it still ran at the bound (logged as a WARNING).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound
    while not task.done():
        task.cancel()
        left = deadline - loop.time()
        if left <= 0:
            log.warning("shutdown: task %s did not stop within %s s", task.get_name(), bound)
            return False
        await asyncio.wait({task}, timeout=min(RECANCEL_SECONDS, left))
    if not task.cancelled() and task.exception() is not None:
        log.error("shutdown: task %s failed", task.get_name(), exc_info=task.exception())
    return True
