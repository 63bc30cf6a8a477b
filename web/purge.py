"""The periodic purge of tables that only grow: spent idempotency keys (kept 24 h,
storage/idempotency.py ``RETENTION``) and dead refresh tokens (past their expiry,
storage/tokens.py). Every hub process runs it; the deletes are idempotent, so several
processes purging at once only repeat each other's work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from storage.idempotency import IdempotencyStore
from storage.tokens import RefreshStore

__all__ = ["FIRST_DELAY_SECONDS", "INTERVAL_SECONDS", "Purged", "purge_loop", "purge_once"]

log = logging.getLogger(__name__)

FIRST_DELAY_SECONDS = 60.0  # not in the way of start-up
INTERVAL_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class Purged:
    """Rows deleted by one pass."""

    idempotency_keys: int
    refresh_tokens: int


async def purge_once(idempotency: IdempotencyStore, refresh: RefreshStore,
                     now: datetime) -> Purged:
    """Delete idempotency keys older than 24 h and refresh tokens expired before ``now``."""
    return Purged(await idempotency.purge(now), await refresh.purge(now))


async def purge_loop(idempotency: IdempotencyStore, refresh: RefreshStore,
                     clock: Callable[[], datetime], interval: float = INTERVAL_SECONDS,
                     first_delay: float = FIRST_DELAY_SECONDS) -> None:
    """Run :func:`purge_once` after ``first_delay`` seconds, then every ``interval`` seconds,
    until cancelled. A failed pass (a store down) is logged and tried again next time."""
    await asyncio.sleep(first_delay)
    while True:
        try:
            purged = await purge_once(idempotency, refresh, clock())
            if purged.idempotency_keys or purged.refresh_tokens:
                log.info("purged %d idempotency keys and %d refresh tokens",
                         purged.idempotency_keys, purged.refresh_tokens)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("purge pass failed; trying again in %.0f s", interval)
        await asyncio.sleep(interval)
