"""Accounts: sign-up, log-in and the operator's ``user add`` (passwords via a
:class:`hub.ports.PasswordHasher`, bcrypt off the event loop in the implementation)."""

from __future__ import annotations

from datetime import datetime

from hub.errors import Forbidden, InvalidCredentials, ValidationFailed
from hub.model import Role, User
from hub.ports import PasswordHasher, Store

__all__ = ["MAX_PASSWORD_BYTES", "MIN_PASSWORD_CHARS", "AccountService", "check_password"]

MIN_PASSWORD_CHARS = 8
# bcrypt reads at most 72 bytes of a password; longer ones would be silently cut.
MAX_PASSWORD_BYTES = 72


def check_password(password: str) -> None:
    """Raises: ValidationFailed: shorter than 8 characters or longer than 72 UTF-8 bytes."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationFailed(fields=[{"field": "password",
                                        "message": f"at least {MIN_PASSWORD_CHARS} characters"}])
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise ValidationFailed(fields=[{"field": "password",
                                        "message": f"at most {MAX_PASSWORD_BYTES} bytes"}])


class AccountService:
    """Creates accounts and checks credentials. Emails are matched case-insensitively."""

    def __init__(self, store: Store, hasher: PasswordHasher) -> None:
        self.store = store
        self.hasher = hasher
        self._dummy_hash: str | None = None

    async def signup(self, name: str, email: str, password: str, now: datetime) -> User:
        """A new ``user``-role account. Raises: ValidationFailed, AlreadyExists."""
        check_password(password)
        hashed = await self.hasher.hash(password)
        return await self.store.add_user(name.strip(), email.strip(), hashed, Role.USER, now)

    async def add_or_update(self, email: str, password: str, name: str, role: Role,
                            now: datetime) -> User:
        """``evently user add``: create the account or reset its password and role."""
        check_password(password)
        hashed = await self.hasher.hash(password)
        return await self.store.upsert_user(name or email.split("@")[0], email.strip(), hashed,
                                            role, now)

    async def login(self, email: str, password: str) -> User:
        """Check credentials; the same bcrypt work is done for unknown emails (no timing hint).

        Raises: InvalidCredentials, Forbidden (a banned account).
        """
        found = await self.store.user_by_email(email.strip())
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
