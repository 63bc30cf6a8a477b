"""Ports of pushes: personal notifications to a user's sessions on every process, and the
pub/sub channel driver one process's :class:`hub.fanout.Broadcaster` listens through."""

from __future__ import annotations

from typing import Protocol

__all__ = ["ChannelDriver", "Notifier"]


class Notifier(Protocol):
    """Personal pushes to every session of a user, on every hub process."""

    async def notify(self, user_id: int, kind: str, record: object) -> None:
        """Push ``record`` (the domain record it is about: a Booking, Hold, Notification, …)
        as a message of ``kind`` (``booking.confirmed``, ``booking.cancelled``,
        ``hold.expired``, ``waitlist.offered``, ``waitlist.promoted``, ``notification``).
        The implementation renders the wire form; a lost push is logged, never raised."""
        ...


class ChannelDriver(Protocol):
    """Subscribes this hub process to the pub/sub channels of events and users (Redis;
    ``storage.keys`` names the channels, hub never does). Messages come back through the
    callbacks the driver was built with: :meth:`hub.fanout.Broadcaster.dispatch_event` and
    :meth:`~hub.fanout.Broadcaster.dispatch_user`.
    """

    async def subscribe_event(self, event_id: int) -> None:
        """Listen to the event's deltas; returns once the subscription is confirmed, so a
        snapshot read afterwards misses no delta. Raises: Unavailable."""
        ...

    async def unsubscribe_event(self, event_id: int) -> None:
        """Stop listening to the event (failures are logged, not raised)."""
        ...

    async def subscribe_user(self, user_id: int) -> None:
        """Listen to the user's personal pushes, confirmed as above. Raises: Unavailable."""
        ...

    async def unsubscribe_user(self, user_id: int) -> None:
        """Stop listening to the user (failures are logged, not raised)."""
        ...
