import pytest

from hub import errors
from hub.model import BookingStatus, IllegalTransition, WaitlistStatus


def test_booking_cancels_once() -> None:
    assert BookingStatus.CONFIRMED.to(BookingStatus.CANCELLED) is BookingStatus.CANCELLED
    with pytest.raises(IllegalTransition):
        BookingStatus.CANCELLED.to(BookingStatus.CONFIRMED)
    with pytest.raises(IllegalTransition):
        BookingStatus.CANCELLED.to(BookingStatus.CANCELLED)


@pytest.mark.parametrize(("old", "new", "ok"), [
    ("WAITING", "OFFERED", True), ("OFFERED", "ACCEPTED", True), ("OFFERED", "EXPIRED", True),
    ("WAITING", "LEFT", True), ("OFFERED", "LEFT", True), ("WAITING", "ACCEPTED", True),
    ("EXPIRED", "OFFERED", False), ("ACCEPTED", "LEFT", False), ("LEFT", "WAITING", False),
    ("WAITING", "EXPIRED", False),
])
def test_waitlist_transitions(old: str, new: str, ok: bool) -> None:
    if ok:
        assert WaitlistStatus(old).to(WaitlistStatus(new)) == new
    else:
        with pytest.raises(IllegalTransition):
            WaitlistStatus(old).to(WaitlistStatus(new))


def test_every_contract_code_has_one_error_class_with_its_status() -> None:
    expected = {
        "BAD_REQUEST": 400, "UNAUTHENTICATED": 401, "TOKEN_EXPIRED": 401, "TOKEN_REVOKED": 401,
        "INVALID_CREDENTIALS": 401, "FORBIDDEN": 403, "NOT_FOUND": 404, "SEAT_UNAVAILABLE": 409,
        "NOT_ENOUGH_SEATS": 409, "SOLD_OUT": 409, "HOLD_EXPIRED": 409, "EVENT_INACTIVE": 409,
        "CAPACITY_BELOW_SOLD": 409, "EVENT_HAS_BOOKINGS": 409, "IDEMPOTENCY_KEY_IN_USE": 409,
        "ALREADY_EXISTS": 409, "VALIDATION_ERROR": 422, "IDEMPOTENCY_KEY_REUSED": 422,
        "RATE_LIMITED": 429, "HOLD_LIMIT": 429, "UNAVAILABLE": 503,
    }
    for code, status in expected.items():
        err = errors.error_for_code(code)
        assert (err.code, err.status) == (code, status)
        assert isinstance(err, errors.Evently)


def test_seat_unavailable_carries_sorted_seat_ids() -> None:
    err = errors.error_for_code("SEAT_UNAVAILABLE", seat_ids=[9, 3])
    assert isinstance(err, errors.SeatUnavailable)
    assert err.seat_ids == [3, 9] and err.details == {"seat_ids": [3, 9]}
