"""``/admin/*`` (accounts, event administration, bookings, analytics) and ``/stats/homepage``.

Each handler authenticates, parses, calls one service and renders.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.event_admin import EventChanges
from hub.model import EventStatus, Role
from hub.ports.people import PersonQuery
from hub.seatmap import Section
from web import render
from web.admin_schemas import (
    AdminBookingsQuery,
    AttendeesQuery,
    EventPatchIn,
    RoleIn,
    SeatsGenerateIn,
    SummaryQuery,
    UserCreateIn,
    UsersQuery,
    parse_query,
)
from web.auth import require_principal, services_of
from web.clock import utcnow
from web.errors import JSONResponse
from web.params import path_id
from web.schemas import parse_body

__all__ = ["routes"]


# -- users ------------------------------------------------------------------------------------


async def list_users(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    query = parse_query(UsersQuery, request.query_params)
    people, total = await services_of(request).people.search(principal, PersonQuery(
        query.offset, query.page_size, query.q, Role(query.role) if query.role else None,
        query.sort, query.order))
    return JSONResponse(render.page([render.person(p) for p in people], total, query.page,
                                    query.page_size))


async def get_user(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    person = await services_of(request).people.profile(principal, path_id(request, "user_id"))
    return JSONResponse(render.person(person))


async def create_user(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    body = parse_body(UserCreateIn, await request.body())
    user = await services_of(request).users.create(principal, body.name, body.email,
                                                   body.password, Role(body.role), utcnow())
    return JSONResponse(render.admin_user(user), status_code=201)


async def set_role(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    user_id = path_id(request, "user_id")
    body = parse_body(RoleIn, await request.body())
    user = await services_of(request).users.set_role(principal, user_id, Role(body.role),
                                                     utcnow())
    return JSONResponse(render.admin_user(user))


async def ban_user(request: Request) -> Response:
    principal = await require_principal(request)
    await services_of(request).users.ban(principal, path_id(request, "user_id"), utcnow())
    return Response(status_code=204)


# -- events -----------------------------------------------------------------------------------


async def patch_event(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    event_id = path_id(request, "event_id")
    body = parse_body(EventPatchIn, await request.body())
    changes = EventChanges(
        name=body.name, venue=body.venue, start_time=body.start_time, end_time=body.end_time,
        hold_ttl_seconds=body.hold_ttl_seconds,
        waitlist_offer_seconds=body.waitlist_offer_seconds, auto_promote=body.auto_promote,
        status=EventStatus(body.status) if body.status else None, capacity=body.capacity,
        timezone=body.timezone)
    event = await services_of(request).event_admin.update(principal, event_id, changes, utcnow())
    return JSONResponse(render.event(event))


async def deactivate_event(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    admin = services_of(request).event_admin
    event = await admin.deactivate(principal, path_id(request, "event_id"), utcnow())
    return JSONResponse(render.event(event))


async def delete_event(request: Request) -> Response:
    principal = await require_principal(request)
    await services_of(request).event_admin.delete(principal, path_id(request, "event_id"))
    return Response(status_code=204)


async def generate_seats(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    event_id = path_id(request, "event_id")
    body = parse_body(SeatsGenerateIn, await request.body())
    sections = ([Section(s.name, s.rows, s.seats_per_row, s.rank) for s in body.sections]
                if body.sections is not None else None)
    admin = services_of(request).event_admin
    event = await admin.generate_seats(principal, event_id, body.capacity, sections, utcnow())
    return JSONResponse(render.event(event), status_code=201)


async def attendees(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    event_id = path_id(request, "event_id")
    query = parse_query(AttendeesQuery, request.query_params)
    admin = services_of(request).event_admin
    items, total = await admin.attendees(principal, event_id, query.offset, query.page_size)
    return JSONResponse({"event_id": event_id,
                         **render.page([render.attendee(a) for a in items], total, query.page,
                                       query.page_size)})


async def list_bookings(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    query = parse_query(AdminBookingsQuery, request.query_params)
    bookings, total = await services_of(request).event_admin.bookings(
        principal, query.event_id, query.status, query.offset, query.page_size)
    return JSONResponse(render.page([render.booking(b) for b in bookings], total, query.page,
                                    query.page_size))


# -- analytics --------------------------------------------------------------------------------


async def summary(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    query = parse_query(SummaryQuery, request.query_params)
    report = await services_of(request).analytics.summary(principal, utcnow(), query.refresh)
    return JSONResponse(report)


async def homepage(request: Request) -> JSONResponse:
    return JSONResponse(await services_of(request).analytics.homepage(utcnow()))


routes = [
    Route("/admin/users", list_users, methods=["GET"]),
    Route("/admin/users", create_user, methods=["POST"]),
    Route("/admin/users/{user_id}/role", set_role, methods=["PATCH"]),
    Route("/admin/users/{user_id}", ban_user, methods=["DELETE"]),
    Route("/admin/users/{user_id}", get_user, methods=["GET"]),
    Route("/admin/events/{event_id}", patch_event, methods=["PATCH"]),
    Route("/admin/events/{event_id}", delete_event, methods=["DELETE"]),
    Route("/admin/events/{event_id}/deactivate", deactivate_event, methods=["POST"]),
    Route("/admin/events/{event_id}/seats/generate", generate_seats, methods=["POST"]),
    Route("/admin/events/{event_id}/attendees", attendees, methods=["GET"]),
    Route("/admin/bookings", list_bookings, methods=["GET"]),
    Route("/admin/analytics/summary", summary, methods=["GET"]),
    Route("/stats/homepage", homepage, methods=["GET"]),
]
