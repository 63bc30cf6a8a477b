"""Request authentication: the bearer token of a request, verified into a Principal."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from hub.errors import Unauthenticated
from web.context import Hub
from web.security import Principal

__all__ = ["bearer", "hub_of", "optional_principal", "require_principal"]


def hub_of(conn: HTTPConnection) -> Hub:
    hub: Hub = conn.app.state.hub
    return hub


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
    hub = hub_of(conn)
    principal = hub.tokens.principal(token)
    await hub.check_revoked(principal)
    return principal


async def optional_principal(conn: HTTPConnection) -> Principal | None:
    return await require_principal(conn) if bearer(conn) else None
