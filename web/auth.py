"""What a route or ``/ws`` session may reach (the services bundle on ``app.state``), and the
bearer token of a request verified into a :class:`hub.ports.runtime.Principal`."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from hub.errors import Unauthenticated
from hub.ports.runtime import Principal
from hub.services import Services
from web.runtime import Runtime

__all__ = ["bearer", "require_principal", "runtime_of", "services_of"]


def runtime_of(conn: HTTPConnection) -> Runtime:
    """The process's :class:`web.runtime.Runtime`, built by the app lifespan."""
    runtime: Runtime = conn.app.state.runtime
    return runtime


def services_of(conn: HTTPConnection) -> Services:
    """The process's :class:`hub.services.Services`."""
    return runtime_of(conn).services


def bearer(conn: HTTPConnection) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def require_principal(conn: HTTPConnection) -> Principal:
    """Raises: Unauthenticated, TokenExpired, TokenRevoked."""
    token = bearer(conn)
    if token is None:
        raise Unauthenticated("Send Authorization: Bearer <access_token>.")
    return await services_of(conn).sessions.authenticate(token)
