"""The wiring rules of issue 9, checked on the source: one composition root, route modules
that import no other route module and nothing from ``storage``, errors mapped once per
transport with the contract's statuses (STYLE.md §6, §13)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
from starlette.exceptions import HTTPException

from hub.errors import NotFound, RateLimited, SeatUnavailable
from hub.services import Services
from web.errors import ERROR_CODE_KEY, as_evently, error_response, ws_error

WEB = Path(__file__).resolve().parents[2] / "web"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


@pytest.mark.parametrize("module", sorted(p.name for p in WEB.glob("routes_*.py")))
def test_a_route_module_imports_no_route_module_and_no_storage(module: str) -> None:
    names = _imports(WEB / module)
    assert not {n for n in names if n.startswith("storage")}, names
    others = {n for n in names if "routes_" in n and not n.endswith(module[:-3])}
    assert not others, others


@pytest.mark.parametrize("module", ["ws_session.py", "ws_ops.py", "ws_limits.py", "auth.py",
                                    "idempotency.py"])
def test_the_ws_session_and_request_helpers_reach_no_storage_module(module: str) -> None:
    assert not {n for n in _imports(WEB / module) if n.startswith("storage")}


def _is_adapter(name: str) -> bool:
    """``storage.x.PgUsers``: a storage class (not a constant, function or the settings)."""
    last = name.split(".")[-1]
    return (name.startswith("storage.") and name.count(".") >= 2 and last[:1].isupper()
            and not last.isupper() and last != "Settings")


def test_storage_is_built_only_by_the_composition_root() -> None:
    # web/cli.py is the command line's own small composition (migrate, user add, demo).
    builders = {p.name for p in WEB.glob("*.py")
                if p.name != "cli.py" and any(_is_adapter(n) for n in _imports(p))}
    assert builders == {"bootstrap.py"}, builders


def test_metrics_and_the_clock_do_not_import_each_other() -> None:
    assert not {n for n in _imports(WEB / "metrics.py") if n.startswith("web.context")}
    assert not {n for n in _imports(WEB / "context.py") if "metrics" in n}


def test_the_services_bundle_is_frozen() -> None:
    assert dataclasses.fields(Services)
    params = Services.__dataclass_params__  # type: ignore[attr-defined]
    assert params.frozen


@pytest.mark.parametrize(("status", "code"), [
    (400, "BAD_REQUEST"), (401, "UNAUTHENTICATED"), (403, "FORBIDDEN"), (404, "NOT_FOUND"),
    (405, "BAD_REQUEST"), (413, "PAYLOAD_TOO_LARGE"), (418, "BAD_REQUEST")])
def test_starlette_http_errors_become_contract_codes(status: int, code: str) -> None:
    assert as_evently(HTTPException(status, "x")).code == code


def test_an_unexpected_exception_is_internal_500() -> None:
    err = as_evently(RuntimeError("boom"))
    assert (err.code, err.status) == ("INTERNAL", 500)
    assert "boom" not in err.message  # no internals on the wire


def test_one_envelope_for_rest_and_ws() -> None:
    err = SeatUnavailable([5, 2])
    scope: dict[str, object] = {}
    response = error_response(err, scope)
    assert response.status_code == 409 and scope[ERROR_CODE_KEY] == "SEAT_UNAVAILABLE"
    assert response.body == (b'{"error":{"code":"SEAT_UNAVAILABLE","message":"Some seats are no'
                             b' longer available.","details":{"seat_ids":[2,5]}}}')
    assert ws_error(err, ref=7) == {"type": "error", "ref": 7, "code": "SEAT_UNAVAILABLE",
                                    "message": err.message, "details": {"seat_ids": [2, 5]}}


def test_retry_after_only_for_rate_limits() -> None:
    assert error_response(RateLimited(12)).headers["retry-after"] == "12"
    assert "retry-after" not in error_response(NotFound()).headers
