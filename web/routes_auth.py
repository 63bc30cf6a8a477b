"""``/auth/*``: sign-up, log-in, who am I."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from web import render
from web.auth import hub_of, require_principal
from web.context import utcnow
from web.errors import JSONResponse
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


async def me(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    user = await hub_of(request).store.get_user(principal.id)
    return JSONResponse(render.user(user))


routes = [
    Route("/auth/signup", signup, methods=["POST"]),
    Route("/auth/login", login, methods=["POST"]),
    Route("/auth/me", me, methods=["GET"]),
]
