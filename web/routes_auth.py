"""``/auth/*``: sign-up, log-in, refresh, log-out, who am I."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web import render
from web.admin_schemas import RefreshIn
from web.auth import bearer, hub_of, require_principal
from web.context import utcnow
from web.errors import JSONResponse
from web.routes_admin import services
from web.schemas import LoginIn, SignupIn, parse_body

__all__ = ["routes"]


async def signup(request: Request) -> JSONResponse:
    body = parse_body(SignupIn, await request.body())
    user = await hub_of(request).accounts.signup(body.name, body.email, body.password, utcnow())
    return JSONResponse(render.user(user), status_code=201)


async def login(request: Request) -> JSONResponse:
    body = parse_body(LoginIn, await request.body())
    hub = hub_of(request)
    user = await hub.accounts.login(body.email, body.password)
    return JSONResponse(await hub.token_pair(user.id, user.role, utcnow()))


async def refresh(request: Request) -> JSONResponse:
    """Rotate: the refresh token is spent, the new pair keeps its family (401
    ``TOKEN_REVOKED`` for a spent, revoked or unknown one; reuse revokes the family)."""
    body = parse_body(RefreshIn, await request.body())
    hub = hub_of(request)
    claims = hub.tokens.decode(body.refresh_token, kind="refresh")
    now = utcnow()
    user, family = await services(request).sessions.refresh(str(claims["jti"]), now)
    return JSONResponse(await hub.token_pair(user.id, user.role, now, family=family))


async def logout(request: Request) -> Response:
    """Deny this access token until it expires and revoke its refresh family (204)."""
    principal = await require_principal(request)
    claims = hub_of(request).tokens.decode(bearer(request) or "")
    family = claims.get("fam")
    await services(request).sessions.logout(principal.jti, principal.expires_at,
                                            str(family) if family else None, utcnow())
    return Response(status_code=204)


async def me(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    user = await hub_of(request).store.get_user(principal.id)
    return JSONResponse(render.user(user))


routes = [
    Route("/auth/signup", signup, methods=["POST"]),
    Route("/auth/login", login, methods=["POST"]),
    Route("/auth/refresh", refresh, methods=["POST"]),
    Route("/auth/logout", logout, methods=["POST"]),
    Route("/auth/me", me, methods=["GET"]),
]
