"""The Origin rule of ``/ws`` (web/origin.py): scheme, host and port all count."""

from __future__ import annotations

import pytest

from web.body_limit import ADMIN_LIMIT, AUTH_LIMIT, DEFAULT_LIMIT, limit_for
from web.origin import origin_allowed, split_origin


@pytest.mark.parametrize(("origin", "parts"), [
    ("http://a.example", ("http", "a.example", 80)),
    ("https://A.Example:443/", ("https", "a.example", 443)),
    ("http://[::1]:8000", ("http", "::1", 8000)),
    ("null", None),
    ("http://a.example/path", None),
    ("ftp://a.example", None),
    ("http://user@a.example", None),
    ("http://a.example:99999", None),
    ("", None),
])
def test_split_origin(origin: str, parts: tuple[str, str, int] | None) -> None:
    assert split_origin(origin) == parts


@pytest.mark.parametrize(("origin", "scheme", "host", "allowed", "ok"), [
    ("http://hub.example", "ws", "hub.example", [], True),
    ("http://hub.example:80", "ws", "hub.example", [], True),
    ("https://hub.example", "wss", "hub.example:443", [], True),
    ("http://hub.example", "wss", "hub.example", [], False),       # scheme differs
    ("http://hub.example:8001", "ws", "hub.example:8000", [], False),
    ("http://evil.example", "ws", "hub.example", [], False),
    ("http://evil.example", "ws", "hub.example", ["http://evil.example:80"], True),
    ("http://evil.example:81", "ws", "hub.example", ["http://evil.example"], False),
    ("http://evil.example", "ws", "hub.example", ["*"], True),
    ("http://[::1]:8000", "ws", "[::1]:8000", [], True),
    ("http://hub.example", "ws", None, [], False),
    (None, "ws", "hub.example", [], True),                          # not a browser
])
def test_origin_allowed(origin: str | None, scheme: str, host: str | None,
                        allowed: list[str], ok: bool) -> None:
    assert origin_allowed(origin, scheme, host, allowed) is ok


def test_body_limits_by_path() -> None:
    assert limit_for("/auth/login") == AUTH_LIMIT < limit_for("/events/1/holds") == DEFAULT_LIMIT
    assert limit_for("/admin/events") == ADMIN_LIMIT
    assert limit_for("/authx") == DEFAULT_LIMIT


def test_one_payload_too_large_error_serves_the_body_limit_and_starlette() -> None:
    from starlette.exceptions import HTTPException

    from hub.errors import PayloadTooLarge, error_for_code
    from web.errors import as_evently

    assert PayloadTooLarge(limit=AUTH_LIMIT).details == {"limit": AUTH_LIMIT}
    rebuilt = error_for_code("PAYLOAD_TOO_LARGE", limit=ADMIN_LIMIT)
    assert isinstance(rebuilt, PayloadTooLarge) and rebuilt.limit == ADMIN_LIMIT
    mapped = as_evently(HTTPException(413, "too big"))
    assert isinstance(mapped, PayloadTooLarge) and mapped.status == 413 and mapped.details == {}
