"""Accounts in PostgreSQL: :class:`hub.ports.UserStore`.

Emails are unique case-insensitively (a unique index on ``lower(email)``); an
``IntegrityError`` on it becomes ``AlreadyExists`` here (STYLE.md §5).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from hub.errors import AlreadyExists, NotFound
from hub.model import Role, User
from storage.db import Database
from storage.models import UserRow
from storage.rows import like_pattern, user_from_row

__all__ = ["PgUsers"]


class PgUsers:
    """:class:`hub.ports.UserStore` on a real PostgreSQL; one transaction per method."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_user(self, name: str, email: str, password_hash: str, role: str,
                       now: datetime) -> User:
        """Raises: AlreadyExists (the email, case-insensitive, is taken)."""
        try:
            async with self.db.transaction() as s:
                row = UserRow(name=name, email=email, password_hash=password_hash, role=role,
                              created_at=now)
                s.add(row)
                await s.flush()
                return user_from_row(row)
        except IntegrityError as exc:
            raise AlreadyExists("An account with this email exists.") from exc

    async def upsert_user(self, name: str, email: str, password_hash: str, role: str,
                          now: datetime) -> User:
        """Create the account, or update password, role and name of the existing one."""
        async with self.db.transaction() as s:
            row = await s.scalar(select(UserRow).where(func.lower(UserRow.email) ==
                                                       email.lower()).with_for_update())
            if row is None:
                row = UserRow(name=name, email=email, password_hash=password_hash, role=role,
                              created_at=now)
                s.add(row)
            else:
                row.password_hash, row.role, row.banned_at = password_hash, role, None
                if name:
                    row.name = name
            await s.flush()
            return user_from_row(row)

    async def user_by_email(self, email: str) -> tuple[User, str] | None:
        """The account and its password hash, or None."""
        async with self.db.transaction() as s:
            row = await s.scalar(select(UserRow).where(func.lower(UserRow.email) ==
                                                       email.lower()))
            return None if row is None else (user_from_row(row), row.password_hash)

    async def get_user(self, user_id: int) -> User:
        """Raises: NotFound."""
        async with self.db.transaction() as s:
            row = await s.get(UserRow, user_id)
            if row is None:
                raise NotFound("No such user.")
            return user_from_row(row)

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

    async def set_name(self, user_id: int, name: str) -> User:
        """Raises: NotFound."""
        async with self.db.transaction() as s:
            row = await s.get(UserRow, user_id, with_for_update=True)
            if row is None:
                raise NotFound("No such user.")
            row.name = name
            await s.flush()
            return user_from_row(row)

    async def password_hash(self, user_id: int) -> str:
        """Raises: NotFound."""
        async with self.db.transaction() as s:
            hashed = await s.scalar(select(UserRow.password_hash).where(UserRow.id == user_id))
            if hashed is None:
                raise NotFound("No such user.")
            return hashed

    async def set_password(self, user_id: int, password_hash: str) -> None:
        """Raises: NotFound."""
        async with self.db.transaction() as s:
            res = await s.execute(update(UserRow).where(UserRow.id == user_id)
                                  .values(password_hash=password_hash))
            if not res.rowcount:  # type: ignore[attr-defined]
                raise NotFound("No such user.")

    async def record_login(self, user_id: int, now: datetime) -> None:
        """Set ``last_login_at``."""
        async with self.db.transaction() as s:
            await s.execute(update(UserRow).where(UserRow.id == user_id)
                            .values(last_login_at=now))
