"""Errors to the wire, once (STYLE.md §6): one handler for the base class renders every
contract error for REST; :func:`ws_error` does it for WebSocket replies.

An exception that is not a contract error is a bug: 500 ``INTERNAL`` (the log has the trace).
``UNAVAILABLE`` (503) is only ever :class:`hub.errors.Unavailable`, a backing store that is
down (CONTRACT §2).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from hub.errors import Evently, Internal, RateLimited, Unavailable

__all__ = ["JSONResponse", "envelope", "exception_handlers", "unexpected", "ws_error"]

log = logging.getLogger(__name__)


class JSONResponse(Response):
    """orjson-rendered JSON (datetimes become RFC 3339 with their zone)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def envelope(err: Evently) -> dict[str, Any]:
    return {"error": {"code": err.code, "message": err.message, "details": err.details}}


def _log(err: Evently) -> None:
    """One log line for the errors an operator must hear about (5xx)."""
    if isinstance(err, Unavailable):
        log.warning("unavailable: %s (%r)", err.message, err.__cause__)
    elif err.status >= 500 and err.__cause__ is None:  # with a cause: logged by unexpected()
        log.error("internal error: %s", err.message)


def unexpected(where: str, exc: BaseException) -> Internal:
    """Log a non-contract exception with its trace and return the 500 ``INTERNAL`` for it."""
    log.error("unhandled error in %s", where, exc_info=exc)
    err = Internal()
    err.__cause__ = exc
    return err


def ws_error(err: Evently, ref: Any = None) -> dict[str, Any]:
    """The WebSocket ``error`` reply of a contract error (CONTRACT §3)."""
    _log(err)
    return {"type": "error", "ref": ref, "code": err.code, "message": err.message,
            "details": err.details}


async def _evently(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Evently)
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    _log(exc)
    return JSONResponse(envelope(exc), status_code=exc.status, headers=headers)


_HTTP_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND",
               405: "BAD_REQUEST", 413: "BAD_REQUEST"}


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "BAD_REQUEST")
    body = {"error": {"code": code, "message": str(exc.detail), "details": {}}}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    err = unexpected(f"{request.method} {request.url.path}", exc)
    return JSONResponse(envelope(err), status_code=err.status)


exception_handlers: dict[Any, Any] = {Evently: _evently, HTTPException: _http,
                                      Exception: _unexpected}
