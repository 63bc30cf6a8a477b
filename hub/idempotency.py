"""Idempotent commands (the ``Idempotency-Key`` of CONTRACT §2, Stripe's semantics): the one
claim → run → store sequence for REST and WebSocket alike.

A key belongs to one user. The first request with a key runs; a retry with the same key and
the same request (its fingerprint) replays the stored answer; the same key with another
request is ``IDEMPOTENCY_KEY_REUSED``; a retry while the first still runs is
``IDEMPOTENCY_KEY_IN_USE``. Keys are kept 24 hours (``storage.idempotency``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import orjson

from hub.ports.runtime import IdempotencyKeys

__all__ = ["IdempotencyService"]


class IdempotencyService:
    """Runs a command at most once per (user, key)."""

    def __init__(self, keys: IdempotencyKeys) -> None:
        self.keys = keys

    async def run_once(self, user_id: int, key: str, fingerprint: str,
                       run: Callable[[], Awaitable[tuple[int, Any]]],
                       now: datetime) -> tuple[int, Any, bool]:
        """Returns ``(status, body, replayed)``; ``body`` is plain JSON (as stored).

        A failed ``run`` releases the key. Raises: IdempotencyKeyReused, IdempotencyKeyInUse,
        and whatever ``run`` raises.
        """
        stored = await self.keys.begin(user_id, key, fingerprint, now)
        if stored is not None:
            return stored.status, stored.body, True
        try:
            status, body = await run()
        except BaseException:
            await self.keys.release(user_id, key)
            raise
        body = orjson.loads(orjson.dumps(body))
        await self.keys.finish(user_id, key, status, body)
        return status, body, False

    async def purge(self, now: datetime) -> int:
        """Delete the keys past their 24 h retention at ``now`` (any state); returns how
        many. Idempotent: processes purging at once only repeat each other's work."""
        return await self.keys.purge(now)
