"""A real local SMTP server (aiosmtpd) that keeps what it receives, for e-mail tests."""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.servers import free_port
from tests.support.stores import timing

__all__ = ["Mailbox", "mailbox"]


class Mailbox:
    """Messages received, parsed (``EmailMessage``), with their envelope recipients."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        """Messages whose envelope names ``address`` (case-insensitive)."""
        return [m for rcpts, m in self.received if address.lower() in
                (r.lower() for r in rcpts)]

    def wait_for(self, address: str, count: int = 1, seconds: float = 10) -> list[EmailMessage]:
        """Wait until ``count`` messages reached ``address``; returns them."""
        deadline = time.monotonic() + timing(seconds)
        while len(self.to(address)) < count:
            assert time.monotonic() < deadline, f"no mail to {address} after {seconds}s"
            time.sleep(0.1)
        return self.to(address)


@contextmanager
def mailbox() -> Iterator[Mailbox]:
    """An SMTP server on a free 127.0.0.1 port (``.port``), stopped on exit."""
    box = Mailbox()
    box.port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
