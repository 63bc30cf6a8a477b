"""Account self-service (CONTRACT §2): rename, change password, password reset by e-mail.

* A password change needs the old password and revokes every other login of the account
  (DESIGN invariant 9) the way log-out revokes one: each other login family's refresh tokens,
  its access tokens (the family denylist) and its live WebSocket sessions on every process
  (closed with 4401). The calling login keeps its tokens and sessions.
* A reset request answers the same whether or not the address has an account. The token is
  32 random bytes (URL-safe), valid :data:`RESET_TOKEN_TTL` and usable once; only its
  SHA-256 is stored, and it travels only in the e-mail (through the outbox). Confirming sets
  the new password and revokes every session of the account.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from hub.accounts import check_password
from hub.errors import InvalidCredentials, ValidationFailed
from hub.model import Actor, User
from hub.ports import PasswordHasher, PasswordResetStore, ResetMail, UserStore
from hub.ports.runtime import Principal
from hub.sessions import SessionService

__all__ = ["RESET_TOKEN_TTL", "SelfService", "reset_mail", "token_digest"]

RESET_TOKEN_TTL = timedelta(minutes=15)


def token_digest(token: str) -> str:
    """The SHA-256 (hex) of a reset token: what the store keeps and looks up."""
    return hashlib.sha256(token.encode()).hexdigest()


def reset_mail(token: str, expires_at: datetime) -> ResetMail:
    """The reset e-mail: the token and until when it works (UTC)."""
    body = ("Someone (hopefully you) asked to reset the password of your Evently account.\n\n"
            f"Your reset code: {token}\n\n"
            f"It works once, until {expires_at:%Y-%m-%d %H:%M} UTC: send it with your new "
            "password to POST /auth/password-reset/confirm "
            '({"token": "<code>", "new_password": "..."}).\n\n'
            "If you did not ask for this, ignore this e-mail; your password stays as it is.\n")
    return ResetMail(subject="Reset your Evently password", body=body)


class SelfService:
    """What an account does for itself. Sessions are revoked through
    :class:`hub.sessions.SessionService`, the one place that ends logins."""

    def __init__(self, users: UserStore, hasher: PasswordHasher, resets: PasswordResetStore,
                 sessions: SessionService) -> None:
        self.users = users
        self.hasher = hasher
        self.resets = resets
        self.sessions = sessions

    async def rename(self, actor: Actor, name: str) -> User:
        """``PATCH /auth/me``. Raises: ValidationFailed (blank), NotFound."""
        name = name.strip()
        if not name:
            raise ValidationFailed(fields=[{"field": "name", "message": "must not be blank"}])
        return await self.users.set_name(actor.id, name)

    async def change_password(self, actor: Principal, old: str, new: str,
                              now: datetime) -> None:
        """``POST /auth/password``: every login family of the account but the caller's
        (``actor.family``, its access token's ``fam``) is revoked with its live sessions.

        Raises: InvalidCredentials (wrong old password), ValidationFailed (password rules),
        NotFound, Unavailable.
        """
        check_password(new, "new_password")
        if not await self.hasher.verify(old, await self.users.password_hash(actor.id)):
            raise InvalidCredentials("The old password is wrong.")
        await self.users.set_password(actor.id, await self.hasher.hash(new))
        await self.sessions.end_other_logins(actor.id, actor.family, now)

    async def request_reset(self, email: str, now: datetime) -> None:
        """``POST /auth/password-reset``: e-mail a reset token when the address has a live
        account; the caller learns nothing either way."""
        token = secrets.token_urlsafe(32)
        expires_at = now + RESET_TOKEN_TTL
        await self.resets.issue(email.strip(), token_digest(token), expires_at,
                                reset_mail(token, expires_at), now)

    async def confirm_reset(self, token: str, new: str, now: datetime) -> None:
        """``POST /auth/password-reset/confirm``. Raises: ValidationFailed (password rules,
        or the token is unknown, used or expired)."""
        check_password(new, "new_password")
        user_id = await self.resets.consume(token_digest(token), await self.hasher.hash(new),
                                            now)
        await self.sessions.end_all_sessions(user_id, now)
