"""State shared by every simulated user of one Locust process, and the ledger writes.

One :data:`STATE` per process: the settings, the account pool, the event under test, the hosts
to spread users over, the venue layout (fetched once) and the wind-down flag the shape raises.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import requests
from gevent.event import Event
from gevent.lock import Semaphore

from loadtest.accounts import Account, AccountPool
from loadtest.config import Settings
from loadtest.ledger import Ledger
from loadtest.wsclient import SeatMap

__all__ = [
    "CONFIRM_RACE",
    "HOLD_RACE",
    "STATE",
    "Layout",
    "RunState",
    "load_layout",
    "record_booking",
    "record_map",
    "request_fire",
]

# Losing a race is the system working; these codes are counted as named successes.
HOLD_RACE = ("SEAT_UNAVAILABLE", "NOT_ENOUGH_SEATS", "SOLD_OUT", "HOLD_LIMIT")
CONFIRM_RACE = ("HOLD_EXPIRED", "SEAT_UNAVAILABLE")


@dataclass
class Layout:
    """The venue as the pickers see it: rows of seat ids in seat-number order."""

    rows: dict[tuple[str, str], list[int]]  # (section, row) → seat ids by number
    hot_rows: list[tuple[str, str]]
    all_rows: list[tuple[str, str]]


@dataclass
class RunState:
    """Per-process state shared by all users of one Locust process."""

    settings: Settings | None = None
    ledger: Ledger | None = None
    pool: AccountPool | None = None
    admin: Account | None = None
    event_id: int = 0
    hosts: list[str] = field(default_factory=list)
    wind_down: Event = field(default_factory=Event)
    layout: Layout | None = None
    layout_lock: Semaphore = field(default_factory=Semaphore)
    host_counter: itertools.count[int] = field(default_factory=itertools.count)

    def next_host(self, default: str) -> str:
        """The next base URL round-robin over ``hosts`` (``default`` when there are none)."""
        hosts = self.hosts or [default]
        return hosts[next(self.host_counter) % len(hosts)]


STATE = RunState()


def request_fire(environment: Any) -> Any:
    """Locust's ``request`` event hook of ``environment`` (how WsSession reports timings)."""
    return environment.events.request.fire


def load_layout(base_url: str) -> Layout:
    """Fetch ``GET /events/{id}/seats`` once per process and group it into rows."""
    with STATE.layout_lock:
        if STATE.layout is not None:
            return STATE.layout
        assert STATE.settings is not None
        r = requests.get(f"{base_url}/events/{STATE.event_id}/seats", timeout=30)
        r.raise_for_status()
        seats = r.json()["seats"]
        rows: dict[tuple[str, str], list[tuple[int, int]]] = {}
        sections: list[str] = []
        for seat in sorted(seats, key=lambda s: s["id"]):
            section = str(seat.get("section") or "")
            if section not in sections:
                sections.append(section)
            key = (section, str(seat.get("row") or ""))
            rows.setdefault(key, []).append((int(seat.get("number") or 0), int(seat["id"])))
        hot = set(sections[: STATE.settings.hot_sections])
        ordered = {k: [sid for _, sid in sorted(v)] for k, v in rows.items()}
        STATE.layout = Layout(
            rows=ordered,
            hot_rows=[k for k in ordered if k[0] in hot],
            all_rows=list(ordered),
        )
        return STATE.layout


def record_map(client: str, seat_map: SeatMap | None) -> None:
    """Write a client's final seat map to the ledger (skipped before its first snapshot)."""
    if STATE.ledger is None or seat_map is None or not seat_map.ready:
        return
    STATE.ledger.write(
        "map",
        client=client,
        event_id=seat_map.event_id,
        epoch=seat_map.epoch,
        seq=seat_map.seq,
        seats={str(k): v for k, v in seat_map.statuses.items()},
        gaps=seat_map.gaps,
        resyncs=seat_map.resyncs,
    )


def record_booking(booking: dict[str, Any], email: str, via: str) -> None:
    """Append one confirmed booking (``via`` ``"ws"`` or ``"rest"``) to the ledger."""
    if STATE.ledger is None:
        return
    STATE.ledger.write(
        "confirmed",
        booking_id=booking.get("id"),
        event_id=booking.get("event_id", STATE.event_id),
        seat_ids=booking.get("seat_ids", []),
        email=email,
        via=via,
    )
