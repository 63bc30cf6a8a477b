"""The guest list as CSV (``GET /admin/events/{id}/attendees.csv``), RFC 4180 quoting by the
standard ``csv`` module.

Spreadsheet formula injection (OWASP "CSV Injection"): a cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return would be run as a formula by Excel or LibreOffice, so
such text is prefixed with a single quote. Names and e-mails come from users, so every text
cell goes through :func:`safe_cell`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from hub.model import Attendee

__all__ = ["HEADER", "attendees_csv", "safe_cell"]

HEADER = ("booking_id", "status", "created_at", "qty", "seats", "user_id", "user_name",
          "user_email", "guest_name", "guest_email")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """``value`` as CSV text that a spreadsheet will not evaluate."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def attendees_csv(attendees: Iterable[Attendee]) -> str:
    """One header line, then one line per booking (seat labels separated by spaces); CRLF
    line ends as RFC 4180 says."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for a in attendees:
        b, guest = a.booking, a.booking.guest or {}
        writer.writerow([b.id, str(b.status), b.created_at.isoformat(), b.qty,
                         *(safe_cell(v) for v in (
                             " ".join(b.seats), a.user.id, a.user.name, a.user.email,
                             guest.get("name"), guest.get("email")))])
    return out.getvalue()
