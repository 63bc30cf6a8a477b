"""Waitlists and notifications over REST (the same services as ``/ws``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.errors import ValidationFailed
from web import render
from web.auth import require_principal, services_of
from web.clock import utcnow
from web.errors import JSONResponse
from web.params import path_id
from web.schemas import WaitlistIn, parse_body

__all__ = ["routes"]


async def join(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    event_id = path_id(request, "event_id")
    body = parse_body(WaitlistIn, await request.body())
    entry = await services_of(request).box_office.join(principal, event_id, body.qty, utcnow())
    return JSONResponse(render.waitlist_entry(entry), status_code=201)


async def mine(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    entries = await services_of(request).box_office.mine(principal)
    return JSONResponse([render.waitlist_entry(e) for e in entries])


async def leave(request: Request) -> Response:
    principal = await require_principal(request)
    await services_of(request).box_office.leave(principal, path_id(request, "entry_id"),
                                                utcnow())
    return Response(status_code=204)


async def notifications(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    unread = request.query_params.get("unread", "false").lower()
    if unread not in ("true", "false", "1", "0"):
        raise ValidationFailed(fields=[{"field": "unread", "message": "true or false"}])
    items = await services_of(request).notifications.mine(principal, unread in ("true", "1"))
    return JSONResponse([render.notification(n) for n in items])


async def mark_read(request: Request) -> Response:
    principal = await require_principal(request)
    await services_of(request).notifications.mark_read(
        principal, path_id(request, "notification_id"), utcnow())
    return Response(status_code=204)


routes = [
    Route("/events/{event_id}/waitlist", join, methods=["POST"]),
    Route("/waitlists/me", mine, methods=["GET"]),
    Route("/waitlists/{entry_id}", leave, methods=["DELETE"]),
    Route("/me/notifications", notifications, methods=["GET"]),
    Route("/me/notifications/{notification_id}/read", mark_read, methods=["POST"]),
]
