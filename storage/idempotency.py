"""Idempotency keys with Stripe's semantics, in PostgreSQL, scoped per user.

The same key with the same request returns the stored first response (status and body); with a
different request → ``IDEMPOTENCY_KEY_REUSED``; while the first is still running →
``IDEMPOTENCY_KEY_IN_USE``. Keys are kept 24 hours (``RETENTION``). A request that failed is not
stored: the key is released so the client may retry it (nothing was changed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from hub.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from storage.db import Database
from storage.models import IdempotencyKeyRow

__all__ = ["LOCK", "RETENTION", "IdempotencyStore", "StoredResponse"]

RETENTION = timedelta(hours=24)
LOCK = timedelta(seconds=60)  # an in-flight key whose process died is taken over after this


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: Any


class IdempotencyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def begin(self, user_id: int, key: str, fingerprint: str,
                    now: datetime) -> StoredResponse | None:
        """Claim ``key`` for this request; returns the stored response when it already ran.

        Raises: IdempotencyKeyReused, IdempotencyKeyInUse.
        """
        async with self.db.transaction() as s:
            inserted = await s.scalar(
                insert(IdempotencyKeyRow)
                .values(user_id=user_id, key=key, fingerprint=fingerprint, status="in_flight",
                        locked_until=now + LOCK, created_at=now)
                .on_conflict_do_nothing().returning(IdempotencyKeyRow.key))
            if inserted is not None:
                return None
            row = await s.scalar(select(IdempotencyKeyRow).where(
                IdempotencyKeyRow.user_id == user_id, IdempotencyKeyRow.key == key)
                .with_for_update())
            if row is None:  # deleted between the two statements: the caller may retry
                raise IdempotencyKeyInUse()
            if row.created_at < now - RETENTION:
                row.fingerprint, row.status, row.created_at = fingerprint, "in_flight", now
                row.response_status = row.response_body = None
                row.locked_until = now + LOCK
                return None
            if row.fingerprint != fingerprint:
                raise IdempotencyKeyReused()
            if row.status == "done" and row.response_status is not None:
                return StoredResponse(row.response_status, row.response_body)
            if row.locked_until > now:
                raise IdempotencyKeyInUse()
            row.locked_until = now + LOCK
            return None

    async def finish(self, user_id: int, key: str, status: int, body: Any) -> None:
        async with self.db.transaction() as s:
            await s.execute(update(IdempotencyKeyRow).where(
                IdempotencyKeyRow.user_id == user_id, IdempotencyKeyRow.key == key)
                .values(status="done", response_status=status, response_body=body))

    async def release(self, user_id: int, key: str) -> None:
        async with self.db.transaction() as s:
            await s.execute(delete(IdempotencyKeyRow).where(
                IdempotencyKeyRow.user_id == user_id, IdempotencyKeyRow.key == key,
                IdempotencyKeyRow.status == "in_flight"))

    async def purge(self, now: datetime) -> int:
        """Delete keys older than 24 h; returns how many."""
        async with self.db.transaction() as s:
            res = await s.execute(delete(IdempotencyKeyRow)
                                  .where(IdempotencyKeyRow.created_at < now - RETENTION))
            return int(res.rowcount or 0)  # type: ignore[attr-defined]
