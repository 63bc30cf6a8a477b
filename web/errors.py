"""Errors to the wire, once per transport (STYLE.md §6).

Every error a client sees is a :class:`hub.errors.Evently`. Foreign errors are translated into
one at this boundary first (:func:`as_evently`: Starlette's ``HTTPException`` by status, any
other exception into ``INTERNAL``), then exactly one function renders each transport:

* REST: :func:`error_response` — the envelope of :func:`error_body`, the contract status, and
  the ``Retry-After`` header (whole seconds) for :class:`hub.errors.RateLimited`. It also
  stashes the code in the ASGI scope (:data:`ERROR_CODE_KEY`) for the metrics middleware.
* WebSocket: :func:`ws_error` — the same fields as an ``error`` reply.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from hub.errors import (
    BadRequest,
    Evently,
    Forbidden,
    Internal,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthenticated,
    Unavailable,
)

__all__ = [
    "ERROR_CODE_KEY",
    "JSONResponse",
    "as_evently",
    "error_body",
    "error_response",
    "exception_handlers",
    "ws_error",
]

log = logging.getLogger(__name__)

#: ASGI scope key under which the REST error code of a request is left for metrics.
ERROR_CODE_KEY = "evently.error_code"


class JSONResponse(Response):
    """orjson-rendered JSON (datetimes become RFC 3339 with their zone)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def error_body(err: Evently) -> dict[str, Any]:
    """``{"code", "message", "details"}`` of a contract error (CONTRACT.md §2)."""
    return {"code": err.code, "message": err.message, "details": err.details}


def _log(err: Evently) -> None:
    """One log line for the 5xx an operator must hear about: a store down, or an
    ``INTERNAL`` raised as such (a script reply no code knows); an unexpected exception is
    logged with its trace where it is caught (its ``INTERNAL`` carries it as the cause)."""
    if isinstance(err, Unavailable):
        log.warning("unavailable: %s (%r)", err.message, err.__cause__)
    elif err.status >= 500 and err.__cause__ is None:
        log.error("internal error: %s", err.message)


def ws_error(err: Evently, ref: Any = None) -> dict[str, Any]:
    """The WebSocket ``error`` reply (CONTRACT.md §3), echoing the request's ``ref``."""
    _log(err)
    return {"type": "error", "ref": ref, **error_body(err)}


def error_response(err: Evently, scope: Scope | None = None) -> JSONResponse:
    """The REST answer for ``err``: envelope, status, ``Retry-After`` where it applies.

    ``scope``: the request's ASGI scope, which keeps the code for the metrics middleware.
    """
    if scope is not None:
        scope[ERROR_CODE_KEY] = err.code
    headers = {"Retry-After": str(err.retry_after)} if isinstance(err, RateLimited) else None
    return JSONResponse({"error": error_body(err)}, status_code=err.status, headers=headers)


_BY_STATUS: dict[int, type[Evently]] = {
    400: BadRequest, 401: Unauthenticated, 403: Forbidden, 404: NotFound,
    405: BadRequest, 413: PayloadTooLarge}


def as_evently(exc: BaseException) -> Evently:
    """Translate any exception into the contract error a client sees.

    ``HTTPException`` maps by status (405 is ``BAD_REQUEST``, 413 ``PAYLOAD_TOO_LARGE``);
    anything unexpected is ``INTERNAL`` (500) — the caller logs the trace.
    """
    if isinstance(exc, Evently):
        return exc
    if isinstance(exc, HTTPException):
        return _BY_STATUS.get(exc.status_code, BadRequest)(str(exc.detail))
    err = Internal()
    err.__cause__ = exc
    return err


async def _evently(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Evently)
    _log(exc)
    return error_response(exc, request.scope)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    response = error_response(as_evently(exc), request.scope)
    response.status_code = exc.status_code
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(as_evently(exc), request.scope)


exception_handlers: dict[Any, Any] = {Evently: _evently, HTTPException: _http,
                                      Exception: _unexpected}
