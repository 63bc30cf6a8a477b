"""``/admin/organizer-requests`` (organizer sign-ups awaiting approval) and ``/admin/audit``
(the trail of admin and organizer actions). Admins only; each handler authenticates, parses,
calls one service and renders."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from web import render
from web.admin_schemas import AuditQuery, OrganizerRequestsQuery, parse_query
from web.auth import require_principal, services_of
from web.clock import utcnow
from web.errors import JSONResponse
from web.params import path_id

__all__ = ["routes"]


async def list_requests(request: Request) -> JSONResponse:
    """``?status=pending|approved|refused`` (default pending) ``&page=&page_size=``."""
    principal = await require_principal(request)
    query = parse_query(OrganizerRequestsQuery, request.query_params)
    items, total = await services_of(request).organizers.search(
        principal, query.status, query.offset, query.page_size)
    return JSONResponse(render.page([render.organizer_request(r) for r in items], total,
                                    query.page, query.page_size))


async def approve(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    req = await services_of(request).organizers.decide(
        principal, path_id(request, "request_id"), True, utcnow())
    return JSONResponse(render.organizer_request(req))


async def refuse(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    req = await services_of(request).organizers.decide(
        principal, path_id(request, "request_id"), False, utcnow())
    return JSONResponse(render.organizer_request(req))


async def audit(request: Request) -> JSONResponse:
    """``?actor_id=&event_id=&page=&page_size=``, newest first."""
    principal = await require_principal(request)
    query = parse_query(AuditQuery, request.query_params)
    items, total = await services_of(request).audit.search(
        principal, query.actor_id, query.event_id, query.offset, query.page_size)
    return JSONResponse(render.page([render.audit_entry(e) for e in items], total,
                                    query.page, query.page_size))


routes = [
    Route("/admin/organizer-requests", list_requests, methods=["GET"]),
    Route("/admin/organizer-requests/{request_id}/approve", approve, methods=["POST"]),
    Route("/admin/organizer-requests/{request_id}/refuse", refuse, methods=["POST"]),
    Route("/admin/audit", audit, methods=["GET"]),
]
