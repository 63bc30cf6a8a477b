"""This process's live sessions: the fan-out :class:`hub.fanout.Broadcaster`, how many
``/ws`` sessions are open, and the admin ``analytics`` stream (CONTRACT §3
``analytics.subscribe``: a message at least once a second to each admin session that asked).

Organizers may watch too: their messages list only the events they organize (read from
PostgreSQL once per tick for each organizer watching on this process), and ``connections``
counts the subscribers of those events instead of every open session.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from hub.fanout import Broadcaster, Outbox
from hub.ports.runtime import LiveStats

__all__ = ["LiveFeed"]


class LiveFeed:
    """Sessions of this process and the admins' analytics stream."""

    def __init__(self, broadcaster: Broadcaster, stats: LiveStats,
                 organized: Callable[[int], Awaitable[set[int]]] | None = None) -> None:
        """``organized(user_id)``: ids of the events that user organizes (for organizers'
        scoped streams; None: organizers see no events)."""
        self.broadcaster = broadcaster
        self.stats = stats
        self.organized = organized
        self.connections = 0
        #: outbox -> None (an admin: every event) or the organizer's user id
        self.analytics_outboxes: dict[Outbox, int | None] = {}

    def session_opened(self) -> None:
        """A ``/ws`` session was accepted."""
        self.connections += 1

    def session_closed(self, outbox: Outbox) -> None:
        """A ``/ws`` session ended (once per opened session); it leaves the stream."""
        self.connections -= 1
        self.analytics_outboxes.pop(outbox, None)

    def watch_analytics(self, outbox: Outbox, organizer_id: int | None = None) -> None:
        """Send ``analytics`` messages to this session's outbox from now on: every event
        (an admin, ``organizer_id`` None) or only that organizer's events."""
        self.analytics_outboxes[outbox] = organizer_id

    async def tick(self, now_ms: int) -> None:
        """Publish this process's counts, then push one ``analytics`` message to every local
        admin session that asked (``now_ms``: epoch ms)."""
        subs = {e: len(s) for e, s in self.broadcaster.by_event.items()}
        await self.stats.publish_local(subs, self.connections)
        if not self.analytics_outboxes:
            return
        message = await self.stats.snapshot(now_ms)
        text = orjson.dumps(message).decode()
        scoped: dict[int, str] = {}
        for box, organizer in list(self.analytics_outboxes.items()):
            if organizer is None:
                box.put(text)
                continue
            if organizer not in scoped:
                scoped[organizer] = orjson.dumps(await self._scoped(message, organizer)).decode()
            box.put(scoped[organizer])

    async def _scoped(self, message: dict[str, Any], organizer_id: int) -> dict[str, Any]:
        own = await self.organized(organizer_id) if self.organized is not None else set()
        events = [e for e in message["events"] if e["id"] in own]
        return {**message, "events": events,
                "connections": sum(int(e.get("subscribers", 0)) for e in events)}
