"""``/events`` listing, ``/events/*`` reads and ``POST /admin/events``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from hub.events import EventDraft
from hub.model import EventStatus
from hub.ports import EventQuery
from hub.seatmap import Section
from web import render
from web.admin_schemas import EventListQuery, parse_query
from web.auth import require_principal, services_of
from web.clock import utcnow
from web.errors import JSONResponse
from web.params import path_id
from web.schemas import EventIn, parse_body

__all__ = ["routes"]


async def create_event(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    body = parse_body(EventIn, await request.body())
    draft = EventDraft(
        name=body.name, venue=body.venue, start_time=body.start_time, end_time=body.end_time,
        capacity=body.capacity,
        sections=[Section(s.name, s.rows, s.seats_per_row, s.rank) for s in body.seat_map.sections]
        if body.seat_map else None,
        hold_ttl_seconds=body.hold_ttl_seconds,
        waitlist_offer_seconds=body.waitlist_offer_seconds, auto_promote=body.auto_promote,
        timezone=body.timezone)
    event = await services_of(request).event_admin.create(principal, draft, utcnow())
    return JSONResponse(render.event(event), status_code=201)


async def list_events(request: Request) -> JSONResponse:
    """``{items: [Event], total, page, page_size}``; bad parameters are 422."""
    q = parse_query(EventListQuery, request.query_params)
    query = EventQuery(offset=q.offset, limit=q.page_size, q=q.q or None, sort=q.sort,
                       order=q.order, upcoming_only=q.upcoming_only,
                       status=EventStatus(q.status) if q.status else None)
    events, total = await services_of(request).event_admin.search(query, utcnow())
    return JSONResponse(render.page([render.event(e) for e in events], total, q.page,
                                    q.page_size))


async def get_event(request: Request) -> JSONResponse:
    event = await services_of(request).events.get(path_id(request, "event_id"))
    return JSONResponse(render.event(event))


async def get_seats(request: Request) -> JSONResponse:
    event_id = path_id(request, "event_id")
    snap, seats = await services_of(request).bookings.seats(event_id, utcnow())
    return JSONResponse({"event_id": event_id, "epoch": snap.epoch, "seq": snap.seq,
                         "seats": [render.seat(s) for s in seats]})


routes = [
    Route("/admin/events", create_event, methods=["POST"]),
    Route("/events", list_events, methods=["GET"]),
    Route("/events/{event_id}", get_event, methods=["GET"]),
    Route("/events/{event_id}/seats", get_seats, methods=["GET"]),
]
