"""What runs in the background of a hub process, and how it stops.

Three loops, started by :meth:`Background.start` once the services are built:

* **sweeper** — every ``SWEEP_INTERVAL_SECONDS`` (0.2 s) expires the holds whose lease ran
  out (DESIGN invariant 6), and every fifth pass rebuilds the seat view of any event with
  local subscribers whose view is gone (a wiped Redis: new epoch, subscribers resync).
* **analytics** — every 0.9 s publishes this process's subscriber and session counts and
  pushes one ``analytics`` message to the admin sessions that asked (at least once a second).
* **mailer** — only with ``SMTP_*`` set: sends the e-mail outbox every second.

A failed pass is logged and retried on the next tick; nothing here ever ends the process.
:meth:`Background.stop` cancels the loops and then closes the resources it was handed, each
step bounded by :data:`STOP_STEP_SECONDS`, so Ctrl-C always ends ``evently serve``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from hub.errors import NotFound
from hub.holds import to_ms
from hub.services import Services
from web import metrics
from web.clock import utcnow

__all__ = ["STOP_STEP_SECONDS", "Background"]

log = logging.getLogger(__name__)

STOP_STEP_SECONDS = 3
ANALYTICS_INTERVAL_SECONDS = 0.9
MAILER_INTERVAL_SECONDS = 1.0

#: One mailer pass: send what is due at ``now``; returns how many were sent (0: idle).
SendDue = Callable[[datetime], Awaitable[int]]
#: Whether the event's seat view is present in Redis.
ViewExists = Callable[[int], Awaitable[bool]]


class Background:
    """The background loops of one process and the resources closed after them.

    Args:
        services: the process's services.
        sweep_interval: seconds between sweeper passes.
        view_exists: whether an event's Redis view is present.
        send_due: the mailer pass, or None when e-mail is off.
        closers: ``(name, coroutine function)`` run in order by :meth:`stop` after the loops
            (pub/sub, Redis, PostgreSQL).
    """

    def __init__(self, services: Services, sweep_interval: float, view_exists: ViewExists,
                 send_due: SendDue | None,
                 closers: list[tuple[str, Callable[[], Awaitable[Any]]]]) -> None:
        self.services = services
        self.sweep_interval = sweep_interval
        self.view_exists = view_exists
        self.send_due = send_due
        self.closers = closers
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start the loops on the running event loop."""
        loops: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("evently-sweeper", self._sweeper), ("evently-analytics", self._analytics)]
        if self.send_due is not None:
            loops.append(("evently-mailer", self._mailer))
        self.tasks = [asyncio.create_task(run(), name=name) for name, run in loops]

    async def stop(self) -> None:
        """Cancel the loops, then close every resource; each step bounded."""
        for t in self.tasks:
            t.cancel()
        steps: list[tuple[str, Awaitable[Any]]] = [
            *((f"task {t.get_name()}", t) for t in self.tasks),
            *((name, close()) for name, close in self.closers)]
        for name, step in steps:
            try:
                await asyncio.wait_for(step, STOP_STEP_SECONDS)
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
