"""``GET /asyncapi.json``: the WebSocket protocol of ``/ws`` as an AsyncAPI 3.0 document, and
``GET /docs/ws``: that document rendered offline (one self-contained page, no CDN).

The document is written from the hub's point of view: a client ``op`` is an operation the hub
``receive``s (its reply is the operation's ``reply``), a push is one it ``send``s. Objects
shared with REST (Hold, Booking, WaitlistEntry, Notification) use the very pydantic models of
:mod:`web.wire_models` that describe them in OpenAPI. ``docs/asyncapi.json`` in the repository
is this document, written by ``python -m web.asyncapi`` (a test keeps the two equal).
"""

from __future__ import annotations

import json
import sys
from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from web import wire_models
from web.errors import JSONResponse

__all__ = ["OPS", "PUSHES", "document", "routes"]

_INT = {"type": "integer"}
_IDS = {"type": "array", "items": _INT}
_STR = {"type": "string"}
_TIME = {"type": "string", "format": "date-time"}
_GUEST = {"type": "object", "properties": {"name": _STR, "email": _STR},
          "required": ["name", "email"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


# op -> (summary, fields, required fields, result schema, reply type)
OPS: dict[str, tuple[str, dict[str, Any], list[str], dict[str, Any], str]] = {
    "auth": ("Authenticate the session (again at any time, with a fresh token). Until then "
             "a session may only subscribe, unsubscribe and ping.",
             {"token": _STR}, ["token"],
             {"type": "object", "properties": {"user_id": _INT, "role": _STR,
                                               "expires_at": _TIME}}, "ok"),
    "subscribe": ("Watch an event's seats: a snapshot follows, or with a still-known "
                  "`since` every missed delta in order and then `recovered`.",
                  {"event_id": _INT, "since": {"type": "object", "properties": {
                      "epoch": _INT, "seq": _INT}, "required": ["epoch", "seq"]}},
                  ["event_id"],
                  {"type": "object", "properties": {"event_id": _INT, "epoch": _INT,
                                                    "seq": _INT}}, "ok"),
    "unsubscribe": ("Stop watching an event.", {"event_id": _INT}, ["event_id"],
                    {"type": "object"}, "ok"),
    "hold": ("Hold seats, all or nothing: `seat_ids`, or `qty` best seats side by side.",
             {"event_id": _INT, "seat_ids": _IDS, "qty": {"type": "integer", "minimum": 1}},
             ["event_id"], _ref("Hold"), "ok"),
    "extend": ("Push a hold's expiry later (never past its maximum lifetime).",
               {"hold_id": _STR}, ["hold_id"], _ref("Hold"), "ok"),
    "release": ("Give a hold's seats back.", {"hold_id": _STR}, ["hold_id"],
                {"type": "object"}, "ok"),
    "confirm": ("Turn a hold into a booking (one PostgreSQL transaction).",
                {"hold_id": _STR, "idempotency_key": _STR, "guest": _GUEST}, ["hold_id"],
                _ref("Booking"), "ok"),
    "cancel": ("Cancel a booking; its seats free up at once.", {"booking_id": _INT},
               ["booking_id"], _ref("Booking"), "ok"),
    "booking.update": ("Change a booking's guest details and/or give some seats back "
                       "(they free up at once; giving back every seat cancels it), as "
                       "PATCH /bookings/{id}.",
                       {"booking_id": _INT, "guest": _GUEST, "release_seat_ids": _IDS},
                       ["booking_id"], _ref("Booking"), "ok"),
    "waitlist.join": ("Join an event's waitlist (only when the seats cannot be held now).",
                      {"event_id": _INT, "qty": {"type": "integer", "minimum": 1}},
                      ["event_id", "qty"], _ref("WaitlistEntry"), "ok"),
    "waitlist.leave": ("Leave the waitlist; an open offer passes to the next in line.",
                       {"entry_id": _INT}, ["entry_id"], {"type": "object"}, "ok"),
    "analytics.subscribe": ("Admins and organizers: receive `analytics` at least once a "
                            "second (organizers: only the events they organize).", {}, [],
                            {"type": "object"}, "ok"),
    "ping": ("Liveness check.", {}, [], {"type": "object"}, "pong"),
}

_CHANGE = {"type": "object", "properties": {
    "seat_id": _INT, "status": {"type": "string", "enum": ["available", "held", "sold"]}},
    "required": ["seat_id", "status"]}
_ANALYTICS_EVENT = {"type": "object", "properties": {
    k: _INT for k in ("id", "sold", "held", "available", "waitlisted", "holds_per_min",
                      "bookings_per_min", "subscribers")}}

# push type -> (summary incl. who receives it, fields, required fields)
PUSHES: dict[str, tuple[str, dict[str, Any], list[str]]] = {
    "snapshot": ("The whole seat map, to the subscribing session.",
                 {"event_id": _INT, "epoch": _INT, "seq": _INT, "seats": {
                     "type": "object", "properties": {
                         "available": _IDS, "held": _IDS, "sold": _IDS}}},
                 ["event_id", "epoch", "seq", "seats"]),
    "delta": ("Seats that changed, to every subscriber on every hub process. `seq` rises by "
              "exactly 1 per delta of an event; on a gap or a new epoch subscribe again with "
              "`since`. `ts`: server time of the change, epoch milliseconds.",
              {"event_id": _INT, "epoch": _INT, "seq": _INT,
               "changes": {"type": "array", "items": _CHANGE}, "ts": _INT},
              ["event_id", "epoch", "seq", "changes"]),
    "recovered": ("After the missed deltas of a `subscribe` with `since`.",
                  {"event_id": _INT, "seq": _INT}, ["event_id", "seq"]),
    "hold.expired": ("A hold ran out, to every session of its holder.",
                     {"hold_id": _STR, "event_id": _INT, "seat_ids": _IDS},
                     ["hold_id", "event_id", "seat_ids"]),
    "booking.confirmed": ("To every session of the owner.", {"booking": _ref("Booking")},
                          ["booking"]),
    "booking.cancelled": ("To every session of the owner.", {"booking": _ref("Booking")},
                          ["booking"]),
    "waitlist.offered": ("Seats held for a waitlist entry, the instant they free up.",
                         {"entry_id": _INT, "event_id": _INT, "hold": _ref("Hold")},
                         ["entry_id", "event_id", "hold"]),
    "waitlist.promoted": ("Booked from the waitlist (`auto_promote` events).",
                          {"entry_id": _INT, "booking": _ref("Booking")},
                          ["entry_id", "booking"]),
    "notification": ("A new notification, to every session of its user.",
                     {"notification": _ref("Notification")}, ["notification"]),
    "analytics": ("Live figures, to admin sessions that asked, at least once a second.",
                  {"at": _INT, "events": {"type": "array", "items": _ANALYTICS_EVENT},
                   "connections": _INT}, ["at", "events", "connections"]),
    "auth.expired": ("The session's token expired; privileged ops answer TOKEN_EXPIRED "
                     "until a fresh `auth`.", {}, []),
}

ERROR_CODES = (
    "BAD_REQUEST", "UNAUTHENTICATED", "TOKEN_EXPIRED", "TOKEN_REVOKED", "INVALID_CREDENTIALS",
    "FORBIDDEN", "NOT_FOUND", "SEAT_UNAVAILABLE", "NOT_ENOUGH_SEATS", "SOLD_OUT",
    "HOLD_EXPIRED", "EVENT_INACTIVE", "CAPACITY_BELOW_SOLD", "EVENT_HAS_BOOKINGS",
    "IDEMPOTENCY_KEY_IN_USE", "ALREADY_EXISTS", "SEATS_AVAILABLE", "PAYLOAD_TOO_LARGE",
    "VALIDATION_ERROR", "IDEMPOTENCY_KEY_REUSED", "RATE_LIMITED", "HOLD_LIMIT", "INTERNAL",
    "UNAVAILABLE")

DESCRIPTION = """The live protocol of Evently Hub at `GET /ws`.

Text frames of JSON. A server frame is one message object, or an array of message objects
sent together. Client messages carry `op` and an optional `ref` that the reply echoes. A reply
is `{"type": "ok", "ref", ...result}` or `{"type": "error", "ref", "code", "message",
"details"}`; error codes are the same as over REST (docs/rest.md).

A browser authenticates with the `auth` op; another client may instead send
`Authorization: Bearer <token>` on the upgrade request. A browser's `Origin` must be the hub's
own or listed in `ALLOWED_ORIGINS`.

Limits (README, "WebSocket limits"): an upgrade past the sockets allowed per client address
is refused with HTTP 429 `RATE_LIMITED`; a session with no user and no subscription for
`WS_IDLE_SECONDS` is closed with 1008, and so is one whose authentication passes the sockets
allowed per user (after a `RATE_LIMITED` error reply); a `subscribe` past the subscriptions
allowed per session answers `VALIDATION_ERROR`, and past the `subscribe` rate `RATE_LIMITED`.

Close codes: 1008 origin not allowed, idle, or too many sockets for the user, 1009 message too
big (limit 64 KiB), 1011 server error, 1013 overloaded or too slow to keep up (reconnect and
subscribe with `since`), 4401 banned or revoked."""


def _key(name: str) -> str:
    return name.replace(".", "_")


def _object(fields: dict[str, Any], required: list[str], **fixed: Any) -> dict[str, Any]:
    props = {k: {"const": v} for k, v in fixed.items()}
    props.update(fields)
    return {"type": "object", "properties": props,
            "required": [*fixed, *required]}


def _message(name: str, title: str, summary: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "title": title, "summary": summary, "payload": payload}


@cache
def document() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of ``/ws`` (built once per process)."""
    schemas: dict[str, Any] = {}
    for model in (wire_models.Hold, wire_models.Booking, wire_models.WaitlistEntry,
                  wire_models.Notification):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    ref_field = {"description": "Any JSON value; echoed in the reply."}
    schemas["Error"] = _object(
        {"ref": ref_field, "code": {"type": "string", "enum": list(ERROR_CODES)},
         "message": _STR, "details": {"type": "object"}}, ["code", "message"], type="error")
    messages: dict[str, Any] = {
        "error": _message("error", "Error reply", "An op failed; nothing was changed.",
                          _ref("Error")),
        "pong": _message("pong", "Pong", "The reply to `ping`.",
                         _object({"ref": ref_field}, [], type="pong"))}
    operations: dict[str, Any] = {}
    channel = {"$ref": "#/channels/ws"}

    def on_channel(key: str) -> dict[str, str]:
        return {"$ref": f"#/channels/ws/messages/{key}"}

    for op, (summary, fields, required, result, reply) in OPS.items():
        key = _key(op)
        messages[f"op_{key}"] = _message(op, f"{op} (client op)", summary,
                                         _object({"ref": ref_field, **fields}, required, op=op))
        if reply == "ok":
            messages[f"ok_{key}"] = _message(
                "ok", f"{op} reply", f"The result of `{op}`, with `ref` echoed.",
                {"allOf": [_object({"ref": ref_field}, [], type="ok"), result]})
            reply_messages = [on_channel(f"ok_{key}"), on_channel("error")]
        else:
            reply_messages = [on_channel("pong")]
        operations[key] = {
            "action": "receive", "channel": channel, "title": op, "summary": summary,
            "messages": [on_channel(f"op_{key}")],
            "reply": {"channel": channel, "messages": reply_messages}}
    for kind, (summary, fields, required) in PUSHES.items():
        key = f"push_{_key(kind)}"
        messages[key] = _message(kind, f"{kind} (push)", summary,
                                 _object(fields, required, type=kind))
        operations[key] = {"action": "send", "channel": channel, "title": kind,
                           "summary": summary, "messages": [on_channel(key)]}
    return {
        "asyncapi": "3.0.0",
        "id": "urn:evently-hub:ws",
        "info": {"title": "Evently Hub WebSocket", "version": "0.1.0",
                 "description": "\n\n".join(  # paragraphs, each on one line
                     " ".join(p.split("\n")) for p in DESCRIPTION.split("\n\n"))},
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "127.0.0.1:8000", "protocol": "ws",
                              "description": "`evently serve` with its defaults"}},
        "channels": {"ws": {
            "address": "/ws", "title": "The hub's WebSocket",
            "servers": [{"$ref": "#/servers/local"}],
            "messages": {k: {"$ref": f"#/components/messages/{k}"} for k in messages}}},
        "operations": operations,
        "components": {"schemas": dict(sorted(schemas.items())), "messages": messages},
    }


async def asyncapi_json(request: Request) -> JSONResponse:
    return JSONResponse(document())


async def docs_ws(request: Request) -> Response:
    """The document rendered offline by :data:`PAGE` and ``web/static/asyncapi-page.js`` (no
    CDN, no inline script: the page passes the hub's Content-Security-Policy)."""
    return HTMLResponse(PAGE)


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evently Hub WebSocket protocol</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:72rem;margin:0 auto;padding:1rem;color:#222}
h1{margin-bottom:0}h2{border-bottom:1px solid #ccc;margin-top:2rem}
code,.t{font-family:ui-monospace,monospace;font-size:.9em}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}.desc{white-space:pre-wrap}.req{color:#b00}
nav a{margin-right:1rem}
</style></head><body>
<nav><a href="/docs">REST (OpenAPI)</a><a href="/asyncapi.json">asyncapi.json</a>
<a href="/">Seat picker</a></nav>
<h1 id="title">Evently Hub WebSocket protocol</h1>
<main id="doc" aria-live="polite">Loading /asyncapi.json…</main>
<script src="/static/asyncapi-page.js"></script>
</body></html>
"""


routes: list[BaseRoute] = [
    Route("/asyncapi.json", asyncapi_json, methods=["GET"]),
    Route("/docs/ws", docs_ws, methods=["GET"]),
]

if __name__ == "__main__":  # writes docs/asyncapi.json
    sys.stdout.write(json.dumps(document(), indent=2) + "\n")
