"""Organizer sign-up under ``ORGANIZER_SIGNUP=approval``: the admins' desk of pending
requests (CONTRACT §2 ``/admin/organizer-requests``).

Approving makes the account an organizer in the same transaction as the decision; like any
role change it then refuses the account's earlier access tokens and ends its live sessions
(they refresh into the new role). Refusing leaves the account a ``user``.
"""

from __future__ import annotations

from datetime import datetime

from hub.audit import AuditService
from hub.errors import ValidationFailed
from hub.model import Actor
from hub.policy import require_admin
from hub.ports import AccessRevocation, OrganizerRequest, OrganizerRequestStore, SessionEnder

__all__ = ["REQUEST_STATUSES", "OrganizerDesk"]

REQUEST_STATUSES = ("pending", "approved", "refused")


class OrganizerDesk:
    """List, approve and refuse organizer requests. Admins only."""

    def __init__(self, requests: OrganizerRequestStore, access: AccessRevocation,
                 ender: SessionEnder, audit: AuditService) -> None:
        self.requests = requests
        self.access = access
        self.ender = ender
        self.audit = audit

    async def search(self, actor: Actor, status: str | None, offset: int,
                     limit: int) -> tuple[list[OrganizerRequest], int]:
        """A page of requests (oldest first; ``status`` one of :data:`REQUEST_STATUSES` or
        None for all) and the total. Raises: Forbidden, ValidationFailed."""
        require_admin(actor)
        if status is not None and status not in REQUEST_STATUSES:
            raise ValidationFailed(fields=[{"field": "status",
                                            "message": "pending, approved or refused"}])
        return await self.requests.list_requests(status, offset, limit)

    async def decide(self, actor: Actor, request_id: int, approve: bool,
                     now: datetime) -> OrganizerRequest:
        """Approve or refuse; deciding again the same way returns the request unchanged.

        Raises: Forbidden, NotFound, AlreadyExists (decided the other way before).
        """
        require_admin(actor)
        request, changed = await self.requests.decide(request_id, approve, actor.id, now)
        if changed:
            await self.access.revoke_user(request.user_id, now)
            await self.ender.end_sessions(request.user_id)
        await self.audit.record(actor, "organizer_request." + ("approve" if approve
                                                                else "refuse"),
                                now, target_user_id=request.user_id, request_id=request.id)
        return request
