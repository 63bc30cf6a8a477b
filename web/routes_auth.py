"""``/auth/*``: sign-up, log-in, refresh, log-out, who am I, and account self-service
(rename, password change, password reset by e-mail)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.model import Role
from web import render
from web.admin_schemas import RefreshIn
from web.auth import bearer, require_principal, services_of
from web.clock import utcnow
from web.errors import JSONResponse
from web.schemas import (
    LoginIn,
    MeIn,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    SignupIn,
    parse_body,
)

__all__ = ["routes"]


async def signup(request: Request) -> JSONResponse:
    body = parse_body(SignupIn, await request.body())
    user = await services_of(request).accounts.signup(body.name, body.email, body.password,
                                                      utcnow(), Role(body.role))
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


async def patch_me(request: Request) -> JSONResponse:
    """Rename the account (200 user)."""
    principal = await require_principal(request)
    body = parse_body(MeIn, await request.body())
    return JSONResponse(render.user(await services_of(request).self_service.rename(
        principal, body.name)))


async def change_password(request: Request) -> Response:
    """204; every other login of the account is revoked (this one goes on)."""
    principal = await require_principal(request)
    body = parse_body(PasswordChangeIn, await request.body())
    await services_of(request).self_service.change_password(
        principal, body.old_password, body.new_password, utcnow())
    return Response(status_code=204)


async def password_reset(request: Request) -> Response:
    """202 whether or not the address has an account."""
    body = parse_body(PasswordResetIn, await request.body())
    await services_of(request).self_service.request_reset(body.email, utcnow())
    return Response(status_code=202)


async def password_reset_confirm(request: Request) -> Response:
    body = parse_body(PasswordResetConfirmIn, await request.body())
    await services_of(request).self_service.confirm_reset(body.token, body.new_password,
                                                          utcnow())
    return Response(status_code=204)


routes = [
    Route("/auth/signup", signup, methods=["POST"]),
    Route("/auth/login", login, methods=["POST"]),
    Route("/auth/refresh", refresh, methods=["POST"]),
    Route("/auth/logout", logout, methods=["POST"]),
    Route("/auth/me", me, methods=["GET"]),
    Route("/auth/me", patch_me, methods=["PATCH"]),
    Route("/auth/password", change_password, methods=["POST"]),
    Route("/auth/password-reset", password_reset, methods=["POST"]),
    Route("/auth/password-reset/confirm", password_reset_confirm, methods=["POST"]),
]
