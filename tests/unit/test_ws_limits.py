"""The per-process socket counter of ``/ws`` (web.ws_limits) and the subscription cap."""

from __future__ import annotations

import pytest

from hub.errors import ValidationFailed
from web.ws_limits import SocketCaps, check_subscription_cap


def test_caps_count_per_address_and_per_user_and_give_slots_back() -> None:
    caps = SocketCaps(per_address=2, per_user=1)
    assert caps.open_address("10.0.0.1") and caps.open_address("10.0.0.1")
    assert not caps.open_address("10.0.0.1")  # a refusal counts nothing
    assert caps.open_address("10.0.0.2")
    assert caps.add_user(7) and not caps.add_user(7) and caps.add_user(8)
    caps.close_address("10.0.0.1")
    assert caps.count(address="10.0.0.1") == 1
    assert caps.open_address("10.0.0.1")
    caps.remove_user(7)
    assert caps.count(user_id=7) == 0 and caps.add_user(7)


@pytest.mark.parametrize("enabled", [True, False])
def test_zero_or_disabled_is_no_cap(enabled: bool) -> None:
    caps = SocketCaps(per_address=0 if enabled else 1, per_user=0 if enabled else 1,
                      enabled=enabled)
    assert all(caps.open_address("10.0.0.1") for _ in range(50))
    assert all(caps.add_user(1) for _ in range(50))


def test_subscription_cap() -> None:
    check_subscription_cap(2, 3, event_id=9)
    with pytest.raises(ValidationFailed) as err:
        check_subscription_cap(3, 3, event_id=9)
    assert err.value.details["limit"] == 3
    assert err.value.details["fields"][0]["field"] == "event_id"
