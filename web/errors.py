"""Errors to the wire, once (STYLE.md §6): one handler for the base class renders every
contract error for REST; :func:`ws_error` does it for WebSocket replies."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from hub.errors import Evently, RateLimited, Unavailable

__all__ = ["JSONResponse", "envelope", "exception_handlers", "ws_error"]

log = logging.getLogger(__name__)


class JSONResponse(Response):
    """orjson-rendered JSON (datetimes become RFC 3339 with their zone)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def envelope(err: Evently) -> dict[str, Any]:
    return {"error": {"code": err.code, "message": err.message, "details": err.details}}


def ws_error(err: Evently, ref: Any = None) -> dict[str, Any]:
    return {"type": "error", "ref": ref, "code": err.code, "message": err.message,
            "details": err.details}


async def _evently(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Evently)
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, Unavailable):
        log.warning("unavailable: %s (%r)", exc.message, exc.__cause__)
    return JSONResponse(envelope(exc), status_code=exc.status, headers=headers)


_HTTP_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND",
               405: "BAD_REQUEST", 413: "PAYLOAD_TOO_LARGE"}


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "BAD_REQUEST")
    body = {"error": {"code": code, "message": str(exc.detail), "details": {}}}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    body = {"error": {"code": "UNAVAILABLE", "message": "The server failed unexpectedly.",
                      "details": {}}}
    return JSONResponse(body, status_code=500)


exception_handlers: dict[Any, Any] = {Evently: _evently, HTTPException: _http,
                                      Exception: _unexpected}
