"""Accounts: sign-up, log-in and the operator's ``user add`` (passwords via a
:class:`hub.ports.PasswordHasher`, bcrypt off the event loop in the implementation) and the
admin's user management (CONTRACT §2 ``/auth/*``, ``/admin/users``); token sessions are
:mod:`hub.sessions`.

Revocation has two halves: refresh tokens live in PostgreSQL by family
(:class:`hub.ports.RefreshTokens`), access tokens are refused through a Redis denylist
(:class:`hub.ports.AccessRevocation`) by ``jti`` or by "issued before" time per user.
"""

from __future__ import annotations

from datetime import datetime

from hub.audit import AuditService
from hub.errors import Forbidden, InvalidCredentials, ValidationFailed
from hub.model import Actor, Role, User
from hub.policy import require_admin
from hub.ports import (
    AccessRevocation,
    OrganizerRequestStore,
    PasswordHasher,
    RefreshTokens,
    SessionEnder,
    UserStore,
)

__all__ = [
    "MAX_PASSWORD_BYTES",
    "MIN_PASSWORD_CHARS",
    "AccountService",
    "UserAdmin",
    "check_password",
]

MIN_PASSWORD_CHARS = 8
# bcrypt reads at most 72 bytes of a password; longer ones would be silently cut.
MAX_PASSWORD_BYTES = 72


def check_password(password: str, field: str = "password") -> None:
    """Raises: ValidationFailed (on ``field``): shorter than 8 characters or longer than 72
    UTF-8 bytes."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationFailed(fields=[{"field": field,
                                        "message": f"at least {MIN_PASSWORD_CHARS} characters"}])
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise ValidationFailed(fields=[{"field": field,
                                        "message": f"at most {MAX_PASSWORD_BYTES} bytes"}])


class AccountService:
    """Creates accounts and checks credentials. Emails are matched case-insensitively.

    ``organizer_signup`` (``ORGANIZER_SIGNUP``) decides what a sign-up asking for the
    ``organizer`` role gets: ``open`` the role, ``approval`` a ``user`` account with a pending
    request for an admin (``requests``), ``closed`` a refusal. Nobody signs up as admin.
    """

    def __init__(self, users: UserStore, hasher: PasswordHasher, *,
                 organizer_signup: str = "open",
                 requests: OrganizerRequestStore | None = None) -> None:
        self.users = users
        self.hasher = hasher
        self.organizer_signup = organizer_signup
        self.requests = requests
        self._dummy_hash: str | None = None

    async def signup(self, name: str, email: str, password: str, now: datetime,
                     role: Role = Role.USER) -> User:
        """A new account of ``role`` (``user`` or ``organizer``, as ``organizer_signup``
        allows). Raises: ValidationFailed, AlreadyExists, Forbidden (``admin``, or
        ``organizer`` while organizer sign-up is closed)."""
        if role is Role.ADMIN or (role is Role.ORGANIZER and self.organizer_signup == "closed"):
            raise Forbidden(f"Signing up as {role} is not allowed.")
        check_password(password)
        hashed = await self.hasher.hash(password)
        if role is Role.ORGANIZER and self.organizer_signup == "approval":
            assert self.requests is not None, "approval needs an OrganizerRequestStore"
            user, _ = await self.requests.add_user_requesting(name.strip(), email.strip(),
                                                              hashed, now)
            return user
        return await self.users.add_user(name.strip(), email.strip(), hashed, role, now)

    async def add_or_update(self, email: str, password: str, name: str, role: Role,
                            now: datetime) -> User:
        """``evently user add``: create the account or reset its password and role."""
        check_password(password)
        hashed = await self.hasher.hash(password)
        return await self.users.upsert_user(name or email.split("@")[0], email.strip(), hashed,
                                            role, now)

    async def create(self, name: str, email: str, password: str, role: Role,
                     now: datetime) -> User:
        """An account with the given role (``POST /admin/users``).

        Raises: ValidationFailed (password rules), AlreadyExists (the email is taken).
        """
        check_password(password)
        hashed = await self.hasher.hash(password)
        return await self.users.add_user(name.strip(), email.strip(), hashed, role, now)

    async def login(self, email: str, password: str) -> User:
        """Check credentials; the same bcrypt work is done for unknown emails (no timing hint).

        Raises: InvalidCredentials, Forbidden (a banned account).
        """
        found = await self.users.user_by_email(email.strip())
        if found is None:
            if self._dummy_hash is None:
                self._dummy_hash = await self.hasher.hash("not-a-real-password")
            await self.hasher.verify(password, self._dummy_hash)
            raise InvalidCredentials()
        user, hashed = found
        if not await self.hasher.verify(password, hashed):
            raise InvalidCredentials()
        if user.banned:
            raise Forbidden("This account has been banned.")
        return user


# -- token sessions ---------------------------------------------------------------------------


class UserAdmin:
    """``/admin/users``: list, create, change role, ban. Admins only.

    A role change or a ban refuses the user's access tokens issued until then (tokens carry
    the role) and ends the user's live sessions; a ban also revokes every refresh token, so
    the account is locked out until an operator runs ``evently user add`` again.
    """

    def __init__(self, accounts: AccountService, users: UserStore,
                 refresh: RefreshTokens, access: AccessRevocation,
                 ender: SessionEnder, audit: AuditService | None = None) -> None:
        self.accounts = accounts
        self.users = users
        self.refresh_tokens = refresh
        self.access = access
        self.ender = ender
        self.audit = audit

    async def search(self, actor: Actor, offset: int, limit: int, q: str | None = None,
                   role: Role | None = None) -> tuple[list[User], int]:
        """A page of accounts (oldest first) and the total matching. ``q`` matches name or
        email, case-insensitively. Raises: Forbidden."""
        require_admin(actor)
        return await self.users.list_users(offset, limit, q, role)

    async def create(self, actor: Actor, name: str, email: str, password: str, role: Role,
                     now: datetime) -> User:
        """Raises: Forbidden, ValidationFailed, AlreadyExists."""
        require_admin(actor)
        user = await self.accounts.create(name, email, password, role, now)
        if self.audit is not None:
            await self.audit.record(actor, "user.create", now, target_user_id=user.id,
                                    role=str(role))
        return user

    async def set_role(self, actor: Actor, user_id: int, role: Role, now: datetime) -> User:
        """Raises: Forbidden (not an admin, or an admin demoting themself), NotFound."""
        require_admin(actor)
        if user_id == actor.id and role is not Role.ADMIN:
            raise Forbidden("You cannot take away your own admin role.")
        before = await self.users.get_user(user_id)
        user = await self.users.set_role(user_id, role)
        if before.role is not role:
            await self.access.revoke_user(user_id, now)
            await self.ender.end_sessions(user_id)
            if self.audit is not None:
                await self.audit.record(actor, "user.role", now, target_user_id=user_id,
                                        before=str(before.role), after=str(role))
        return user

    async def ban(self, actor: Actor, user_id: int, now: datetime) -> User:
        """Ban an account (idempotent). Raises: Forbidden (not an admin, or oneself),
        NotFound."""
        require_admin(actor)
        if user_id == actor.id:
            raise Forbidden("You cannot ban yourself.")
        user = await self.users.ban(user_id, now)
        await self.refresh_tokens.revoke_user(user_id, now)
        await self.access.revoke_user(user_id, now)
        await self.ender.end_sessions(user_id)
        if self.audit is not None:
            await self.audit.record(actor, "user.ban", now, target_user_id=user_id)
        return user
