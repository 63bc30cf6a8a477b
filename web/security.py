"""Tokens and passwords: PyJWT HS256 with the algorithm pinned and ``exp`` required, bcrypt
run in a worker thread so it never blocks the event loop."""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import bcrypt
import jwt

from hub.errors import TokenExpired, Unauthenticated
from hub.model import Role
from hub.ports.runtime import Principal

__all__ = ["ALGORITHM", "BcryptHasher", "Principal", "TokenCodec"]

ALGORITHM = "HS256"  # pinned: a token naming any other algorithm (or "none") is refused


class TokenCodec:
    """:class:`hub.sessions.TokenCodec` on PyJWT. ``access_ttl`` / ``refresh_ttl`` are
    seconds."""

    #: verified access tokens kept (token → principal, until its ``exp`` or at most
    #: ``CACHE_SECONDS``), so a busy client's requests skip the HMAC and JSON work; the
    #: denylist is still read per request (hub.sessions), so revocation is not delayed.
    CACHE_SIZE = 8192
    CACHE_SECONDS = 60.0

    def __init__(self, secret: str, access_ttl: int, refresh_ttl: int) -> None:
        self.secret = secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self._verified: dict[str, tuple[Principal, float]] = {}

    def issue(self, user_id: int, role: Role, now: datetime, *, kind: str = "access",
              family: str | None = None, jti: str | None = None) -> tuple[str, dict[str, Any]]:
        """Returns ``(token, claims)``; claims: sub, role, typ, jti, iat, exp (+ fam).

        ``iat`` keeps milliseconds (a JSON number, RFC 7519 §2 NumericDate) so a revocation
        of "every token issued before now" spares a token issued a moment later; ``fam`` is
        the refresh family, on access tokens too, so logout can revoke it.
        """
        ttl = self.access_ttl if kind == "access" else self.refresh_ttl
        claims: dict[str, Any] = {
            "sub": str(user_id), "role": str(role), "typ": kind,
            "jti": jti or secrets.token_urlsafe(16),
            "iat": round(now.timestamp(), 3),
            "exp": int((now + timedelta(seconds=ttl)).timestamp()),
        }
        if family:
            claims["fam"] = family
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM), claims

    def decode(self, token: str, kind: str = "access") -> dict[str, Any]:
        """Verify signature, algorithm, ``exp`` and type.

        Raises: TokenExpired, Unauthenticated (bad, tampered, wrong type, or missing claims).
        """
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self.secret, algorithms=[ALGORITHM],
                options={"require": ["exp", "iat", "sub", "jti", "typ"]})
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired() from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("The token is not valid.") from exc
        if claims.get("typ") != kind:
            raise Unauthenticated("Wrong kind of token.")
        return claims

    def principal(self, token: str) -> Principal:
        """An access token's principal. Raises: TokenExpired, Unauthenticated.

        A token verified in the last ``CACHE_SECONDS`` is answered from memory while
        ``time.time()`` is before its ``exp`` (PyJWT's own rule: expired at ``exp``)."""
        hit = self._verified.get(token)
        now = time.time()
        if hit is not None and now < hit[1]:
            return hit[0]
        c = self.decode(token)
        try:
            p = Principal(id=int(c["sub"]), role=Role(c["role"]), jti=str(c["jti"]),
                          issued_at=datetime.fromtimestamp(float(c["iat"]), UTC),
                          expires_at=datetime.fromtimestamp(int(c["exp"]), UTC),
                          family=str(c["fam"]) if c.get("fam") else None)
        except (KeyError, ValueError, TypeError) as exc:
            raise Unauthenticated("The token is not valid.") from exc
        if len(self._verified) >= self.CACHE_SIZE:
            self._verified.pop(next(iter(self._verified)))  # the oldest entry
        self._verified[token] = (p, min(float(c["exp"]), now + self.CACHE_SECONDS))
        return p


class BcryptHasher:
    """:class:`hub.ports.PasswordHasher` with bcrypt (``rounds``: cost factor, 12 in
    production), off the event loop in a thread."""

    def __init__(self, rounds: int = 12) -> None:
        self.rounds = rounds

    async def hash(self, password: str) -> str:
        salt = bcrypt.gensalt(self.rounds)
        digest = await asyncio.to_thread(bcrypt.hashpw, password.encode(), salt)
        return digest.decode()

    async def verify(self, password: str, hashed: str) -> bool:
        try:
            return await asyncio.to_thread(bcrypt.checkpw, password.encode(), hashed.encode())
        except ValueError:
            return False
