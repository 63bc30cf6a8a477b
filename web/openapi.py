"""``GET /openapi.json`` (OpenAPI 3.1 of every route of CONTRACT.md §2) and ``GET /docs``.

Request bodies are described by the very pydantic models that validate them
(:mod:`web.schemas`; the few not written yet by their routes come from
:mod:`web.wire_models`), responses by :mod:`web.wire_models`. ``/docs`` is Swagger UI from
the ``swagger-ui-bundle-v2`` wheel, served by the hub itself under ``/docs/assets/`` (works
offline, no CDN).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import swagger_ui_bundle  # type: ignore[import-untyped]
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from hub.errors import NotFound
from web import admin_schemas, schemas, wire_models
from web.errors import JSONResponse

__all__ = ["OPERATIONS", "Op", "document", "routes"]

TITLE = "Evently Hub"
VERSION = "0.1.0"


@dataclass(frozen=True)
class Op:
    """One operation: ``ok`` maps success statuses to a response model name (None: no body,
    ``"html"``/``"text"``: a page or Prometheus text), ``errors`` lists error statuses."""

    method: str
    path: str
    summary: str
    tag: str
    ok: dict[int, str | None]
    errors: tuple[int, ...] = ()
    auth: bool = False
    body: str | None = None
    body_optional: bool = False
    query: tuple[dict[str, Any], ...] = ()
    idempotency: bool = False
    array: frozenset[int] = field(default_factory=frozenset)  # statuses whose body is [model]


def _q(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


_PAGE = (_q("page", {"type": "integer", "minimum": 1, "default": 1}),
         _q("page_size", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}))
_AUTH = (401,)
_W = (400, 413, 422)  # a body or query that does not parse / is too large / breaks a rule

OPERATIONS: tuple[Op, ...] = (
    Op("POST", "/auth/signup",
       "Create an account (role organizer as ORGANIZER_SIGNUP allows: open, approval, closed)",
       "auth", {201: "User"}, (*_W, 403, 409, 429), body="SignupIn"),
    Op("POST", "/auth/login", "Get an access and refresh token", "auth", {200: "TokenPair"},
       (*_W, 401, 429), body="LoginIn"),
    Op("POST", "/auth/refresh", "Trade a refresh token for a new pair (the old one is spent)",
       "auth", {200: "TokenPair"}, (*_W, 401), body="RefreshIn"),
    Op("POST", "/auth/logout", "Revoke this access token and its refresh family", "auth",
       {204: None}, _AUTH, auth=True),
    Op("GET", "/auth/me", "Who am I", "auth", {200: "User"}, _AUTH, auth=True),
    Op("PATCH", "/auth/me", "Change my name", "auth", {200: "User"}, (*_W, *_AUTH),
       auth=True, body="MeIn"),
    Op("POST", "/auth/password",
       "Change my password (needs the old one); every other session is revoked", "auth",
       {204: None}, (*_W, *_AUTH, 429), auth=True, body="PasswordChangeIn"),
    Op("POST", "/auth/password-reset",
       "E-mail a single-use reset token valid 15 minutes (202 whether or not the address "
       "has an account)", "auth", {202: None}, (*_W, 429), body="PasswordResetIn"),
    Op("POST", "/auth/password-reset/confirm",
       "Set a new password with a reset token; every session is revoked", "auth",
       {204: None}, _W, body="PasswordResetConfirmIn"),
    Op("GET", "/events", "List events", "events", {200: "EventPage"}, _W, query=(
        *_PAGE, _q("q", {"type": "string", "maxLength": 200}, "Search in names and venues."),
        _q("sort", {"enum": ["start_time", "name", "utilization", "created_at"],
                    "default": "start_time"}),
        _q("order", {"enum": ["asc", "desc"], "default": "asc"}),
        _q("upcoming_only", {"type": "boolean", "default": False}))),
    Op("GET", "/events/{event_id}", "One event with live counts", "events", {200: "Event"},
       (404,)),
    Op("GET", "/events/{event_id}/seats", "Every seat with its live status", "events",
       {200: "SeatsView"}, (404,)),
    Op("POST", "/events/{event_id}/holds", "Hold seats (all or nothing), by ids or by qty",
       "holds", {201: "Hold"}, (*_W, *_AUTH, 404, 409, 429), auth=True, body="HoldIn"),
    Op("GET", "/holds/{hold_id}", "One of my holds, or how it ended (confirmed, released, "
       "expired)", "holds", {200: "HoldStatus"},
       (*_AUTH, 403, 404), auth=True),
    Op("POST", "/holds/{hold_id}/extend", "Extend my hold (never past its maximum lifetime)",
       "holds", {200: "Hold"}, (*_AUTH, 403, 404, 409), auth=True),
    Op("DELETE", "/holds/{hold_id}", "Release my hold", "holds", {204: None},
       (*_AUTH, 403, 404, 409), auth=True),
    Op("POST", "/holds/{hold_id}/confirm", "Confirm my hold into a booking", "bookings",
       {201: "Booking"}, (*_W, *_AUTH, 403, 404, 409, 429), auth=True, body="ConfirmIn",
       body_optional=True, idempotency=True),
    Op("POST", "/events/{event_id}/book",
       "Hold and confirm in one step; with waitlist=true a sold-out event queues me (202)",
       "bookings", {201: "Booking", 202: "WaitlistEntry"}, (*_W, *_AUTH, 404, 409, 429),
       auth=True, body="BookIn", idempotency=True),
    Op("GET", "/me/bookings", "My bookings, newest first (all, or a page with page_size)",
       "bookings", {200: "Booking"}, (*_W, *_AUTH), auth=True, array=frozenset({200}),
       query=(_q("status", {"enum": ["CONFIRMED", "CANCELLED"]}),
              _q("page", {"type": "integer", "minimum": 1, "default": 1}),
              _q("page_size", {"type": "integer", "minimum": 1, "maximum": 100},
                 "Without it, every booking."))),
    Op("GET", "/bookings/{booking_id}", "One booking (owner, admin, event organizer)",
       "bookings", {200: "Booking"}, (*_AUTH, 403, 404), auth=True),
    Op("DELETE", "/bookings/{booking_id}", "Cancel a booking; its seats free up at once",
       "bookings", {200: "Booking"}, (*_AUTH, 403, 404), auth=True),
    Op("PATCH", "/bookings/{booking_id}",
       "Change the guest and/or give some seats back (they free up at once; all = cancel)",
       "bookings", {200: "Booking"}, (*_W, *_AUTH, 403, 404, 429), auth=True,
       body="BookingPatchIn"),
    Op("POST", "/events/{event_id}/waitlist", "Join the waitlist of an event", "waitlist",
       {201: "WaitlistEntry"}, (*_W, *_AUTH, 404, 409), auth=True, body="WaitlistIn"),
    Op("GET", "/waitlists/me", "My waitlist entries", "waitlist", {200: "WaitlistEntry"},
       _AUTH, auth=True, array=frozenset({200})),
    Op("DELETE", "/waitlists/{entry_id}", "Leave a waitlist (an open offer moves on)",
       "waitlist", {204: None}, (*_AUTH, 403, 404), auth=True),
    Op("GET", "/me/notifications", "My notifications", "notifications",
       {200: "Notification"}, (*_W, *_AUTH), auth=True, array=frozenset({200}),
       query=(_q("unread", {"type": "boolean"}, "Only unread ones."),)),
    Op("POST", "/me/notifications/{notification_id}/read", "Mark a notification read",
       "notifications", {204: None}, (*_AUTH, 403, 404), auth=True),
    Op("POST", "/admin/events", "Create an event and its seats", "admin",
       {201: "Event"}, (*_W, *_AUTH, 403, 429), auth=True, body="EventIn"),
    Op("PATCH", "/admin/events/{event_id}",
       "Change an event; more capacity adds seats, {\"status\": \"active\"} reactivates",
       "admin", {200: "Event"}, (*_W, *_AUTH, 403, 404, 409, 429), auth=True,
       body="EventPatchIn"),
    Op("POST", "/admin/events/{event_id}/deactivate", "Stop sales of an event", "admin",
       {200: "Event"}, (*_AUTH, 403, 404, 429), auth=True),
    Op("DELETE", "/admin/events/{event_id}", "Delete an event with no confirmed bookings",
       "admin", {204: None}, (*_AUTH, 403, 404, 409, 429), auth=True),
    Op("POST", "/admin/events/{event_id}/seats/generate",
       "Replace an event's seats from a seat map (only while nothing is sold)", "admin",
       {201: "any"}, (*_W, *_AUTH, 403, 404, 409, 429), auth=True, body="SeatsGenerateIn"),
    Op("GET", "/admin/events/{event_id}/attendees", "The guest list of an event", "admin",
       {200: "any"}, (*_AUTH, 403, 404), auth=True),
    Op("GET", "/admin/events/{event_id}/attendees.csv",
       "The guest list as CSV (formula-safe cells)", "admin", {200: "csv"},
       (*_AUTH, 403, 404), auth=True),
    Op("GET", "/me/events", "My events (organizers, admins) with sold, held, available, "
       "waitlisted and utilization", "organizer", {200: "MyEventPage"}, (*_W, *_AUTH, 403),
       auth=True, query=(*_PAGE, _q("sort", {"enum": ["start_time", "name", "utilization",
                                                     "created_at"], "default": "start_time"}),
                         _q("order", {"enum": ["asc", "desc"], "default": "asc"}))),
    Op("GET", "/admin/bookings", "All bookings, paginated", "admin", {200: "BookingPage"},
       (*_W, *_AUTH, 403, 404), auth=True, query=(
           _q("event_id", {"type": "integer", "minimum": 1}),
           _q("status", {"enum": ["CONFIRMED", "CANCELLED"]}), *_PAGE)),
    Op("GET", "/admin/users", "Accounts with their booking, seat, cancellation and "
       "organized-event counts", "admin", {200: "AdminUserPage"}, (*_W, *_AUTH, 403),
       auth=True, query=(
           *_PAGE, _q("q", {"type": "string", "maxLength": 200}, "Search names and e-mails."),
           _q("role", {"enum": ["user", "organizer", "admin"]}),
           _q("sort", {"enum": ["id", "name", "created_at", "bookings", "seats",
                                "cancellations", "events_organized", "last_login_at"],
                       "default": "id"}),
           _q("order", {"enum": ["asc", "desc"], "default": "asc"}))),
    Op("GET", "/admin/users/{user_id}", "One account with its stats and last log-in",
       "admin", {200: "AdminUser"}, (*_AUTH, 403, 404), auth=True),
    Op("POST", "/admin/users", "Create an account", "admin", {201: "User"},
       (*_W, *_AUTH, 403, 409, 429), auth=True, body="UserCreateIn"),
    Op("PATCH", "/admin/users/{user_id}/role", "Change an account's role", "admin",
       {200: "User"}, (*_W, *_AUTH, 403, 404, 429), auth=True, body="RoleIn"),
    Op("DELETE", "/admin/users/{user_id}", "Ban an account (no log-in, tokens revoked)",
       "admin", {200: "any", 204: None}, (*_AUTH, 403, 404, 429), auth=True),
    Op("GET", "/admin/organizer-requests", "Organizer sign-ups (ORGANIZER_SIGNUP=approval)",
       "admin", {200: "OrganizerRequestPage"}, (*_W, *_AUTH, 403), auth=True, query=(
           _q("status", {"enum": ["pending", "approved", "refused"], "default": "pending"}),
           *_PAGE)),
    Op("POST", "/admin/organizer-requests/{request_id}/approve",
       "Approve: the account becomes an organizer", "admin", {200: "OrganizerRequest"},
       (*_AUTH, 403, 404, 409, 429), auth=True),
    Op("POST", "/admin/organizer-requests/{request_id}/refuse",
       "Refuse: the account stays a user", "admin", {200: "OrganizerRequest"},
       (*_AUTH, 403, 404, 409, 429), auth=True),
    Op("GET", "/admin/audit", "The audit trail of admin and organizer actions, newest first",
       "admin", {200: "AuditPage"}, (*_W, *_AUTH, 403), auth=True, query=(
           _q("actor_id", {"type": "integer", "minimum": 1}),
           _q("event_id", {"type": "integer", "minimum": 1}), *_PAGE)),
    Op("GET", "/admin/analytics/summary",
       "Totals, daily counts and per-event utilization (organizers: their events only)",
       "admin", {200: "AnalyticsSummary"}, (*_W, *_AUTH, 403), auth=True,
       query=(_q("refresh", {"type": "boolean"},
                 "true (or 1) rebuilds the cached summary now."),)),
    Op("GET", "/stats/homepage", "Numbers for the home page", "stats",
       {200: "HomepageStats"}),
    Op("GET", "/healthz", "The process is up", "ops", {200: "Health"}),
    Op("GET", "/readyz", "PostgreSQL and Redis answer (503 otherwise)", "ops",
       {200: "Ready", 503: "Ready"}),
    Op("GET", "/metrics", "Prometheus metrics, summed over workers", "ops", {200: "text"}),
    Op("GET", "/openapi.json", "This document", "ops", {200: "any"}),
    Op("GET", "/docs", "Interactive API documentation", "ops", {200: "html"}),
    Op("GET", "/redoc", "API reference (ReDoc)", "ops", {200: "html"}),
    Op("GET", "/asyncapi.json", "The AsyncAPI document of the WebSocket /ws", "ops",
       {200: "any"}),
    Op("GET", "/docs/ws", "The WebSocket protocol's documentation page", "ops",
       {200: "html"}),
    Op("GET", "/", "The seat-picker page", "pages", {200: "html"}),
    Op("GET", "/admin", "The admin live dashboard", "pages", {200: "html"}),
)

_ERROR_TEXT = {
    400: "BAD_REQUEST: malformed JSON, a non-object body, a wrong type or an unknown field.",
    401: "UNAUTHENTICATED, TOKEN_EXPIRED, TOKEN_REVOKED or INVALID_CREDENTIALS.",
    403: "FORBIDDEN.",
    404: "NOT_FOUND.",
    409: "SEAT_UNAVAILABLE (details.seat_ids), NOT_ENOUGH_SEATS, SOLD_OUT, HOLD_EXPIRED, "
         "EVENT_INACTIVE, CAPACITY_BELOW_SOLD, EVENT_HAS_BOOKINGS, IDEMPOTENCY_KEY_IN_USE, "
         "ALREADY_EXISTS, SEATS_AVAILABLE.",
    413: "PAYLOAD_TOO_LARGE: the body is over the route's limit (4 KiB under /auth, 1 MiB "
         "under /admin, 64 KiB elsewhere; details.limit).",
    422: "VALIDATION_ERROR (details.fields) or IDEMPOTENCY_KEY_REUSED.",
    429: "RATE_LIMITED (with Retry-After) or HOLD_LIMIT.",
    503: "UNAVAILABLE: a backing store is down; nothing was changed.",
}
_PATH_PARAMS = {
    "event_id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    "booking_id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    "entry_id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    "notification_id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    "user_id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    "request_id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    "hold_id": {"type": "string", "minLength": 1, "maxLength": 200,
                "description": "Opaque."},
}
_NO_STORE = {"/healthz", "/metrics", "/openapi.json", "/docs", "/redoc", "/asyncapi.json",
             "/docs/ws", "/", "/admin"}


def _model(name: str) -> type[BaseModel]:
    """A request model is the very one that validates the route's body (:mod:`web.schemas`,
    :mod:`web.admin_schemas`), so the document and the validation cannot drift apart;
    response shapes come from :mod:`web.wire_models`."""
    model = (getattr(schemas, name, None) or getattr(admin_schemas, name, None)
             or getattr(wire_models, name))
    assert isinstance(model, type) and issubclass(model, BaseModel), name
    return model


def _add_schema(components: dict[str, Any], model: type[BaseModel]) -> dict[str, str]:
    """Put ``model`` (and the models it nests) under ``components/schemas``; return a $ref."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        components.setdefault(name, sub)
    components.setdefault(model.__name__, schema)
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _content(components: dict[str, Any], name: str, array: bool) -> dict[str, Any]:
    if name == "html":
        return {"text/html": {"schema": {"type": "string"}}}
    if name == "text":
        return {"text/plain": {"schema": {"type": "string"}}}
    if name == "csv":
        return {"text/csv": {"schema": {"type": "string"}}}
    schema: dict[str, Any] = {} if name == "any" else _add_schema(components, _model(name))
    if array:
        schema = {"type": "array", "items": schema}
    return {"application/json": {"schema": schema}}


def _operation(op: Op, components: dict[str, Any]) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": schema}
        for name, schema in _PATH_PARAMS.items() if "{" + name + "}" in op.path]
    params.extend(op.query)
    if op.idempotency:
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                       "description": "Replays the first response of this key (per user, "
                                      "24 h); another body with the same key is 422."})
    responses: dict[str, Any] = {}
    for status, name in op.ok.items():
        body: dict[str, Any] = {"description": "OK" if status < 300 else "Not ready"}
        if name is not None:
            body["content"] = _content(components, name, status in op.array)
        responses[str(status)] = body
    errors = set(op.errors)
    if op.path not in _NO_STORE:
        errors.add(503)
    for status in sorted(errors):
        responses[str(status)] = {"$ref": f"#/components/responses/E{status}"}
    out: dict[str, Any] = {
        "operationId": (op.method.lower() + op.path.replace("/", "_").replace("{", "")
                        .replace("}", "").replace(".", "_")).rstrip("_") or "root",
        "summary": op.summary, "tags": [op.tag], "responses": responses}
    if params:
        out["parameters"] = params
    if op.body:
        out["requestBody"] = {"required": not op.body_optional,
                              "content": _content(components, op.body, False)}
    out["security"] = [{"bearer": []}] if op.auth else []
    return out


@cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (built once per process)."""
    components: dict[str, Any] = {}
    error_ref = _add_schema(components, wire_models.ErrorEnvelope)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, components)
    responses: dict[str, Any] = {}
    for status, text in _ERROR_TEXT.items():
        resp: dict[str, Any] = {"description": text,
                                "content": {"application/json": {"schema": error_ref}}}
        if status == 429:
            resp["headers"] = {"Retry-After": {
                "description": "Seconds to wait (RATE_LIMITED).",
                "schema": {"type": "integer", "minimum": 0}}}
        responses[f"E{status}"] = resp
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION,
                 "description": "Real-time seat booking hub. Every error is "
                                "`{\"error\": {\"code\", \"message\", \"details\"}}`. "
                                "The live seat map is the WebSocket `GET /ws`: see "
                                "[/docs/ws](/docs/ws) ([AsyncAPI](/asyncapi.json))."},
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "responses": responses,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "bearerFormat": "JWT"}},
        },
    }


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(document())


_ASSETS_DIR = Path(swagger_ui_bundle.swagger_ui_path)
_ASSETS = {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
           "favicon-32x32.png", "favicon-16x16.png"}
_INIT_JS = """window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout", persistAuthorization: true
  });
};
"""
_DOCS_HTML = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{TITLE} API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>
"""


async def docs(request: Request) -> HTMLResponse:
    return HTMLResponse(_DOCS_HTML)


async def docs_asset(request: Request) -> Response:
    """A file of the Swagger UI wheel (only the ones the page uses), or the page's init."""
    name = request.path_params["name"]
    if name == "init.js":
        return Response(_INIT_JS, media_type="text/javascript")
    if name not in _ASSETS or not (_ASSETS_DIR / name).is_file():
        raise NotFound("No such asset.")
    return FileResponse(_ASSETS_DIR / name, headers={"Cache-Control": "public, max-age=86400"})


routes: list[BaseRoute] = [
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/docs", docs, methods=["GET"]),
    Route("/docs/assets/{name}", docs_asset, methods=["GET"]),
]
