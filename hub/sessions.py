"""Token sessions: log-in, token issuing, refresh rotation, log-out, and who a bearer token is
(CONTRACT §2 ``/auth/*``).

Tokens are signed and read by a :class:`TokenCodec` (JWT in ``web.security``); revocation has
two halves: refresh tokens live in PostgreSQL by family (:class:`hub.ports.RefreshTokens`),
access tokens are refused through a Redis denylist (:class:`hub.ports.AccessRevocation`) by
``jti``, by login family, or by "issued before" time per user. Log-out and refresh-token reuse
revoke the whole family and end its live sessions on every process (DESIGN invariant 9); a
password change does the same to every other family of the user (:meth:`end_other_logins`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from hub.accounts import AccountService
from hub.errors import TokenRevoked, Unauthenticated
from hub.model import Actor, Role, User
from hub.ports import AccessRevocation, RefreshTokens, SessionEnder, UserStore
from hub.ports.runtime import Principal, TokenCodec

__all__ = ["Principal", "SessionService", "TokenCodec", "TokenPair"]


@dataclass(frozen=True, slots=True)
class TokenPair:
    """``POST /auth/login`` and ``/auth/refresh``: ``expires_in`` is the access token's
    lifetime in seconds."""

    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


class SessionService:
    """Log-in, token pairs, refresh rotation with reuse detection, and log-out.

    Rotation follows the OAuth 2.0 Security BCP (RFC 9700 §4.14.2): each refresh token is
    spent once; the new one keeps the family; presenting a spent one revokes the family.
    """

    def __init__(self, accounts: AccountService, users: UserStore, refresh: RefreshTokens,
                 access: AccessRevocation, codec: TokenCodec, ender: SessionEnder) -> None:
        self.accounts = accounts
        self.users = users
        self.refresh_tokens = refresh
        self.access = access
        self.codec = codec
        self.ender = ender

    async def authenticate(self, token: str) -> Principal:
        """The principal of an access token that is valid and not revoked.

        Raises: Unauthenticated, TokenExpired, TokenRevoked (logged out, banned, or a revoked
        login family).
        """
        principal = self.codec.principal(token)
        await self.recheck(principal)
        return principal

    async def recheck(self, principal: Principal) -> None:
        """Check again that an authenticated principal's token is not revoked (a live session
        before each state-changing op). Raises: TokenRevoked, Unavailable."""
        await self.access.check(principal.jti, principal.id, principal.issued_at,
                                principal.family)

    async def login(self, email: str, password: str, now: datetime) -> TokenPair:
        """Check credentials and open a new token family.

        Raises: InvalidCredentials, Forbidden (a banned account).
        """
        user = await self.accounts.login(email, password)
        await self.users.record_login(user.id, now)
        return await self.issue(user.id, user.role, now)

    async def issue(self, user_id: int, role: Role, now: datetime,
                    family: str | None = None) -> TokenPair:
        """A new access token and a refresh token (of ``family``, or a new family); the access
        token names the family in its ``fam`` claim, which log-out revokes."""
        family = family or secrets.token_urlsafe(16)
        access, _ = self.codec.issue(user_id, role, now, family=family)
        refresh, claims = self.codec.issue(user_id, role, now, kind="refresh", family=family)
        await self.refresh_tokens.add(str(claims["jti"]), user_id, family,
                                      datetime.fromtimestamp(int(claims["exp"]), UTC), now)
        return TokenPair(access, refresh, self.codec.access_ttl)

    async def refresh(self, refresh_token: str, now: datetime) -> TokenPair:
        """Spend a refresh token; the new pair keeps its family (and the user's current role).

        Raises:
            Unauthenticated, TokenExpired: not a valid refresh token.
            TokenRevoked: unknown, revoked or spent token (a spent one revokes its family),
                or a banned account.
        """
        claims = self.codec.decode(refresh_token, kind="refresh")
        spent = await self.refresh_tokens.use(str(claims["jti"]), now)
        if spent is None:
            raise TokenRevoked("The refresh token is unknown, expired or revoked.")
        if spent.reused:
            # A stolen token was used by one party: refuse every access token of the login
            # (the attacker's fresh one included) and close its live sessions.
            await self._end_family(spent.user_id, spent.family)
            raise TokenRevoked("This refresh token was already used; its family is revoked.")
        user = await self.users.get_user(spent.user_id)
        if user.banned:
            await self.refresh_tokens.revoke_family(spent.family, now)
            raise TokenRevoked("This account has been banned.")
        return await self.issue(user.id, user.role, now, family=spent.family)

    async def logout(self, access_token: str | None, now: datetime) -> None:
        """Refuse the access token until it expires, and revoke its login family: every
        access and refresh token of it, and its live sessions on every process (tokens
        issued before access tokens named their family have none).

        Raises: Unauthenticated (no token), TokenExpired, TokenRevoked, Unavailable.
        """
        if not access_token:
            raise Unauthenticated("Send Authorization: Bearer <access_token>.")
        principal = await self.authenticate(access_token)
        await self.access.deny(principal.jti, principal.expires_at)
        if principal.family:
            await self.refresh_tokens.revoke_family(principal.family, now)
            await self._end_family(principal.id, principal.family)

    async def _end_family(self, user_id: int, family: str) -> None:
        """Deny the family's access tokens, then close its sessions everywhere (in this
        order, so a session closed cannot authenticate again with a token of the family)."""
        await self.access.revoke_family(family)
        await self.ender.end_sessions(user_id, family)

    async def end_other_logins(self, user_id: int, keep_family: str | None,
                               now: datetime) -> None:
        """Revoke every login family of the user but ``keep_family`` (a password change; the
        calling login keeps working), each as log-out revokes one: its refresh tokens, every
        access token of it, and its live sessions on every process (closed with 4401).
        ``keep_family`` None (a token from before families): every family. Raises:
        Unavailable."""
        for family in await self.refresh_tokens.revoke_other_families(user_id, keep_family,
                                                                      now):
            await self._end_family(user_id, family)

    async def end_all_sessions(self, user_id: int, now: datetime) -> None:
        """Revoke every session of the user (a password reset): refresh tokens, every access
        token issued until ``now``, and every live session on every process (4401).
        Raises: Unavailable."""
        await self.refresh_tokens.revoke_user(user_id, now)
        await self.access.revoke_user(user_id, now)
        await self.ender.end_sessions(user_id)

    async def purge_expired(self, now: datetime) -> int:
        """Delete refresh tokens that expired before ``now`` (live, spent or revoked: an
        expired JWT is refused by its ``exp`` alone); returns how many. Idempotent."""
        return await self.refresh_tokens.purge(now)

    async def user(self, actor: Actor) -> User:
        """``GET /auth/me``: the actor's account. Raises: NotFound."""
        return await self.users.get_user(actor.id)
