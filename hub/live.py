"""This process's live sessions: the fan-out :class:`hub.fanout.Broadcaster`, how many
``/ws`` sessions are open, and the admin ``analytics`` stream (CONTRACT §3
``analytics.subscribe``: a message at least once a second to each admin session that asked).
"""

from __future__ import annotations

import orjson

from hub.fanout import Broadcaster, Outbox
from hub.ports.runtime import LiveStats

__all__ = ["LiveFeed"]


class LiveFeed:
    """Sessions of this process and the admins' analytics stream."""

    def __init__(self, broadcaster: Broadcaster, stats: LiveStats) -> None:
        self.broadcaster = broadcaster
        self.stats = stats
        self.connections = 0
        self.analytics_outboxes: set[Outbox] = set()

    def session_opened(self) -> None:
        """A ``/ws`` session was accepted."""
        self.connections += 1

    def session_closed(self, outbox: Outbox) -> None:
        """A ``/ws`` session ended (once per opened session); it leaves the stream."""
        self.connections -= 1
        self.analytics_outboxes.discard(outbox)

    def watch_analytics(self, outbox: Outbox) -> None:
        """Send ``analytics`` messages to this session's outbox from now on."""
        self.analytics_outboxes.add(outbox)

    async def tick(self, now_ms: int) -> None:
        """Publish this process's counts, then push one ``analytics`` message to every local
        admin session that asked (``now_ms``: epoch ms)."""
        subs = {e: len(s) for e, s in self.broadcaster.by_event.items()}
        await self.stats.publish_local(subs, self.connections)
        if self.analytics_outboxes:
            text = orjson.dumps(await self.stats.snapshot(now_ms)).decode()
            for box in list(self.analytics_outboxes):
                box.put(text)
