"""Token revocation (Redis denylist) and refresh-token families (PostgreSQL).

* Logout puts the access token's ``jti`` on the denylist until the token would expire, and
  its login family (the ``fam`` claim) for one access-token lifetime; refresh-token reuse
  denies the family too, so every access token of that login is refused (DESIGN invariant 9).
* A password change revokes every other login family of the user, each as log-out does.
* Banning a user, a role change, or reuse of a spent refresh token records a "revoked before"
  time for the user (epoch ms): every access token issued at or before it is refused
  (``TOKEN_REVOKED``). Tokens carry ``iat`` with millisecond precision, so a token issued
  right after the revocation is accepted.
* Refresh tokens rotate: each use spends the token and issues a new one of the same family;
  presenting a spent one revokes the whole family (OAuth 2.0 Security BCP, RFC 9700 §4.14.2).
* Revocation reaches open sessions (DESIGN invariant 9): :class:`RedisSessionEnder` publishes
  ``session.revoked`` on the user's channel (with ``family`` when one login is revoked), and
  every process closes that user's sessions (of that family).
"""

from __future__ import annotations

from datetime import datetime

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import delete, select, update

from hub.errors import TokenRevoked, Unavailable
from hub.ports import SpentRefresh
from storage.db import Database
from storage.keys import deny_family, deny_jti, deny_user, user_channel
from storage.models import RefreshTokenRow
from storage.pubsub import publish
from storage.redis_conn import execute

__all__ = ["Denylist", "RedisSessionEnder", "RefreshStore"]


def _ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)


class Denylist:
    """:class:`hub.ports.AccessRevocation` in Redis.

    Args:
        client: the process's Redis client.
        keep_seconds: how long a user-wide revocation is remembered (the refresh lifetime).
        family_seconds: how long a revoked family is remembered: the access-token lifetime,
            after which every access token of the family has expired anyway.
    """

    def __init__(self, client: aioredis.Redis, keep_seconds: int,
                 family_seconds: int) -> None:
        self.r = client
        self.keep_seconds = keep_seconds
        self.family_seconds = family_seconds

    async def deny(self, jti: str, expires_at: datetime) -> None:
        try:
            await self.r.set(deny_jti(jti), 1, exat=int(expires_at.timestamp()) + 1)
        except RedisError as exc:
            raise Unavailable() from exc

    async def revoke_user(self, user_id: int, at: datetime) -> None:
        """Refuse every access token of the user issued at or before ``at`` (kept as epoch
        ms for ``keep_seconds``). Raises: Unavailable."""
        try:
            await self.r.set(deny_user(user_id), _ms(at), ex=self.keep_seconds)
        except RedisError as exc:
            raise Unavailable() from exc

    async def revoke_family(self, family: str) -> None:
        """Refuse every access token of the login family for ``family_seconds`` (+1 s for
        ``exp`` rounding). Raises: Unavailable."""
        try:
            await self.r.set(deny_family(family), 1, ex=self.family_seconds + 1)
        except RedisError as exc:
            raise Unavailable() from exc

    async def check(self, jti: str, user_id: int, issued_at: datetime,
                    family: str | None = None) -> None:
        """One round trip (a pipeline) reads the token's, the user's and the family's entry
        (one command per key: the keys may live in different Redis Cluster slots).

        Raises: TokenRevoked, Unavailable."""
        try:
            async with self.r.pipeline(transaction=False) as pipe:
                pipe.get(deny_user(user_id))
                pipe.exists(deny_jti(jti))
                if family:
                    pipe.exists(deny_family(family))
                revoked_at, *denied = await execute(pipe)
        except RedisError as exc:
            raise Unavailable() from exc
        if any(denied) or (revoked_at is not None and _ms(issued_at) <= int(revoked_at)):
            raise TokenRevoked()


class RefreshStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, jti: str, user_id: int, family: str, expires_at: datetime,
                  now: datetime) -> None:
        async with self.db.transaction() as s:
            s.add(RefreshTokenRow(jti=jti, user_id=user_id, family_id=family,
                                  expires_at=expires_at, created_at=now))

    async def use(self, jti: str, now: datetime) -> SpentRefresh | None:
        """Spend a refresh token under a row lock (one of two racing uses wins).

        Returns None for an unknown, expired or revoked token; a :class:`SpentRefresh` with
        ``reused=True`` when it had been spent already — the whole family is revoked in the
        same transaction (RFC 9700 §4.14.2).
        """
        async with self.db.transaction() as s:
            row = await s.scalar(select(RefreshTokenRow).where(RefreshTokenRow.jti == jti)
                                 .with_for_update())
            if row is None or row.revoked_at is not None or row.expires_at <= now:
                return None
            reused = row.used_at is not None
            if reused:
                await s.execute(update(RefreshTokenRow)
                                .where(RefreshTokenRow.family_id == row.family_id)
                                .values(revoked_at=now))
            else:
                row.used_at = now
            return SpentRefresh(row.user_id, row.family_id, reused)

    async def spend(self, jti: str, now: datetime) -> tuple[int, str]:
        """Spend a refresh token; returns ``(user_id, family)``.

        Raises: TokenRevoked (unknown, revoked, or already spent — the family is then revoked).
        """
        spent = await self.use(jti, now)
        if spent is None:
            raise TokenRevoked()
        if spent.reused:
            raise TokenRevoked("This refresh token was already used; its family is revoked.")
        return spent.user_id, spent.family

    async def revoke_family(self, family: str, now: datetime) -> None:
        """Revoke every refresh token of a family (logout, reuse)."""
        async with self.db.transaction() as s:
            await s.execute(update(RefreshTokenRow).where(RefreshTokenRow.family_id == family)
                            .values(revoked_at=now))

    async def revoke_user(self, user_id: int, now: datetime) -> None:
        """Revoke every live refresh token of a user (ban, password reset)."""
        async with self.db.transaction() as s:
            await s.execute(update(RefreshTokenRow).where(RefreshTokenRow.user_id == user_id,
                                                          RefreshTokenRow.revoked_at.is_(None))
                            .values(revoked_at=now))

    async def revoke_other_families(self, user_id: int, keep_family: str | None,
                                    now: datetime) -> list[str]:
        """Revoke the unexpired, unrevoked refresh tokens of the user's login families but
        ``keep_family`` (a password change); returns those families, sorted."""
        conds = [RefreshTokenRow.user_id == user_id, RefreshTokenRow.revoked_at.is_(None),
                 RefreshTokenRow.expires_at > now]
        if keep_family is not None:
            conds.append(RefreshTokenRow.family_id != keep_family)
        async with self.db.transaction() as s:
            families = (await s.scalars(update(RefreshTokenRow).where(*conds)
                                        .values(revoked_at=now)
                                        .returning(RefreshTokenRow.family_id))).all()
        return sorted(set(families))

    async def purge(self, now: datetime) -> int:
        """Delete refresh tokens that expired before ``now``; returns how many.

        A token is dead once expired, whatever its state (live, spent, revoked): its JWT is
        refused by its ``exp`` alone. Spent and revoked rows are kept until then, because reuse
        detection and family revocation read them while a token of the family could still be
        presented.
        """
        async with self.db.transaction() as s:
            res = await s.execute(delete(RefreshTokenRow)
                                  .where(RefreshTokenRow.expires_at < now))
            return int(res.rowcount or 0)  # type: ignore[attr-defined]


class RedisSessionEnder:
    """:class:`hub.ports.SessionEnder`: publishes ``{"type": "session.revoked"}`` (plus
    ``"family"`` when only one login is revoked) on the user's personal channel; every hub
    process with a matching session of that user closes it with 4401 (CONTRACT §3)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client

    async def end_sessions(self, user_id: int, family: str | None = None) -> None:
        """Raises: Unavailable."""
        message: dict[str, str] = {"type": "session.revoked"}
        if family:
            message["family"] = family
        await publish(self.client, user_channel(user_id), message)
