"""Bad input becomes a contract error at the boundary (issue 10), without I/O: the request
models, the WebSocket field parsers, path ids, idempotency keys, and the error mapping."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from hub.errors import BadRequest, Internal, NotFound, ValidationFailed, error_for_code
from web.admin_schemas import EventListQuery, EventPatchIn, UsersQuery, parse_query
from web.errors import exception_handlers, ws_error
from web.idempotency import MAX_KEY_LENGTH, check_key
from web.params import MAX_ID, check_id
from web.schemas import EventIn, LoginIn, SignupIn, parse_body
from web.ws_fields import echoable_ref, int_field, since_field, str_field

EVENT = {"name": "Night", "venue": "Hall", "start_time": "2030-01-01T20:00:00Z",
         "end_time": "2030-01-01T22:00:00Z", "capacity": 10}


def _parse(model: Any, body: dict[str, Any]) -> Any:
    """As a REST route parses a body: strict JSON."""
    return parse_body(model, json.dumps(body).encode())


@pytest.mark.parametrize(("model", "body"), [
    (LoginIn, {"email": "a\x00@b.cc", "password": "x"}),
    (SignupIn, {"name": "A\x00B", "email": "a@b.cc", "password": "long-enough-1"}),
    (SignupIn, {"name": "AB", "email": "a@b.cc", "password": "long-enough\x00"}),
    (EventIn, {**EVENT, "venue": "Hall\x00"}),
    (EventPatchIn, {"name": "\x00"}),
])
def test_a_nul_in_any_string_field_is_422(model: Any, body: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as err:
        _parse(model, body)
    assert "NUL" in str(err.value.details["fields"])


@pytest.mark.parametrize("query", [EventListQuery, UsersQuery])
def test_a_nul_in_a_query_string_is_422(query: Any) -> None:
    with pytest.raises(ValidationFailed):
        parse_query(query, {"q": "a\x00"})


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+01:00",
                                  "1969-12-31T23:59:59Z", "9999-01-01T00:00:00Z"])
def test_times_outside_1970_to_9998_utc_are_422(when: str) -> None:
    for model, body in ((EventIn, {**EVENT, "start_time": when}),
                        (EventPatchIn, {"end_time": when})):
        with pytest.raises(ValidationFailed) as err:
            _parse(model, body)
        assert "1970" in str(err.value.details["fields"])


def test_times_at_the_edges_are_accepted() -> None:
    ok = _parse(EventIn, {**EVENT, "start_time": "1970-01-01T00:00:00Z",
                             "end_time": "9998-12-31T23:59:59-00:00"})
    assert ok.start_time.year == 1970 and ok.end_time.year == 9998


def test_a_float_for_an_integer_stays_400() -> None:
    with pytest.raises(BadRequest):
        parse_body(EventIn, b'{"name": "N", "venue": "V", "start_time": "2030-01-01T20:00:00Z",'
                            b' "end_time": "2030-01-01T22:00:00Z", "capacity": 2.0}')


@pytest.mark.parametrize("value", [2**63, 2**64 - 1, 2**70])
def test_ws_ids_past_bigint_are_not_found(value: int) -> None:
    for name in ("event_id", "booking_id", "entry_id"):
        with pytest.raises(NotFound):
            int_field({name: value}, name)
    assert int_field({"event_id": MAX_ID}, "event_id") == MAX_ID


@pytest.mark.parametrize("value", [0, -1, True, 2.0, "1", None, [1]])
def test_ws_ids_of_the_wrong_type_or_sign_are_400(value: Any) -> None:
    with pytest.raises(BadRequest):
        int_field({"event_id": value}, "event_id")


def test_ws_strings() -> None:
    assert str_field({"hold_id": "1.abc"}, "hold_id") == "1.abc"
    with pytest.raises(ValidationFailed):
        str_field({"hold_id": "1\x00.abc"}, "hold_id")
    for bad in ("", "x" * 301, 5, None):
        with pytest.raises(BadRequest):
            str_field({"hold_id": bad}, "hold_id")


@pytest.mark.parametrize("since", [{"epoch": 1, "seq": -5}, {"epoch": -1, "seq": 0},
                                   {"epoch": 2**63, "seq": 1}, {"epoch": 1, "seq": 2**64 - 1}])
def test_since_outside_the_stream_range_is_422(since: dict[str, int]) -> None:
    with pytest.raises(ValidationFailed):
        since_field({"since": since})


def test_since_shapes() -> None:
    assert since_field({}) is None
    assert since_field({"since": {"epoch": 0, "seq": MAX_ID}}) == (0, MAX_ID)
    for bad in ({"epoch": 1}, {"epoch": 1, "seq": 2.0}, [1, 2], {"epoch": True, "seq": 1}):
        with pytest.raises(BadRequest):
            since_field({"since": bad})


def test_a_ref_nested_too_deep_to_echo_is_400() -> None:
    deep: Any = []
    for _ in range(300):
        deep = [deep]
    with pytest.raises(BadRequest):
        echoable_ref(deep)
    assert echoable_ref({"a": [1, "x"]}) == {"a": [1, "x"]}


def test_one_idempotency_key_limit_for_both_transports() -> None:
    check_key("k" * MAX_KEY_LENGTH, "Idempotency-Key")
    for bad in ("", "k" * (MAX_KEY_LENGTH + 1), "k" * 300, "a\x00b"):
        with pytest.raises(ValidationFailed) as err:
            check_key(bad, "idempotency_key")
        assert err.value.details["fields"][0]["field"] == "idempotency_key"


def test_ids_past_bigint_name_nothing() -> None:
    assert check_id(1, "event_id") == 1
    with pytest.raises(NotFound, match="No such event"):
        check_id(2**63, "event_id")


def test_an_unknown_script_reply_code_is_internal_not_key_error() -> None:
    err = error_for_code("NO_SUCH_CODE")
    assert isinstance(err, Internal) and err.status == 500 and err.code == "INTERNAL"
    assert "NO_SUCH_CODE" in err.message
    assert isinstance(error_for_code("INTERNAL"), Internal)  # not the abstract Conflict
    assert error_for_code("SOLD_OUT").status == 409


def _boom(request: Request) -> Any:
    raise RuntimeError("a bug")


async def test_an_unexpected_error_is_500_internal_never_unavailable() -> None:
    app = Starlette(routes=[Route("/boom", _boom)], exception_handlers=exception_handlers)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        r = await client.get("/boom")
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "INTERNAL"
    assert ws_error(Internal())["code"] == "INTERNAL"


def test_an_internal_error_reply_leaves_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("ERROR", logger="web.errors"):
        reply = ws_error(error_for_code("NO_SUCH_CODE"), ref=7)
    assert (reply["code"], reply["ref"]) == ("INTERNAL", 7)
    assert any("NO_SUCH_CODE" in r.getMessage() for r in caplog.records)
