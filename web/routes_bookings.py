"""Holds and bookings over REST: the same :class:`hub.bookings.BookingService` as ``/ws``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.model import Booking, BookingStatus
from web import render
from web.admin_schemas import MyBookingsQuery, parse_query
from web.auth import require_principal, services_of
from web.clock import utcnow
from web.errors import JSONResponse
from web.idempotency import idempotent
from web.params import path_id
from web.schemas import BookIn, BookingPatchIn, ConfirmIn, HoldIn, parse_body

__all__ = ["routes"]


async def create_hold(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    event_id = path_id(request, "event_id")
    body = parse_body(HoldIn, await request.body())
    hold = await services_of(request).bookings.hold(principal, event_id, utcnow(),
                                                    seat_ids=body.seat_ids, qty=body.qty)
    return JSONResponse(render.hold(hold), status_code=201)


async def get_hold(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    hold, outcome = await services_of(request).bookings.hold_status(
        principal, request.path_params["hold_id"])
    return JSONResponse(render.hold_status(hold, outcome))


async def extend_hold(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    hold = await services_of(request).bookings.extend(principal,
                                                      request.path_params["hold_id"], utcnow())
    return JSONResponse(render.hold(hold))


async def release_hold(request: Request) -> Response:
    principal = await require_principal(request)
    await services_of(request).bookings.release(principal, request.path_params["hold_id"],
                                                utcnow())
    return Response(status_code=204)


async def confirm_hold(request: Request) -> Response:
    principal = await require_principal(request)
    body = parse_body(ConfirmIn, await request.body(), optional=True)
    bookings = services_of(request).bookings
    hold_id = request.path_params["hold_id"]
    guest = body.guest.model_dump() if body.guest else None

    async def run() -> tuple[int, dict[str, object]]:
        booking = await bookings.confirm(principal, hold_id, utcnow(), guest)
        return 201, render.booking(booking)

    return await idempotent(request, principal, run)


async def book(request: Request) -> Response:
    """201 Booking, or 202 WaitlistEntry when sold out and ``waitlist: true``."""
    principal = await require_principal(request)
    event_id = path_id(request, "event_id")
    body = parse_body(BookIn, await request.body())
    box_office = services_of(request).box_office
    guest = body.guest.model_dump() if body.guest else None

    async def run() -> tuple[int, dict[str, object]]:
        made = await box_office.book_or_wait(principal, event_id, utcnow(),
                                             seat_ids=body.seat_ids, qty=body.qty, guest=guest,
                                             wait=body.waitlist)
        if isinstance(made, Booking):
            return 201, render.booking(made)
        return 202, render.waitlist_entry(made)

    return await idempotent(request, principal, run)


async def my_bookings(request: Request) -> JSONResponse:
    """My bookings, newest first: all of them, or one page with ``page_size`` (a list
    either way)."""
    principal = await require_principal(request)
    query = parse_query(MyBookingsQuery, request.query_params)
    bookings = await services_of(request).bookings.mine(
        principal, BookingStatus(query.status) if query.status else None, query.offset,
        query.page_size)
    return JSONResponse([render.booking(b) for b in bookings])


async def get_booking(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    booking = await services_of(request).bookings.get_booking(principal,
                                                              path_id(request, "booking_id"))
    return JSONResponse(render.booking(booking))


async def cancel_booking(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    booking = await services_of(request).bookings.cancel(principal,
                                                         path_id(request, "booking_id"),
                                                         utcnow())
    return JSONResponse(render.booking(booking))


async def change_booking(request: Request) -> JSONResponse:
    principal = await require_principal(request)
    booking_id = path_id(request, "booking_id")
    body = parse_body(BookingPatchIn, await request.body())
    booking = await services_of(request).booking_changes.change(
        principal, booking_id, utcnow(), guest=body.guest.model_dump() if body.guest else None,
        release_seat_ids=body.release_seat_ids)
    return JSONResponse(render.booking(booking))


routes = [
    Route("/events/{event_id}/holds", create_hold, methods=["POST"]),
    Route("/holds/{hold_id}", get_hold, methods=["GET"]),
    Route("/holds/{hold_id}", release_hold, methods=["DELETE"]),
    Route("/holds/{hold_id}/extend", extend_hold, methods=["POST"]),
    Route("/holds/{hold_id}/confirm", confirm_hold, methods=["POST"]),
    Route("/events/{event_id}/book", book, methods=["POST"]),
    Route("/me/bookings", my_bookings, methods=["GET"]),
    Route("/bookings/{booking_id}", get_booking, methods=["GET"]),
    Route("/bookings/{booking_id}", cancel_booking, methods=["DELETE"]),
    Route("/bookings/{booking_id}", change_booking, methods=["PATCH"]),
]
