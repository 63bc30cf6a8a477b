"""A request body limit for every HTTP route, as a pure ASGI middleware (OWASP API4).

Limits, in bytes, by path (the first that matches):

    /auth/...      AUTH_LIMIT   (4 KiB: an e-mail, a password, a token)
    /admin/...     ADMIN_LIMIT  (1 MiB: an event with its seat map)
    anything else  DEFAULT_LIMIT (64 KiB)

A body over the limit is answered ``413 PAYLOAD_TOO_LARGE`` (CONTRACT.md §2) and is never read
whole: a ``Content-Length`` over the limit is refused before any byte is read, and a streamed
(chunked) body is cut off as soon as the bytes read so far pass the limit; the connection is
then closed, so the server does not drain the rest either. This middleware sits
outside the rate limiter (web/ratelimit.py), so the login rate limit's body peek reads through
it; :data:`AUTH_LIMIT` is below that peek's size, so every login that reaches the password
check has been counted against its e-mail.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from hub.errors import PayloadTooLarge
from web.errors import error_response
from web.middleware import HTTPMiddleware
from web.ratelimit import MAX_BODY_PEEK

__all__ = ["ADMIN_LIMIT", "AUTH_LIMIT", "DEFAULT_LIMIT", "BodyLimitMiddleware", "limit_for"]

AUTH_LIMIT = 4 * 1024
ADMIN_LIMIT = 1024 * 1024
DEFAULT_LIMIT = 64 * 1024

# A login body the rate limiter cannot read whole would skip the per-email limit.
assert AUTH_LIMIT < MAX_BODY_PEEK


def limit_for(path: str) -> int:
    """The body limit of a request path, in bytes."""
    if path == "/auth" or path.startswith("/auth/"):
        return AUTH_LIMIT
    if path == "/admin" or path.startswith("/admin/"):
        return ADMIN_LIMIT
    return DEFAULT_LIMIT


def _declared_length(scope: Scope) -> int | None:
    """The request's ``Content-Length``, or None when absent or not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware(HTTPMiddleware):
    """Answer 413 to HTTP requests whose body passes :func:`limit_for` of their path."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = limit_for(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _refuse(PayloadTooLarge(limit=limit), scope, receive, send)
            return
        received = 0
        started = over = False

        async def limited_receive() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise PayloadTooLarge(limit=limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if over:  # the route answered (413): don't let the server drain the rest
                    MutableHeaders(scope=message)["connection"] = "close"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except PayloadTooLarge as err:
            if started:
                raise
            await _refuse(err, scope, receive, send)


async def _refuse(err: PayloadTooLarge, scope: Scope, receive: Receive, send: Send) -> None:
    """Send the 413 envelope and close the connection (the rest of the body is not read)."""
    response = error_response(err, scope)
    response.headers["Connection"] = "close"
    await response(scope, receive, send)
