"""What organizers see of their own business: ``GET /me/events`` (their events with live
figures) and the guest list as CSV. Each handler authenticates, parses, calls one service
and renders."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.ports import EventQuery
from web import render
from web.admin_schemas import MyEventsQuery, parse_query
from web.attendees_csv import attendees_csv
from web.auth import require_principal, services_of
from web.clock import utcnow
from web.errors import JSONResponse
from web.params import path_id

__all__ = ["routes"]


async def my_events(request: Request) -> JSONResponse:
    """``{items: [Event + sold, held, available, waitlisted, utilization], total, page,
    page_size}``, organizers and admins: the events they organize."""
    principal = await require_principal(request)
    q = parse_query(MyEventsQuery, request.query_params)
    events, total = await services_of(request).event_admin.mine(
        principal, EventQuery(offset=q.offset, limit=q.page_size, sort=q.sort, order=q.order),
        utcnow())
    return JSONResponse(render.page([render.event_figures(e) for e in events], total, q.page,
                                    q.page_size))


async def attendees_export(request: Request) -> Response:
    principal = await require_principal(request)
    event_id = path_id(request, "event_id")
    rows = await services_of(request).event_admin.all_attendees(principal, event_id)
    return Response(attendees_csv(rows), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="event-{event_id}-attendees.csv"',
        "Cache-Control": "no-store"})


routes = [
    Route("/me/events", my_events, methods=["GET"]),
    Route("/admin/events/{event_id}/attendees.csv", attendees_export, methods=["GET"]),
]
