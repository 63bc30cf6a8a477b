"""The audit trail in PostgreSQL: :class:`hub.ports.AuditLog` (append-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from hub.ports import AuditEntry
from storage.db import Database
from storage.models import AuditRow

__all__ = ["PgAuditLog"]


class PgAuditLog:
    """:class:`hub.ports.AuditLog` on a real PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, actor_id: int, actor_role: str, action: str, event_id: int | None,
                     target_user_id: int | None, details: dict[str, Any],
                     now: datetime | None) -> None:
        """Append one entry (``now`` None: the database's clock)."""
        async with self.db.transaction() as s:
            row = AuditRow(actor_id=actor_id, actor_role=actor_role, action=action,
                           event_id=event_id, target_user_id=target_user_id, details=details)
            if now is not None:
                row.at = now
            s.add(row)

    async def search(self, actor_id: int | None, event_id: int | None, offset: int,
                     limit: int) -> tuple[list[AuditEntry], int]:
        """Entries newest first, filtered by actor and/or event."""
        conds = []
        if actor_id is not None:
            conds.append(AuditRow.actor_id == actor_id)
        if event_id is not None:
            conds.append(AuditRow.event_id == event_id)
        async with self.db.transaction() as s:
            total = await s.scalar(select(func.count()).select_from(AuditRow).where(*conds))
            rows = (await s.scalars(select(AuditRow).where(*conds).order_by(AuditRow.id.desc())
                                    .offset(offset).limit(limit))).all()
            return [AuditEntry(id=r.id, at=r.at, actor_id=r.actor_id, actor_role=r.actor_role,
                               action=r.action, event_id=r.event_id,
                               target_user_id=r.target_user_id, details=dict(r.details or {}))
                    for r in rows], int(total or 0)
