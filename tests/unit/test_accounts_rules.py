"""Pure rules of account self-service and sign-up (no I/O, no event loop where possible):
the organizer sign-up policy refuses before touching a store, reset tokens are stored only as
their digest, the reset mail names the code and its deadline, and request ids are checked."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from hub.accounts import AccountService
from hub.errors import Forbidden
from hub.model import Role
from hub.self_service import RESET_TOKEN_TTL, reset_mail, token_digest
from web.request_log import JsonFormatter, request_id_of

NOW = datetime(2031, 1, 1, 20, 0, tzinfo=UTC)


class _Untouchable:
    """A store or hasher that fails the test if the service reaches it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the service reached {name}")


@pytest.mark.parametrize(("policy", "role"), [("open", Role.ADMIN), ("approval", Role.ADMIN),
                                              ("closed", Role.ORGANIZER)])
def test_signup_refusals_happen_before_any_store(policy: str, role: Role) -> None:
    accounts = AccountService(_Untouchable(), _Untouchable(), organizer_signup=policy,
                              requests=_Untouchable())
    with pytest.raises(Forbidden):
        asyncio.run(accounts.signup("Ann", "ann@example.test", "long-enough-1", NOW, role))


def test_reset_tokens_are_kept_as_a_sha256_digest() -> None:
    digest = token_digest("abc")
    assert digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert token_digest("abd") != digest and len(digest) == 64


def test_reset_mail_names_the_code_and_its_deadline() -> None:
    mail = reset_mail("the-code", NOW + RESET_TOKEN_TTL)
    assert RESET_TOKEN_TTL.total_seconds() == 900
    assert "Your reset code: the-code" in mail.body
    assert "2031-01-01 20:15 UTC" in mail.body
    assert mail.subject == "Reset your Evently password"


@pytest.mark.parametrize(("sent", "kept"), [
    (b"abc-123", True), (b"a.b_c:d-e", True), (b"x" * 128, True), (b"x" * 129, False),
    (b"has space", False), (b'quote"', False), (b"new\nline", False), (b"", False)])
def test_request_ids_are_kept_only_when_well_formed(sent: bytes, kept: bool) -> None:
    got = request_id_of({"headers": [(b"x-request-id", sent)]})
    assert (got == sent.decode()) is kept
    if not kept:
        assert len(got) == 32 and int(got, 16) >= 0


def test_json_log_lines_carry_the_request_fields() -> None:
    record = logging.LogRecord("evently.request", logging.INFO, __file__, 1, "GET %s",
                               ("/x",), None)
    record.request_id, record.status, record.user_id = "r1", 200, None
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "GET /x" and line["level"] == "INFO"
    assert line["request_id"] == "r1" and line["status"] == 200 and line["user_id"] is None
    assert line["ts"].endswith("+00:00")
