"""Ports of accounts and credentials: the account store (PostgreSQL), password hashing,
refresh-token families (PostgreSQL), the access-token denylist and session ending (Redis).

Times are timezone-aware ``datetime`` values (UTC) read once per request by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hub.model import Role, User

__all__ = ["AccessRevocation", "PasswordHasher", "RefreshTokens", "SessionEnder",
           "SpentRefresh", "UserStore"]


class UserStore(Protocol):
    """Accounts (PostgreSQL, ``storage.users``). Emails are unique case-insensitively; a
    ``role`` is a :class:`~hub.model.Role` value (``user``, ``organizer``, ``admin``)."""

    async def add_user(self, name: str, email: str, password_hash: str, role: str,
                       now: datetime) -> User:
        """Create an account. Raises: AlreadyExists (the email is taken)."""
        ...

    async def upsert_user(self, name: str, email: str, password_hash: str, role: str,
                          now: datetime) -> User:
        """Create the account, or set password, role (and name, when given) of the existing
        one, lifting a ban."""
        ...

    async def user_by_email(self, email: str) -> tuple[User, str] | None:
        """The account and its bcrypt hash (case-insensitive email), or None."""
        ...

    async def get_user(self, user_id: int) -> User:
        """Raises: NotFound."""
        ...

    async def list_users(self, offset: int, limit: int, q: str | None,
                         role: Role | None) -> tuple[list[User], int]:
        """A page of accounts by id, oldest first, and the number matching: ``q`` matches
        name or email case-insensitively (literally), ``offset``/``limit`` count accounts."""
        ...

    async def set_role(self, user_id: int, role: Role) -> User:
        """Raises: NotFound."""
        ...

    async def ban(self, user_id: int, now: datetime) -> User:
        """Mark banned at ``now`` (an earlier ban is kept). Raises: NotFound."""
        ...

    async def set_name(self, user_id: int, name: str) -> User:
        """Raises: NotFound."""
        ...

    async def password_hash(self, user_id: int) -> str:
        """The account's bcrypt hash. Raises: NotFound."""
        ...

    async def set_password(self, user_id: int, password_hash: str) -> None:
        """Raises: NotFound."""
        ...

    async def record_login(self, user_id: int, now: datetime) -> None:
        """Set the account's ``last_login_at`` to ``now``."""
        ...


class PasswordHasher(Protocol):
    """bcrypt, run off the event loop by the implementation (``web.security``)."""

    async def hash(self, password: str) -> str:
        """The bcrypt hash (``$2b$…``) of ``password``."""
        ...

    async def verify(self, password: str, hashed: str) -> bool:
        """True when ``password`` matches ``hashed``."""
        ...


@dataclass(frozen=True, slots=True)
class SpentRefresh:
    """A refresh token just spent: its user and family; ``reused`` when it had been spent
    before (the family is then revoked already)."""

    user_id: int
    family: str
    reused: bool


class RefreshTokens(Protocol):
    """Refresh tokens by family (PostgreSQL, ``storage.tokens``); rotation per RFC 9700
    §4.14.2."""

    async def add(self, jti: str, user_id: int, family: str, expires_at: datetime,
                  now: datetime) -> None:
        """Record a refresh token just issued (``expires_at``: its ``exp``)."""
        ...

    async def use(self, jti: str, now: datetime) -> SpentRefresh | None:
        """Spend the token ``jti``; None when unknown, expired or revoked. Presenting a spent
        token revokes its family and returns ``reused=True``."""
        ...

    async def revoke_family(self, family: str, now: datetime) -> None:
        """Revoke every token of the login family."""
        ...

    async def revoke_user(self, user_id: int, now: datetime) -> None:
        """Revoke every refresh token of the user (ban, password reset)."""
        ...

    async def revoke_other_families(self, user_id: int, keep_family: str | None,
                                    now: datetime) -> list[str]:
        """Revoke the live (unexpired, unrevoked) refresh tokens of every login family of the
        user but ``keep_family`` (None: of every family), in one transaction; returns those
        families (a password change then ends each as log-out does)."""
        ...

    async def purge(self, now: datetime) -> int:
        """Delete tokens that expired before ``now``, whatever their state; returns how many.
        Spent and revoked rows stay until then: reuse detection reads them."""
        ...


class AccessRevocation(Protocol):
    """The access-token denylist (Redis): one token by ``jti`` until it expires, every token
    of a login family (its ``fam`` claim), or every token of a user issued at or before a
    time (DESIGN invariant 9)."""

    async def deny(self, jti: str, expires_at: datetime) -> None:
        """Refuse the access token ``jti`` until ``expires_at`` (its ``exp``)."""
        ...

    async def revoke_user(self, user_id: int, at: datetime) -> None:
        """Refuse every access token of the user issued at or before ``at`` (ms precision)."""
        ...

    async def revoke_family(self, family: str) -> None:
        """Refuse every access token of the login family ``family`` (for one access-token
        lifetime: no token of the family can be issued afterwards)."""
        ...

    async def check(self, jti: str, user_id: int, issued_at: datetime,
                    family: str | None = None) -> None:
        """Raises: TokenRevoked (the token, its family, or every token of the user issued by
        then). One round trip to the store."""
        ...


class SessionEnder(Protocol):
    """Tells every live WebSocket session of a user (or only those of one login family), on
    every process, that its credentials are revoked (they close with 4401, DESIGN
    invariant 9)."""

    async def end_sessions(self, user_id: int, family: str | None = None) -> None:
        """``family`` None: every session of the user. Raises: Unavailable."""
        ...
