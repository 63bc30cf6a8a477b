"""Personal pushes on the wire: :class:`hub.ports.Notifier` rendering each push as its
CONTRACT §3 message and publishing it on the user's channel, which every hub process with a
session of that user listens to."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from web import render

__all__ = ["PushNotifier"]

log = logging.getLogger(__name__)

_RENDER: dict[str, Callable[[Any], dict[str, Any]]] = {
    "booking.confirmed": lambda r: {"booking": render.booking(r)},
    "booking.cancelled": lambda r: {"booking": render.booking(r)},
    "hold.expired": render.hold_expired,
    "waitlist.offered": lambda r: {"entry_id": r.entry_id, "event_id": r.event_id,
                                   "hold": render.hold(r.hold)},
    "waitlist.promoted": lambda r: {"entry_id": r.entry_id, "booking": render.booking(r.booking)},
    "notification": lambda r: {"notification": render.notification(r)},
}

#: ``(user_id, message)``: publish one JSON message to every session of the user.
Publish = Callable[[int, dict[str, Any]], Awaitable[None]]


class PushNotifier:
    """:class:`hub.ports.Notifier`. A lost push is logged, never raised: it must not undo a
    committed booking (the client's next snapshot or ``GET`` shows the truth)."""

    def __init__(self, publish: Publish) -> None:
        self.publish = publish

    async def notify(self, user_id: int, kind: str, record: object) -> None:
        """Render ``record`` as a ``kind`` push (``booking.confirmed``, ``hold.expired``, ...)
        and publish it to the user's sessions."""
        body = {"type": kind, **_RENDER[kind](record)}
        try:
            await self.publish(user_id, body)
        except Exception:
            log.exception("could not push %s to user %d", kind, user_id)
