"""``/auth/*``: sign-up, log-in, refresh, log-out, who am I."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web import render
from web.admin_schemas import RefreshIn
from web.auth import bearer, require_principal, services_of
from web.clock import utcnow
from web.errors import JSONResponse
from web.schemas import LoginIn, SignupIn, parse_body

__all__ = ["routes"]


async def signup(request: Request) -> JSONResponse:
    body = parse_body(SignupIn, await request.body())
    user = await services_of(request).accounts.signup(body.name, body.email, body.password,
                                                      utcnow())
    return JSONResponse(render.user(user), status_code=201)


async def login(request: Request) -> JSONResponse:
    body = parse_body(LoginIn, await request.body())
    pair = await services_of(request).sessions.login(body.email, body.password, utcnow())
    return JSONResponse(render.token_pair(pair))


async def refresh(request: Request) -> JSONResponse:
    """Rotate: the refresh token is spent, the new pair keeps its family (401
    ``TOKEN_REVOKED`` for a spent, revoked or unknown one; reuse revokes the family)."""
    body = parse_body(RefreshIn, await request.body())
    pair = await services_of(request).sessions.refresh(body.refresh_token, utcnow())
    return JSONResponse(render.token_pair(pair))


async def logout(request: Request) -> Response:
    """Deny this access token until it expires and revoke its refresh family (204)."""
    await services_of(request).sessions.logout(bearer(request), utcnow())
    return Response(status_code=204)


async def me(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    return JSONResponse(render.user(await services_of(request).sessions.user(principal)))


routes = [
    Route("/auth/signup", signup, methods=["POST"]),
    Route("/auth/login", login, methods=["POST"]),
    Route("/auth/refresh", refresh, methods=["POST"]),
    Route("/auth/logout", logout, methods=["POST"]),
    Route("/auth/me", me, methods=["GET"]),
]
