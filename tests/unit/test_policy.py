from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from hub.errors import Forbidden
from hub.model import Booking, BookingStatus, Event, EventStatus, Role
from hub.policy import (
    can_manage_event,
    require_booking_canceller,
    require_booking_reader,
    require_event_creator,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class A:
    id: int
    role: Role


def event(organizer: int) -> Event:
    return Event(1, "E", "V", NOW, NOW, EventStatus.ACTIVE, 10, 300, 600, False, organizer, NOW)


BOOKING = Booking(7, 1, 5, [1], ["A1"], BookingStatus.CONFIRMED, NOW)


def test_organizers_manage_only_their_events_admins_all() -> None:
    assert can_manage_event(A(2, Role.ORGANIZER), event(2))
    assert not can_manage_event(A(3, Role.ORGANIZER), event(2))
    assert can_manage_event(A(9, Role.ADMIN), event(2))
    assert not can_manage_event(A(2, Role.USER), event(2))


def test_booking_readers_and_cancellers() -> None:
    require_booking_reader(A(5, Role.USER), BOOKING, event(2))
    require_booking_reader(A(2, Role.ORGANIZER), BOOKING, event(2))
    with pytest.raises(Forbidden):
        require_booking_reader(A(6, Role.USER), BOOKING, event(2))
    require_booking_canceller(A(9, Role.ADMIN), BOOKING)
    with pytest.raises(Forbidden):
        require_booking_canceller(A(2, Role.ORGANIZER), BOOKING)


def test_users_cannot_create_events() -> None:
    with pytest.raises(Forbidden):
        require_event_creator(A(1, Role.USER))
    require_event_creator(A(1, Role.ORGANIZER))
