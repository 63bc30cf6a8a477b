"""Who may read ``GET /metrics``: anyone, or only holders of ``METRICS_TOKEN``.

The series name routes, error codes and session counts, which are of use to an attacker, so a
public deployment sets ``METRICS_TOKEN`` and has Prometheus send it
(``authorization: {credentials: <token>}`` in the scrape config), and/or keeps ``/metrics``
off the public proxy (deploy/nginx.conf answers 404 there).
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from starlette.requests import Request

from hub.errors import Unauthenticated

if TYPE_CHECKING:  # typing only: web.runtime imports web.ws_limits, which imports web.metrics
    from web.runtime import Runtime

__all__ = ["require_metrics_token"]


def require_metrics_token(request: Request) -> None:
    """Check the request's bearer token against ``METRICS_TOKEN`` (constant-time).

    Raises:
        Unauthenticated: a token is configured and the request does not carry it.
    """
    runtime: Runtime = request.app.state.runtime
    expected = runtime.metrics_token
    if not expected:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                             expected.encode()):
        raise Unauthenticated("GET /metrics needs the metrics bearer token.")
