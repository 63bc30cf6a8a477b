"""Password reset tokens in PostgreSQL: :class:`hub.ports.PasswordResetStore`.

Only the token's SHA-256 is stored. Issuing writes the token row and the e-mail outbox row in
one transaction (``storage.outbox`` sends it); spending marks the row used and sets the new
password hash in one transaction, under a row lock, so a token works once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from hub.errors import ValidationFailed
from hub.ports import ResetMail
from storage.db import Database
from storage.models import OutboxRow, PasswordResetRow, UserRow

__all__ = ["PgPasswordResets"]


class PgPasswordResets:
    """:class:`hub.ports.PasswordResetStore` on a real PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def issue(self, email: str, token_hash: str, expires_at: datetime, mail: ResetMail,
                    now: datetime) -> bool:
        """Record the token and queue ``mail`` when a live account has ``email``."""
        async with self.db.transaction() as s:
            user = await s.scalar(select(UserRow).where(
                func.lower(UserRow.email) == email.lower(), UserRow.banned_at.is_(None)))
            if user is None:
                return False
            s.add(PasswordResetRow(user_id=user.id, token_hash=token_hash,
                                   expires_at=expires_at, created_at=now))
            s.add(OutboxRow(to_address=user.email, subject=mail.subject, body=mail.body,
                            next_attempt_at=now, created_at=now))
            return True

    async def consume(self, token_hash: str, password_hash: str, now: datetime) -> int:
        """Raises: ValidationFailed (unknown, used or expired token)."""
        async with self.db.transaction() as s:
            row = await s.scalar(select(PasswordResetRow)
                                 .where(PasswordResetRow.token_hash == token_hash)
                                 .with_for_update())
            if row is None or row.used_at is not None or row.expires_at <= now:
                raise ValidationFailed(
                    "The reset token is unknown, used or expired.",
                    fields=[{"field": "token", "message": "unknown, used or expired"}])
            row.used_at = now
            await s.execute(update(UserRow).where(UserRow.id == row.user_id)
                            .values(password_hash=password_hash))
            return row.user_id
