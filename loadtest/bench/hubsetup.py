"""What the hub-side benchmarks need from a running hub: prepared accounts and a fresh event.

Accounts come from ``LT_TOKENS_FILE`` (``python -m loadtest.prepare --users N --admin-email …``);
the admin among them creates each benchmark's event over REST (``POST /admin/events``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from loadtest.accounts import Account, TokenFile, read_token_file
from loadtest.config import load_settings

__all__ = ["available_seats", "create_event", "tokens"]


def tokens() -> TokenFile:
    """The prepared accounts; exits with a hint when there is no admin among them."""
    file = read_token_file(load_settings().tokens_file)
    if file.admin is None:
        raise SystemExit("benchmarks need an admin: run loadtest.prepare with --admin-email")
    if not all(a.fresh_for(120) for a in [file.admin, *file.users]):
        raise SystemExit("prepared tokens expire within 2 minutes: run loadtest.prepare again")
    return file


def create_event(host: str, admin: Account, name: str, seats: int) -> dict[str, Any]:
    """A new active event of ``seats`` seats (rows of 25 in one section); the Event JSON."""
    start = datetime.now(UTC) + timedelta(days=60)
    rows = -(-seats // 25)
    body = {
        "name": name,
        "venue": "Benchmark Hall",
        "start_time": start.isoformat(),
        "end_time": (start + timedelta(hours=2)).isoformat(),
        "seat_map": {"sections": [{"name": "Bench", "rows": rows, "seats_per_row": 25}]},
    }
    r = httpx.post(
        f"{host}/admin/events",
        content=orjson.dumps(body),
        headers={**admin.auth_header, "content-type": "application/json"},
        timeout=60,
    )
    if r.status_code != 201:
        raise SystemExit(f"create event: {r.status_code} {r.text[:300]}")
    return dict(r.json())


def available_seats(host: str, event_id: int) -> list[int]:
    """Ids of the event's available seats, in id order."""
    body = httpx.get(f"{host}/events/{event_id}/seats", timeout=60).json()
    return sorted(s["id"] for s in body["seats"] if s["status"] == "available")
