"""Wire forms of domain records (CONTRACT.md §2-3): the one place JSON shapes are made."""

from __future__ import annotations

from typing import Any

from hub.model import Booking, Event, Hold, Seat, User
from hub.ports import Snapshot, SweptHold

__all__ = ["booking", "event", "hold", "hold_expired", "seat", "snapshot", "user"]


def user(u: User) -> dict[str, Any]:
    return {"id": u.id, "name": u.name, "email": u.email, "role": str(u.role),
            "created_at": u.created_at}


def event(e: Event) -> dict[str, Any]:
    return {
        "id": e.id, "name": e.name, "venue": e.venue, "start_time": e.start_time,
        "end_time": e.end_time, "status": str(e.status), "capacity": e.capacity,
        "booked_count": e.booked_count, "held_count": e.held_count,
        "available_count": e.available_count, "waitlisted_count": e.waitlisted_count,
        "hold_ttl_seconds": e.hold_ttl_seconds,
        "waitlist_offer_seconds": e.waitlist_offer_seconds, "auto_promote": e.auto_promote,
        "organizer_id": e.organizer_id, "created_at": e.created_at,
    }


def seat(s: Seat) -> dict[str, Any]:
    return {"id": s.id, "label": s.label, "section": s.section, "row": s.row,
            "number": s.number, "status": str(s.status)}


def hold(h: Hold) -> dict[str, Any]:
    return {"hold_id": h.hold_id, "event_id": h.event_id, "seat_ids": h.seat_ids,
            "labels": h.labels, "created_at": h.created_at, "expires_at": h.expires_at}


def booking(b: Booking) -> dict[str, Any]:
    return {"id": b.id, "event_id": b.event_id, "user_id": b.user_id, "qty": b.qty,
            "seat_ids": b.seat_ids, "seats": b.seats, "status": str(b.status),
            "guest": b.guest, "created_at": b.created_at, "cancelled_at": b.cancelled_at}


def snapshot(s: Snapshot) -> dict[str, Any]:
    return {"type": "snapshot", "event_id": s.event_id, "epoch": s.epoch, "seq": s.seq,
            "seats": {"available": s.available, "held": s.held, "sold": s.sold}}


def hold_expired(s: SweptHold) -> dict[str, Any]:
    return {"hold_id": s.hold_id, "event_id": s.event_id, "seat_ids": s.seat_ids}
