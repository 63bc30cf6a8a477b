"""Account administration in PostgreSQL (:class:`hub.accounts.UserDirectory`) and the
"session revoked" push (:class:`hub.accounts.SessionEnder`)."""

from __future__ import annotations

from datetime import datetime

import redis.asyncio as aioredis
from sqlalchemy import func, or_, select

from hub.errors import NotFound
from hub.model import Role, User
from storage.db import Database
from storage.keys import user_channel
from storage.models import UserRow
from storage.pubsub import publish
from storage.store import PgStore, user_from_row

__all__ = ["PgUsers", "RedisSessionEnder", "like_pattern"]


def like_pattern(q: str) -> str:
    """``%q%`` for ILIKE with ``%``, ``_`` and ``\\`` taken literally."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class PgUsers:
    """:class:`hub.accounts.UserDirectory` on PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get_user(self, user_id: int) -> User:
        """Raises: NotFound."""
        return await PgStore(self.db).get_user(user_id)

    async def list_users(self, offset: int, limit: int, q: str | None,
                         role: Role | None) -> tuple[list[User], int]:
        """Accounts by id (oldest first) and the number matching."""
        conds = []
        if q:
            pattern = like_pattern(q)
            conds.append(or_(UserRow.name.ilike(pattern, escape="\\"),
                             UserRow.email.ilike(pattern, escape="\\")))
        if role is not None:
            conds.append(UserRow.role == role.value)
        async with self.db.transaction() as s:
            total = await s.scalar(select(func.count()).select_from(UserRow).where(*conds))
            rows = (await s.scalars(select(UserRow).where(*conds).order_by(UserRow.id)
                                    .offset(offset).limit(limit))).all()
            return [user_from_row(r) for r in rows], int(total or 0)

    async def set_role(self, user_id: int, role: Role) -> User:
        """Raises: NotFound."""
        async with self.db.transaction() as s:
            row = await s.get(UserRow, user_id, with_for_update=True)
            if row is None:
                raise NotFound("No such user.")
            row.role = role.value
            await s.flush()
            return user_from_row(row)

    async def ban(self, user_id: int, now: datetime) -> User:
        """Set ``banned_at`` (kept when already banned). Raises: NotFound."""
        async with self.db.transaction() as s:
            row = await s.get(UserRow, user_id, with_for_update=True)
            if row is None:
                raise NotFound("No such user.")
            if row.banned_at is None:
                row.banned_at = now
            await s.flush()
            return user_from_row(row)


class RedisSessionEnder:
    """Publishes ``{"type": "session.revoked"}`` on the user's personal channel; every hub
    process with a session of that user closes it with 4401 (CONTRACT §3)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client

    async def end_sessions(self, user_id: int) -> None:
        """Raises: Unavailable."""
        await publish(self.client, user_channel(user_id), {"type": "session.revoked"})
