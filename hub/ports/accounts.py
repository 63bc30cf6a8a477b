"""Ports of account self-service and oversight: organizer requests, password resets (both
PostgreSQL) and the audit trail (PostgreSQL).

Times are timezone-aware UTC ``datetime`` values read once per request by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from hub.model import User

__all__ = ["AuditEntry", "AuditLog", "OrganizerRequest", "OrganizerRequestStore",
           "PasswordResetStore", "ResetMail"]


@dataclass(frozen=True, slots=True)
class OrganizerRequest:
    """A sign-up that asked to organize; ``status`` is ``pending``, ``approved`` or
    ``refused``; ``decided_by`` is the admin's user id."""

    id: int
    user_id: int
    user_name: str
    user_email: str
    status: str
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: int | None = None


class OrganizerRequestStore(Protocol):
    """``ORGANIZER_SIGNUP=approval`` requests (``storage.organizers``)."""

    async def add_user_requesting(self, name: str, email: str, password_hash: str,
                                  now: datetime) -> tuple[User, OrganizerRequest]:
        """Create a ``user``-role account and its pending request in one transaction.
        Raises: AlreadyExists (the email is taken)."""
        ...

    async def list_requests(self, status: str | None, offset: int,
                            limit: int) -> tuple[list[OrganizerRequest], int]:
        """A page of requests, oldest first, and the number matching."""
        ...

    async def decide(self, request_id: int, approve: bool, admin_id: int,
                     now: datetime) -> tuple[OrganizerRequest, bool]:
        """Approve (the account becomes an organizer, in the same transaction) or refuse a
        request; returns it and whether the account's role changed. Deciding a decided
        request the same way again changes nothing.

        Raises: NotFound, AlreadyExists (it was decided the other way).
        """
        ...


@dataclass(frozen=True, slots=True)
class ResetMail:
    """The e-mail carrying a reset token (rendered by ``hub.self_service``)."""

    subject: str
    body: str


class PasswordResetStore(Protocol):
    """Single-use password reset tokens, stored as their SHA-256 (``storage.resets``)."""

    async def issue(self, email: str, token_hash: str, expires_at: datetime, mail: ResetMail,
                    now: datetime) -> bool:
        """When an account (not banned) has this e-mail (case-insensitive): record the token
        and put ``mail`` in the e-mail outbox to that address, in one transaction. Returns
        whether it did."""
        ...

    async def consume(self, token_hash: str, password_hash: str, now: datetime) -> int:
        """Spend the token and set the account's password hash in one transaction; returns
        the user id. Raises: ValidationFailed (unknown, used or expired token)."""
        ...


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One admin or organizer action. ``action`` is a dotted name (``event.create``,
    ``user.role``...); ``details`` is JSON-able."""

    id: int
    at: datetime
    actor_id: int
    actor_role: str
    action: str
    event_id: int | None = None
    target_user_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


class AuditLog(Protocol):
    """The append-only audit trail (``storage.audit``)."""

    async def record(self, actor_id: int, actor_role: str, action: str, event_id: int | None,
                     target_user_id: int | None, details: dict[str, Any],
                     now: datetime | None) -> None:
        """Append an entry (``now`` None: the database's clock)."""
        ...

    async def search(self, actor_id: int | None, event_id: int | None, offset: int,
                     limit: int) -> tuple[list[AuditEntry], int]:
        """A page of entries, newest first, and the number matching."""
        ...
