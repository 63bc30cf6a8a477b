"""Property-based run of every operation in ``/openapi.json`` against a real hub, as an admin.

Bounded (``max_examples`` per operation, no coverage phase) so the file stays within a few
minutes on two cores. Checks: no 5xx, and every response with a documented status conforms to
its documented schema.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import stores as test_stores
from tests.support.api import PASSWORD
from tests.support.servers import HubProcess
from tests.support.stores import clean, run_sync, set_role

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.config import SchemathesisConfig  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MAX_EXAMPLES = 25
#: operations that would end the run's own session (its admin token would be revoked)
SKIPPED = [("POST", "/auth/logout"), ("DELETE", "/admin/users/{user_id}")]


@pytest.fixture(scope="module")
def admin_token(stores: test_stores.TestStores, hub_server: HubProcess) -> str:
    """An admin's access token, on emptied stores."""
    run_sync(clean(stores))
    email = "fuzz-admin@example.test"
    r = httpx.post(hub_server.url + "/auth/signup",
                   json={"name": "Fuzz Admin", "email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    run_sync(set_role(stores, r.json()["id"], "admin"))
    r = httpx.post(hub_server.url + "/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


@pytest.fixture(scope="module")
def api_schema(hub_server: HubProcess, admin_token: str) -> Any:
    """The schema as the running hub serves it (not the one built in this process)."""
    config = SchemathesisConfig.from_dict({
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "generation": {"mode": "positive", "max-examples": MAX_EXAMPLES},
        "request-timeout": 30,
    })
    return schemathesis.openapi.from_url(hub_server.url + "/openapi.json", config=config)


def _labels() -> list[str]:
    from web.openapi import OPERATIONS

    return [f"{op.method} {op.path}" for op in OPERATIONS if (op.method, op.path) not in SKIPPED]


@pytest.mark.parametrize("label", _labels())
def test_no_server_errors_and_responses_match_the_schema(label: str, api_schema: Any,
                                                          hub_server: HubProcess,
                                                          admin_token: str) -> None:
    operation = api_schema.find_operation_by_label(label)
    headers = {"Authorization": f"Bearer {admin_token}"}

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        case.call_and_validate(base_url=hub_server.url, headers=headers,
                               checks=[not_a_server_error, response_schema_conformance])

    run()
