"""Notifications and the e-mail outbox, written in the same transaction as the change they
announce (so a committed booking can never lose its notice or its e-mail)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import Forbidden, NotFound
from hub.model import Notification
from storage.db import Database
from storage.models import NotificationRow, OutboxRow, UserRow

__all__ = ["NotificationStore", "add_notification"]

SUBJECTS = {
    "booking.confirmed": "Your booking is confirmed",
    "booking.cancelled": "Your booking was cancelled",
    "booking.changed": "Your booking was changed",
    "waitlist.offered": "Seats are waiting for you",
    "waitlist.expired": "Your waitlist offer has expired",
    "waitlist.promoted": "You got seats from the waitlist",
}


def _from_row(row: NotificationRow) -> Notification:
    return Notification(id=row.id, user_id=row.user_id, kind=row.kind, payload=row.payload,
                        created_at=row.created_at, read_at=row.read_at)


def _body(kind: str, payload: dict[str, Any]) -> str:
    seats = ", ".join(payload.get("seats") or [str(s) for s in payload.get("seat_ids", [])])
    lines = [SUBJECTS.get(kind, kind) + ".", ""]
    if payload.get("event_name"):
        lines.append(f"Event: {payload['event_name']}")
    if seats:
        lines.append(f"Seats: {seats}")
    if payload.get("expires_at"):
        lines.append(f"Offer open until: {payload['expires_at']}")
    if payload.get("booking_id"):
        lines.append(f"Booking: #{payload['booking_id']}")
    return "\n".join(lines) + "\n"


async def add_notification(s: AsyncSession, user_id: int, kind: str, payload: dict[str, Any],
                           now: datetime, *, email: bool) -> Notification:
    """Insert a notification (and, with ``email``, its outbox row) in the caller's transaction.

    ``payload`` must be JSON-able (datetimes as strings).
    """
    row = NotificationRow(user_id=user_id, kind=kind, payload=payload, created_at=now)
    s.add(row)
    await s.flush()
    if email:
        to = await s.scalar(select(UserRow.email).where(UserRow.id == user_id))
        if to:
            s.add(OutboxRow(notification_id=row.id, to_address=to,
                            subject=SUBJECTS.get(kind, "Evently"), body=_body(kind, payload),
                            next_attempt_at=now, created_at=now))
    return _from_row(row)


class NotificationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def list(self, user_id: int, unread_only: bool = False,
                   limit: int = 100) -> list[Notification]:
        """The user's notifications, newest first."""
        async with self.db.transaction() as s:
            q = select(NotificationRow).where(NotificationRow.user_id == user_id)
            if unread_only:
                q = q.where(NotificationRow.read_at.is_(None))
            rows = (await s.scalars(q.order_by(NotificationRow.id.desc()).limit(limit))).all()
            return [_from_row(r) for r in rows]

    async def mark_read(self, user_id: int, notification_id: int, now: datetime) -> None:
        """Raises: NotFound, Forbidden (another user's)."""
        async with self.db.transaction() as s:
            owner = await s.scalar(select(NotificationRow.user_id)
                                   .where(NotificationRow.id == notification_id))
            if owner is None:
                raise NotFound("No such notification.")
            if owner != user_id:
                raise Forbidden("That notification belongs to another user.")
            await s.execute(update(NotificationRow)
                            .where(NotificationRow.id == notification_id,
                                   NotificationRow.read_at.is_(None))
                            .values(read_at=now))
