"""The audit trail of admin and organizer actions (CONTRACT §2 ``GET /admin/audit``).

Services that carry out such an action (:mod:`hub.event_admin`, :mod:`hub.accounts`,
:mod:`hub.organizers`) call :meth:`AuditService.record` right after it succeeded. Actions:
``event.create``, ``event.update``, ``event.deactivate``, ``event.delete``,
``event.seats_generate``, ``user.create``, ``user.role``, ``user.ban``,
``organizer_request.approve``, ``organizer_request.refuse``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.model import Actor
from hub.policy import require_admin
from hub.ports import AuditEntry, AuditLog

__all__ = ["AuditService"]


class AuditService:
    """Writes and reads the append-only trail (:class:`hub.ports.AuditLog`)."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log

    async def record(self, actor: Actor, action: str, now: datetime | None, *,
                     event_id: int | None = None, target_user_id: int | None = None,
                     **details: Any) -> None:
        """Append ``action`` by ``actor``; ``details`` must be JSON-able. ``now`` None takes
        the database's clock. Raises: Unavailable."""
        await self.log.record(actor.id, str(actor.role), action, event_id, target_user_id,
                              details, now)

    async def search(self, actor: Actor, actor_id: int | None, event_id: int | None,
                     offset: int, limit: int) -> tuple[list[AuditEntry], int]:
        """A page of entries, newest first, and the total matching. Raises: Forbidden (not
        an admin)."""
        require_admin(actor)
        return await self.log.search(actor_id, event_id, offset, limit)
