"""Organizer sign-up requests in PostgreSQL: :class:`hub.ports.OrganizerRequestStore`.

An account asking to organize under ``ORGANIZER_SIGNUP=approval`` is created as a ``user``
together with its pending request (one transaction); approving sets the role in the same
transaction as the decision. A partial unique index allows one pending request per account.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hub.errors import AlreadyExists, NotFound
from hub.model import Role, User
from hub.ports import OrganizerRequest
from storage.db import Database
from storage.models import OrganizerRequestRow, UserRow
from storage.rows import user_from_row

__all__ = ["PgOrganizerRequests"]


def _request(row: OrganizerRequestRow, user: UserRow) -> OrganizerRequest:
    return OrganizerRequest(id=row.id, user_id=row.user_id, user_name=user.name,
                            user_email=user.email, status=row.status,
                            created_at=row.created_at, decided_at=row.decided_at,
                            decided_by=row.decided_by)


class PgOrganizerRequests:
    """:class:`hub.ports.OrganizerRequestStore` on a real PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_user_requesting(self, name: str, email: str, password_hash: str,
                                  now: datetime) -> tuple[User, OrganizerRequest]:
        """Raises: AlreadyExists (the email, case-insensitive, is taken)."""
        try:
            async with self.db.transaction() as s:
                user = UserRow(name=name, email=email, password_hash=password_hash,
                               role=Role.USER.value, created_at=now)
                s.add(user)
                await s.flush()
                req = OrganizerRequestRow(user_id=user.id, status="pending", created_at=now)
                s.add(req)
                await s.flush()
                return user_from_row(user), _request(req, user)
        except IntegrityError as exc:
            raise AlreadyExists("An account with this email exists.") from exc

    async def list_requests(self, status: str | None, offset: int,
                            limit: int) -> tuple[list[OrganizerRequest], int]:
        """Requests oldest first (``status`` None: all)."""
        conds = [] if status is None else [OrganizerRequestRow.status == status]
        async with self.db.transaction() as s:
            total = await s.scalar(select(func.count()).select_from(OrganizerRequestRow)
                                   .where(*conds))
            rows = (await s.execute(
                select(OrganizerRequestRow, UserRow)
                .join(UserRow, UserRow.id == OrganizerRequestRow.user_id).where(*conds)
                .order_by(OrganizerRequestRow.id).offset(offset).limit(limit))).all()
            return [_request(r, u) for r, u in rows], int(total or 0)

    async def decide(self, request_id: int, approve: bool, admin_id: int,
                     now: datetime) -> tuple[OrganizerRequest, bool]:
        """Raises: NotFound, AlreadyExists (decided the other way before)."""
        status = "approved" if approve else "refused"
        async with self.db.transaction() as s:
            req = await s.get(OrganizerRequestRow, request_id, with_for_update=True)
            if req is None:
                raise NotFound("No such organizer request.")
            user = await s.get(UserRow, req.user_id, with_for_update=True)
            assert user is not None  # the foreign key cascades deletes
            if req.status == status:
                return _request(req, user), False
            if req.status != "pending":
                raise AlreadyExists(f"This request was {req.status} already.")
            req.status, req.decided_at, req.decided_by = status, now, admin_id
            changed = approve and user.role == Role.USER.value
            if changed:
                user.role = Role.ORGANIZER.value
            await s.flush()
            return _request(req, user), changed
