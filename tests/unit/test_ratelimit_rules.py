"""Which requests the rate-limit middleware counts, and under which rule."""

from __future__ import annotations

import pytest

from web.ratelimit import _rules_of


@pytest.mark.parametrize(("method", "path", "rule"), [
    ("PATCH", "/bookings/12", "bookings"),
    ("GET", "/bookings/12", None),
    ("DELETE", "/bookings/12", None),
    ("GET", "/admin/events/3/attendees.csv", "admin"),
    ("GET", "/admin/events/3/attendees", None),
    ("GET", "/me/events", None),
    ("POST", "/holds/x/confirm", "bookings"),
])
def test_user_rules(method: str, path: str, rule: str | None) -> None:
    assert _rules_of(method, path) == (None, rule)
