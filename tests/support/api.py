"""Helpers for talking to a test hub over its public REST contract."""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["PASSWORD", "auth", "server_map"]

PASSWORD = "correct-horse-9"  # every account the tests create signs up with this


def auth(token: str) -> dict[str, str]:
    """The ``Authorization: Bearer`` header of an access token."""
    return {"Authorization": f"Bearer {token}"}


def server_map(hub: Any, event_id: int) -> dict[int, str]:
    """``GET /events/{id}/seats`` of ``hub`` as seat_id → status."""
    seats = httpx.get(hub.url + f"/events/{event_id}/seats").json()["seats"]
    return {s["id"]: s["status"] for s in seats}
