"""Every REST route the app serves is in ``/openapi.json``, so the schemathesis run
(tests/e2e/test_schemathesis.py), which walks the document, reaches every operation."""

from __future__ import annotations

from starlette.routing import Route

from web.app import create_app
from web.openapi import document

#: served but not API operations: the Swagger UI's and ReDoc's own files
UNDOCUMENTED = {("GET", "/docs/assets/{name}"), ("GET", "/redoc/assets/{name}")}


def test_every_served_route_is_documented() -> None:
    served = {(method, route.path) for route in create_app().routes
              if isinstance(route, Route) for method in (route.methods or ()) if method != "HEAD"}
    documented = {(method.upper(), path) for path, ops in document()["paths"].items()
                  for method in ops}
    assert served - UNDOCUMENTED <= documented, sorted(served - UNDOCUMENTED - documented)
    assert documented <= served, sorted(documented - served)
