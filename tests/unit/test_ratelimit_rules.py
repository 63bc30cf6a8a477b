"""The one per-user rate-limit table covers the same actions over REST and WebSocket, each with
a setting, and the REST routes it names exist."""

from __future__ import annotations

import re

import pytest

from storage.settings import Settings
from web.app import create_app
from web.ratelimit import RULES, USER_ACTIONS, WS_RULES, _rules_of
from web.ws_ops import OPS


def test_every_rule_has_a_setting_and_every_ws_op_exists() -> None:
    for rule, _, _, op in USER_ACTIONS:
        assert hasattr(Settings(), RULES[rule])
        assert op is None or op in OPS
    assert set(WS_RULES) == {"hold", "confirm", "extend", "release", "cancel",
                             "booking.update", "waitlist.join", "waitlist.leave"}


@pytest.mark.parametrize(("method", "path", "rule"), [
    ("POST", "/events/3/holds", "holds"),
    ("POST", "/events/3/book", "bookings"),
    ("POST", "/holds/3.abcdefgh/confirm", "bookings"),
    ("POST", "/holds/3.abcdefgh/extend", "hold_changes"),
    ("DELETE", "/holds/3.abcdefgh", "hold_changes"),
    ("DELETE", "/bookings/9", "cancels"),
    ("POST", "/events/3/waitlist", "waitlist"),
    ("DELETE", "/waitlists/4", "waitlist"),
    ("POST", "/auth/password", "password"),
    ("POST", "/auth/password-reset", None),
    ("PATCH", "/auth/me", None),
    ("GET", "/holds/3.abcdefgh", None),
    ("GET", "/waitlists/me", None),
])
def test_rest_paths_map_to_their_rule(method: str, path: str, rule: str | None) -> None:
    email_rule = "password_reset" if path == "/auth/password-reset" else None
    assert _rules_of(method, path) == (email_rule, rule)


def test_every_rest_pattern_matches_a_route() -> None:
    routes = [(m, r.path) for r in create_app().routes
              for m in (getattr(r, "methods", None) or ())]
    for _, method, pattern, _ in USER_ACTIONS:
        sample = [p for m, p in routes
                  if m == method and re.match(pattern, re.sub(r"\{[^}]+\}", "1", p))]
        assert sample, f"{method} {pattern} names no route"


@pytest.mark.parametrize(("method", "path", "rule"), [
    ("PATCH", "/bookings/12", "cancels"),
    ("GET", "/bookings/12", None),
    ("GET", "/admin/events/3/attendees.csv", "admin"),
    ("GET", "/admin/events/3/attendees", None),
    ("GET", "/me/events", None),
])
def test_booking_changes_and_the_guest_list_export(method: str, path: str,
                                                   rule: str | None) -> None:
    assert _rules_of(method, path) == (None, rule)
