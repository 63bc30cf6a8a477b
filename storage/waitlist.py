"""Waitlist entries in PostgreSQL: join, leave, positions, and the promotion transaction.

Promotion of one event is serialised across every hub process by a transaction-scoped
advisory lock on the event (``pg_advisory_xact_lock``), so entries are offered in order and
each entry once; the seats themselves are handed out by the Redis ``offer`` script.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import AlreadyExists, EventInactive, NotFound
from hub.model import Notification, WaitlistEntry, WaitlistStatus
from storage.db import Database
from storage.models import EventRow, WaitlistRow
from storage.notifications import add_notification

__all__ = ["PgWaitlist", "Promotion"]

LOCK_SPACE = 7_412_002  # advisory lock key space of waitlist promotions


def _offer(row: WaitlistRow) -> dict[str, Any] | None:
    if row.status != "OFFERED" or not row.offer_hold_id:
        return None
    return {"hold_id": row.offer_hold_id, "expires_at": row.offer_expires_at}


def entry_from_row(row: WaitlistRow, position: int | None) -> WaitlistEntry:
    return WaitlistEntry(id=row.id, event_id=row.event_id, user_id=row.user_id, qty=row.qty,
                         position=position, status=WaitlistStatus(row.status),
                         created_at=row.created_at, offer=_offer(row))


async def _position(s: AsyncSession, row: WaitlistRow) -> int | None:
    """1 for the next in line; None unless WAITING."""
    if row.status != "WAITING":
        return None
    ahead = await s.scalar(select(func.count()).where(
        WaitlistRow.event_id == row.event_id, WaitlistRow.status == "WAITING",
        WaitlistRow.id < row.id))
    return int(ahead or 0) + 1


class Promotion:
    """:class:`hub.ports.PromotionTx`: one event's promotion, inside its transaction and
    advisory lock. Entries handed out by :meth:`waiting` are dataclasses; their rows stay here,
    found again by id."""

    def __init__(self, s: AsyncSession, event_id: int, email: bool) -> None:
        self.s = s
        self.event_id = event_id
        self.email = email
        self.notices: list[Notification] = []
        self._rows: dict[int, WaitlistRow] = {}

    async def settings(self) -> tuple[bool, int, bool]:
        """``(active, waitlist_offer_seconds, auto_promote)``. Raises: NotFound."""
        ev = await self.event()
        return ev.status == "active", ev.waitlist_offer_seconds, ev.auto_promote

    async def event(self) -> EventRow:
        row = await self.s.get(EventRow, self.event_id)
        if row is None:
            raise NotFound("No such event.")
        return row

    async def waiting(self) -> list[WaitlistEntry]:
        """The WAITING entries, oldest first, locked (``FOR UPDATE``); positions 1, 2, …"""
        rows = list((await self.s.scalars(
            select(WaitlistRow).where(WaitlistRow.event_id == self.event_id,
                                      WaitlistRow.status == "WAITING")
            .order_by(WaitlistRow.id).with_for_update())).all())
        self._rows.update((r.id, r) for r in rows)
        return [entry_from_row(r, i) for i, r in enumerate(rows, start=1)]

    async def _row(self, entry: WaitlistEntry) -> WaitlistRow:
        row = self._rows.get(entry.id)
        if row is None:
            row = await self.s.get(WaitlistRow, entry.id, with_for_update=True)
            if row is None:
                raise NotFound("No such waitlist entry.")
            self._rows[entry.id] = row
        return row

    async def notify(self, entry: WaitlistEntry, kind: str, payload: dict[str, Any],
                     now: datetime) -> None:
        self.notices.append(await add_notification(self.s, entry.user_id, kind, payload, now,
                                                   email=self.email))

    async def offered(self, entry: WaitlistEntry, hold_id: str, expires_at: datetime,
                      now: datetime) -> WaitlistEntry:
        row = await self._row(entry)
        row.status = WaitlistStatus(row.status).to(WaitlistStatus.OFFERED).value
        row.offer_hold_id, row.offer_expires_at, row.updated_at = hold_id, expires_at, now
        return entry_from_row(row, None)

    async def accepted(self, entry: WaitlistEntry, booking_id: int,
                       now: datetime) -> WaitlistEntry:
        row = await self._row(entry)
        row.status = WaitlistStatus(row.status).to(WaitlistStatus.ACCEPTED).value
        row.booking_id, row.updated_at = booking_id, now
        return entry_from_row(row, None)

    async def count_waiting(self) -> int:
        return int(await self.s.scalar(select(func.count()).where(
            WaitlistRow.event_id == self.event_id, WaitlistRow.status == "WAITING")) or 0)


class PgWaitlist:
    """:class:`hub.ports.WaitlistStore` on a real PostgreSQL (``email``: write an e-mail
    outbox row with each notification)."""

    def __init__(self, db: Database, email: bool = False) -> None:
        self.db = db
        self.email = email

    @asynccontextmanager
    async def promotion(self, event_id: int) -> AsyncIterator[Promotion]:
        """A transaction holding the event's promotion lock (released at commit)."""
        async with self.db.transaction() as s:
            await s.execute(text("SELECT pg_advisory_xact_lock(:space, :event)"),
                            {"space": LOCK_SPACE, "event": event_id})
            yield Promotion(s, event_id, self.email)

    async def join(self, event_id: int, user_id: int, qty: int,
                   now: datetime) -> tuple[WaitlistEntry, int]:
        """A WAITING entry; returns it and the number of entries now waiting.

        Raises: NotFound, EventInactive, AlreadyExists (the user already waits for it).
        """
        try:
            async with self.promotion(event_id) as p:
                ev = await p.event()
                if ev.status != "active":
                    raise EventInactive()
                row = WaitlistRow(event_id=event_id, user_id=user_id, qty=qty,
                                  status="WAITING", created_at=now, updated_at=now)
                p.s.add(row)
                await p.s.flush()
                return entry_from_row(row, await _position(p.s, row)), await p.count_waiting()
        except IntegrityError as exc:
            raise AlreadyExists("You are already on this event's waitlist.") from exc

    async def get(self, entry_id: int) -> WaitlistEntry:
        """Raises: NotFound."""
        async with self.db.transaction() as s:
            row = await s.get(WaitlistRow, entry_id)
            if row is None:
                raise NotFound("No such waitlist entry.")
            return entry_from_row(row, await _position(s, row))

    async def for_user(self, user_id: int) -> list[WaitlistEntry]:
        async with self.db.transaction() as s:
            rows = (await s.scalars(select(WaitlistRow).where(WaitlistRow.user_id == user_id)
                                    .order_by(WaitlistRow.id.desc()))).all()
            return [entry_from_row(r, await _position(s, r)) for r in rows]

    async def leave(self, entry_id: int, now: datetime) -> tuple[WaitlistEntry, str | None, int]:
        """WAITING/OFFERED → LEFT. Returns the entry, the open offer's hold id (to release),
        and the number still waiting. Leaving twice changes nothing. Raises: NotFound."""
        async with self.db.transaction() as s:
            event_id = await s.scalar(select(WaitlistRow.event_id)
                                      .where(WaitlistRow.id == entry_id))
            if event_id is None:
                raise NotFound("No such waitlist entry.")
        async with self.promotion(event_id) as p:
            row = await p.s.get(WaitlistRow, entry_id, with_for_update=True)
            assert row is not None
            hold_id = row.offer_hold_id if row.status == "OFFERED" else None
            if row.status in ("WAITING", "OFFERED"):
                row.status = WaitlistStatus(row.status).to(WaitlistStatus.LEFT).value
                row.updated_at = now
            return entry_from_row(row, None), hold_id, await p.count_waiting()

    async def offer_ended(self, entry_id: int, hold_id: str, now: datetime, *,
                          booking_id: int | None) -> tuple[WaitlistEntry, Notification] | None:
        """An offer was confirmed (``booking_id``) or lapsed: OFFERED → ACCEPTED | EXPIRED,
        with its notification. None when the entry had moved on (left, or another offer)."""
        async with self.db.transaction() as s:
            row = await s.get(WaitlistRow, entry_id, with_for_update=True)
            if row is None or row.status != "OFFERED" or row.offer_hold_id != hold_id:
                return None
            if booking_id is not None:
                row.status = WaitlistStatus.OFFERED.to(WaitlistStatus.ACCEPTED).value
                row.booking_id = booking_id
                kind = "waitlist.accepted"
            else:
                row.status = WaitlistStatus.OFFERED.to(WaitlistStatus.EXPIRED).value
                kind = "waitlist.expired"
            row.updated_at = now
            note = await add_notification(
                s, row.user_id, kind, {"entry_id": row.id, "event_id": row.event_id,
                                       "hold_id": hold_id, "booking_id": booking_id},
                now, email=self.email and booking_id is None)
            return entry_from_row(row, None), note

    async def waiting_count(self, event_id: int) -> int:
        async with self.db.transaction() as s:
            return int(await s.scalar(select(func.count()).where(
                WaitlistRow.event_id == event_id, WaitlistRow.status == "WAITING")) or 0)
