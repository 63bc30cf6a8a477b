"""A user's notifications (CONTRACT §2 ``/me/notifications``): the stored copies of personal
pushes (waitlist offers, bookings, ...), newest first."""

from __future__ import annotations

from datetime import datetime

from hub.model import Actor, Notification
from hub.ports.runtime import Notifications

__all__ = ["NotificationService"]


class NotificationService:
    """Lists and marks the actor's own notifications."""

    def __init__(self, store: Notifications) -> None:
        self.store = store

    async def mine(self, actor: Actor, unread_only: bool) -> list[Notification]:
        """The actor's notifications, newest first (the 100 latest)."""
        return await self.store.list(actor.id, unread_only)

    async def mark_read(self, actor: Actor, notification_id: int, now: datetime) -> None:
        """Raises: NotFound, Forbidden."""
        await self.store.mark_read(actor.id, notification_id, now)
