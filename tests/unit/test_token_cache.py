"""The verified-token cache of :class:`web.security.TokenCodec`: a repeated token skips the
verification, an expired one is still refused, a tampered one never enters the cache."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from hub.errors import TokenExpired, Unauthenticated
from hub.model import Role
from web.security import TokenCodec

SECRET = "s" * 48


def test_a_verified_token_is_answered_from_the_cache() -> None:
    codec = TokenCodec(SECRET, 900, 3600)
    token, _ = codec.issue(7, Role.USER, datetime.now(UTC))
    first = codec.principal(token)
    assert codec.principal(token) is first
    assert first.id == 7


def test_a_cached_token_is_refused_once_it_expires() -> None:
    codec = TokenCodec(SECRET, 60, 3600)
    token, claims = codec.issue(7, Role.USER, datetime.now(UTC) - timedelta(seconds=58.5))
    codec.principal(token)
    time.sleep(max(0.0, claims["exp"] - time.time()) + 0.05)
    with pytest.raises(TokenExpired):
        codec.principal(token)


def test_a_tampered_or_foreign_token_is_refused_every_time() -> None:
    codec = TokenCodec(SECRET, 900, 3600)
    token, _ = codec.issue(7, Role.USER, datetime.now(UTC))
    codec.principal(token)
    other, _ = TokenCodec("t" * 48, 900, 3600).issue(7, Role.USER, datetime.now(UTC))
    for bad in (token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1], other):
        for _ in range(2):
            with pytest.raises(Unauthenticated):
                codec.principal(bad)
