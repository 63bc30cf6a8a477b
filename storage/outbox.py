"""The e-mail outbox sender: rows written in the same transaction as the change they
announce (``storage.notifications``) are sent by a background task of every hub process.

Each row is claimed under ``FOR UPDATE SKIP LOCKED`` and marked sent in the same transaction
as its SMTP delivery, so two processes never send the same row. A failure is retried with
exponential backoff (2 s, 4 s, … capped at an hour); a row is never dropped. The message's
``Message-ID`` is derived from the row id, so the rare resend after a crash between the SMTP
acceptance and the commit can be recognised as a duplicate by mail systems.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.ports.mail import MailFacts
from storage.db import Database
from storage.mail_facts import mail_facts
from storage.models import OutboxRow

__all__ = ["MAX_BACKOFF", "Compose", "OutboxSender", "backoff", "plain_message"]

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=1)

Send = Callable[[EmailMessage], Awaitable[object]]
#: Builds the message of a row from its facts: ``(facts, sender, message_id) -> message``.
Compose = Callable[[MailFacts, str, str], EmailMessage]


def plain_message(facts: MailFacts, sender: str, message_id: str) -> EmailMessage:
    """The row as written: its stored subject and text body, to the account only."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = facts.to[0]
    msg["Subject"] = facts.subject
    msg["Message-ID"] = message_id
    msg.set_content(facts.body)
    return msg


def backoff(attempts: int) -> timedelta:
    """Delay before retry number ``attempts`` (1-based): 2^attempts seconds, at most 1 h."""
    return min(timedelta(seconds=2 ** min(attempts, 12)), MAX_BACKOFF)


class OutboxSender:
    """Sends due outbox rows through ``send`` (aiosmtplib in production); ``compose`` builds
    each message from the row's :class:`MailFacts` (:func:`plain_message` by default)."""

    def __init__(self, db: Database, send: Send, sender: str, domain: str = "evently.local",
                 compose: Compose = plain_message) -> None:
        self.db = db
        self.send = send
        self.sender = sender
        self.domain = domain
        self.compose = compose

    async def message(self, s: AsyncSession, row: OutboxRow) -> EmailMessage:
        """The message of ``row``; its ``Message-ID`` comes from the row id (see above)."""
        facts = await mail_facts(s, row)
        return self.compose(facts, self.sender, f"<outbox-{row.id}@{self.domain}>")

    async def send_due(self, now: datetime, batch: int = 20) -> int:
        """Send up to ``batch`` due rows, one transaction each; returns how many were sent."""
        sent = 0
        for _ in range(batch):
            async with self.db.transaction() as s:
                row = await s.scalar(
                    select(OutboxRow).where(OutboxRow.sent_at.is_(None),
                                            OutboxRow.next_attempt_at <= now)
                    .order_by(OutboxRow.id).limit(1).with_for_update(skip_locked=True))
                if row is None:
                    return sent
                try:
                    await self.send(await self.message(s, row))
                except Exception as exc:  # SMTP or network: retry later, never drop
                    row.attempts += 1
                    row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                    row.next_attempt_at = now + backoff(row.attempts)
                    log.warning("e-mail %d failed (attempt %d): %s", row.id, row.attempts, exc)
                    continue
                row.attempts += 1
                row.sent_at = now
                sent += 1
        return sent
