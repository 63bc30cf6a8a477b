"""Wire forms of domain records (CONTRACT.md §2-3): the one place JSON shapes are made."""

from __future__ import annotations

from typing import Any

from hub.model import Attendee, Booking, Event, Hold, Notification, Seat, User, WaitlistEntry
from hub.ports import AuditEntry, OrganizerRequest, Snapshot, SweptHold
from hub.ports.people import Person
from hub.sessions import TokenPair
from hub.settlement import HoldOutcome

__all__ = ["booking", "event", "event_figures", "hold", "hold_expired", "hold_status",
           "notification", "person", "seat", "snapshot", "user", "waitlist_entry"]


def user(u: User) -> dict[str, Any]:
    return {"id": u.id, "name": u.name, "email": u.email, "role": str(u.role),
            "created_at": u.created_at}


def event(e: Event) -> dict[str, Any]:
    return {
        "id": e.id, "name": e.name, "venue": e.venue, "start_time": e.start_time,
        "end_time": e.end_time, "timezone": e.timezone, "status": str(e.status),
        "capacity": e.capacity,
        "booked_count": e.booked_count, "held_count": e.held_count,
        "available_count": e.available_count, "waitlisted_count": e.waitlisted_count,
        "hold_ttl_seconds": e.hold_ttl_seconds,
        "waitlist_offer_seconds": e.waitlist_offer_seconds, "auto_promote": e.auto_promote,
        "organizer_id": e.organizer_id, "created_at": e.created_at,
    }


def event_figures(e: Event) -> dict[str, Any]:
    """An event with an organizer's figures (``GET /me/events``): :func:`event` plus
    ``sold``, ``held``, ``available``, ``waitlisted`` (seats) and ``utilization`` (sold /
    capacity, 0..1)."""
    return {**event(e), "sold": e.booked_count, "held": e.held_count,
            "available": e.available_count, "waitlisted": e.waitlisted_count,
            "utilization": round(e.booked_count / e.capacity, 4) if e.capacity else 0.0}


def seat(s: Seat) -> dict[str, Any]:
    return {"id": s.id, "label": s.label, "section": s.section, "row": s.row,
            "number": s.number, "status": str(s.status)}


def hold(h: Hold) -> dict[str, Any]:
    return {"hold_id": h.hold_id, "event_id": h.event_id, "seat_ids": h.seat_ids,
            "labels": h.labels, "created_at": h.created_at, "expires_at": h.expires_at}


def hold_status(h: Hold | None, outcome: HoldOutcome | None) -> dict[str, Any]:
    """``GET /holds/{id}``: a live hold with its ``status`` ("active" | "confirming"), or how
    an ended one ended: ``{hold_id, event_id, status: "confirmed", booking_id, booking}`` or
    ``{hold_id, event_id, status: "released" | "expired"}``."""
    if h is not None:
        return {**hold(h), "status": h.state}
    assert outcome is not None
    out: dict[str, Any] = {"hold_id": outcome.hold_id,
                           "event_id": int(outcome.hold_id.partition(".")[0]),
                           "status": outcome.status}
    if outcome.booking is not None:
        out["booking_id"] = outcome.booking.id
        out["booking"] = booking(outcome.booking)
    return out


def booking(b: Booking) -> dict[str, Any]:
    return {"id": b.id, "event_id": b.event_id, "user_id": b.user_id, "qty": b.qty,
            "seat_ids": b.seat_ids, "seats": b.seats, "status": str(b.status),
            "guest": b.guest, "created_at": b.created_at, "cancelled_at": b.cancelled_at}


def snapshot(s: Snapshot) -> dict[str, Any]:
    return {"type": "snapshot", "event_id": s.event_id, "epoch": s.epoch, "seq": s.seq,
            "seats": {"available": s.available, "held": s.held, "sold": s.sold}}


def hold_expired(s: SweptHold) -> dict[str, Any]:
    return {"hold_id": s.hold_id, "event_id": s.event_id, "seat_ids": s.seat_ids}


def waitlist_entry(w: WaitlistEntry) -> dict[str, Any]:
    return {"id": w.id, "event_id": w.event_id, "user_id": w.user_id, "qty": w.qty,
            "position": w.position, "status": str(w.status), "offer": w.offer,
            "created_at": w.created_at}


def notification(n: Notification) -> dict[str, Any]:
    return {"id": n.id, "kind": n.kind, "payload": n.payload, "created_at": n.created_at,
            "read_at": n.read_at}


# -- accounts, event administration, paging (CONTRACT §2 /admin/*) ----------------------------

__all__ += ["admin_user", "attendee", "audit_entry", "organizer_request", "page"]


def page(items: list[dict[str, Any]], total: int, number: int, size: int) -> dict[str, Any]:
    """A page of a listing: ``{items, total, page, page_size}`` (``total`` counts every match)."""
    return {"items": items, "total": total, "page": number, "page_size": size}


def admin_user(u: User) -> dict[str, Any]:
    """A user as admins see it: :func:`user` plus ``banned`` and ``last_login_at``."""
    return {**user(u), "banned": u.banned, "last_login_at": u.last_login_at}


def organizer_request(r: OrganizerRequest) -> dict[str, Any]:
    """``GET /admin/organizer-requests`` items."""
    return {"id": r.id, "user_id": r.user_id, "name": r.user_name, "email": r.user_email,
            "status": r.status, "created_at": r.created_at, "decided_at": r.decided_at,
            "decided_by": r.decided_by}


def audit_entry(e: AuditEntry) -> dict[str, Any]:
    """``GET /admin/audit`` items."""
    return {"id": e.id, "at": e.at, "actor_id": e.actor_id, "actor_role": e.actor_role,
            "action": e.action, "event_id": e.event_id, "target_user_id": e.target_user_id,
            "details": e.details}


def person(p: Person) -> dict[str, Any]:
    """An account with its stats (``GET /admin/users`` rows and ``/admin/users/{id}``):
    :func:`admin_user` plus ``bookings``, ``seats``, ``cancellations``,
    ``events_organized`` and ``last_login_at`` (null when never recorded)."""
    st = p.stats
    return {**admin_user(p.user), "bookings": st.bookings, "seats": st.seats,
            "cancellations": st.cancellations, "events_organized": st.events_organized,
            "last_login_at": st.last_login_at}


def attendee(a: Attendee) -> dict[str, Any]:
    """A guest-list line: the booking, who booked it, and the guest it names (if any)."""
    b = a.booking
    return {"booking_id": b.id, "status": str(b.status), "qty": b.qty, "seat_ids": b.seat_ids,
            "seats": b.seats, "guest": b.guest, "created_at": b.created_at,
            "user": {"id": a.user.id, "name": a.user.name, "email": a.user.email}}


__all__ += ["token_pair"]


def token_pair(p: TokenPair) -> dict[str, Any]:
    """``{access_token, refresh_token, token_type: "bearer", expires_in}`` (seconds)."""
    return {"access_token": p.access_token, "refresh_token": p.refresh_token,
            "token_type": p.token_type, "expires_in": p.expires_in}
