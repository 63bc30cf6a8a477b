"""The waitlist store port: entries in PostgreSQL (``storage.waitlist``).

Entries are :class:`~hub.model.WaitlistEntry` records; ``qty`` counts seats, ``position`` is
1 for the next in line (None unless WAITING).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from hub.model import Notification, WaitlistEntry

__all__ = ["PromotionTx", "WaitlistStore"]


class PromotionTx(Protocol):
    """One event's waitlist promotion inside a PostgreSQL transaction that holds the event's
    promotion lock (so entries are offered in order, each once, across every process).

    ``notices`` collects the notifications written in the transaction, to push after commit.
    """

    notices: list[Notification]

    async def settings(self) -> tuple[bool, int, bool]:
        """``(active, waitlist_offer_seconds, auto_promote)`` of the event. Raises: NotFound."""
        ...

    async def waiting(self) -> list[WaitlistEntry]:
        """The WAITING entries, oldest first, locked for this transaction."""
        ...

    async def offered(self, entry: WaitlistEntry, hold_id: str, expires_at: datetime,
                      now: datetime) -> WaitlistEntry:
        """WAITING → OFFERED with the offer's hold id and lease end."""
        ...

    async def accepted(self, entry: WaitlistEntry, booking_id: int,
                       now: datetime) -> WaitlistEntry:
        """→ ACCEPTED with the booking made for it (``auto_promote``)."""
        ...

    async def notify(self, entry: WaitlistEntry, kind: str, payload: dict[str, Any],
                     now: datetime) -> None:
        """Write a notification of ``kind`` (e.g. ``waitlist.offered``) to the entry's user;
        it is appended to :attr:`notices`."""
        ...

    async def count_waiting(self) -> int:
        """Entries of the event still WAITING."""
        ...


class WaitlistStore(Protocol):
    """Waitlist entries (PostgreSQL)."""

    def promotion(self, event_id: int) -> AbstractAsyncContextManager[PromotionTx]:
        """A transaction holding the event's promotion lock (released at commit)."""
        ...

    async def join(self, event_id: int, user_id: int, qty: int,
                   now: datetime) -> tuple[WaitlistEntry, int]:
        """A WAITING entry for ``qty`` seats, and the number of entries now waiting.
        Raises: NotFound, EventInactive, AlreadyExists (the user already waits for it)."""
        ...

    async def get(self, entry_id: int) -> WaitlistEntry:
        """The entry with its live position. Raises: NotFound."""
        ...

    async def for_user(self, user_id: int) -> list[WaitlistEntry]:
        """The user's entries, newest first, with live positions."""
        ...

    async def leave(self, entry_id: int,
                    now: datetime) -> tuple[WaitlistEntry, str | None, int]:
        """WAITING/OFFERED → LEFT: the entry, the open offer's hold id (to release) and the
        number still waiting. Leaving twice changes nothing. Raises: NotFound."""
        ...

    async def offer_ended(self, entry_id: int, hold_id: str, now: datetime, *,
                          booking_id: int | None) -> tuple[WaitlistEntry, Notification] | None:
        """The offer ``hold_id`` was confirmed (``booking_id``) or lapsed (None): OFFERED →
        ACCEPTED | EXPIRED with its notification; None when the entry had moved on."""
        ...
