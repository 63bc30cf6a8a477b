"""Who may do what: object-level authorization rules, pure functions of the actor and object.

Every id a client sends is checked with one of these before anything is read back or changed.
A user asking for another user's object gets ``FORBIDDEN`` (the id space of bookings is
sequential, so hiding existence would buy nothing); a hold id that does not parse or does not
exist is ``NOT_FOUND``.
"""

from __future__ import annotations

from hub.errors import Forbidden
from hub.model import Actor, Booking, Event, Role

__all__ = [
    "can_manage_event",
    "require_admin",
    "require_booking_canceller",
    "require_booking_reader",
    "require_event_creator",
    "require_event_manager",
    "require_owner",
]


def can_manage_event(user: Actor, event: Event) -> bool:
    """Admins manage every event; organizers only the ones they own."""
    if user.role is Role.ADMIN:
        return True
    return user.role is Role.ORGANIZER and event.organizer_id == user.id


def require_admin(user: Actor) -> None:
    """Raises: Forbidden: the user is not an admin."""
    if user.role is not Role.ADMIN:
        raise Forbidden("Admins only.")


def require_event_creator(user: Actor) -> None:
    """Raises: Forbidden: only organizers and admins create events."""
    if user.role not in (Role.ADMIN, Role.ORGANIZER):
        raise Forbidden("Organizers and admins only.")


def require_event_manager(user: Actor, event: Event) -> None:
    """Raises: Forbidden: the user neither is an admin nor owns the event."""
    if not can_manage_event(user, event):
        raise Forbidden("You do not manage this event.")


def require_owner(user: Actor, owner_id: int) -> None:
    """Raises: Forbidden: the object belongs to somebody else."""
    if user.id != owner_id:
        raise Forbidden("That belongs to another user.")


def require_booking_reader(user: Actor, booking: Booking, event: Event) -> None:
    """Owner, admin, or the event's organizer may read a booking.

    Raises: Forbidden.
    """
    if user.id == booking.user_id or can_manage_event(user, event):
        return
    raise Forbidden("That booking belongs to another user.")


def require_booking_canceller(user: Actor, booking: Booking) -> None:
    """Owner or admin may cancel a booking (CONTRACT §2 ``DELETE /bookings/{id}``).

    Raises: Forbidden.
    """
    if user.id == booking.user_id or user.role is Role.ADMIN:
        return
    raise Forbidden("That booking belongs to another user.")
