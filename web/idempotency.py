"""The ``Idempotency-Key`` header on booking routes and the ``idempotency_key`` of the
``confirm`` op: the request's fingerprint and the REST answer; the claim → run → store rule is
:class:`hub.idempotency.IdempotencyService`."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from hub.errors import ValidationFailed
from hub.ports.runtime import Principal
from web.auth import services_of
from web.clock import utcnow
from web.errors import JSONResponse

__all__ = ["MAX_KEY_LENGTH", "check_key", "fingerprint", "idempotent"]

#: The one limit on an idempotency key, for the REST header and the WebSocket field alike
#: (the column is ``varchar(255)``).
MAX_KEY_LENGTH = 255


def fingerprint(method: str, path: str, body: bytes) -> str:
    """sha256 of the method, path and the body's canonical JSON (key order ignored; an empty
    body counts as ``{}``, so a body-less REST call and a WebSocket op match)."""
    try:
        canonical = orjson.dumps(orjson.loads(body if body.strip() else b"{}"),
                                 option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


def check_key(key: str, field: str) -> None:
    """Raises: ValidationFailed (``details.fields`` names ``field``): not 1..255 characters,
    or a NUL character (PostgreSQL text cannot hold one)."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH or "\x00" in key:
        raise ValidationFailed(fields=[{"field": field,
                                        "message": f"1..{MAX_KEY_LENGTH} characters, no NUL"}])


async def idempotent(request: Request, principal: Principal,
                     run: Callable[[], Awaitable[tuple[int, Any]]]) -> Response:
    """Run ``run`` at most once per (user, key); replay its stored response afterwards.

    Raises: ValidationFailed (a key longer than 255 characters), IdempotencyKeyReused,
    IdempotencyKeyInUse, and whatever ``run`` raises (the key is then released).
    """
    key = request.headers.get("idempotency-key")
    if key is None:
        status, body = await run()
        return JSONResponse(body, status_code=status)
    check_key(key, "Idempotency-Key")
    fp = fingerprint(request.method, request.url.path, await request.body())
    status, body, replayed = await services_of(request).idempotency.run_once(
        principal.id, key, fp, run, utcnow())
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(body, status_code=status, headers=headers)
