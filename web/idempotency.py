"""The ``Idempotency-Key`` header on booking routes (Stripe's semantics; see
:mod:`storage.idempotency`)."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from hub.errors import ValidationFailed
from storage.idempotency import IdempotencyStore
from web.auth import hub_of
from web.context import utcnow
from web.errors import JSONResponse
from web.security import Principal

__all__ = ["MAX_KEY_LENGTH", "check_key", "fingerprint", "idempotent", "run_once"]

#: The one limit on an idempotency key, for the REST header and the WebSocket field alike
#: (the column is ``varchar(255)``).
MAX_KEY_LENGTH = 255


def check_key(key: str, field: str = "Idempotency-Key") -> str:
    """``key`` if it is 1..``MAX_KEY_LENGTH`` characters with no NUL (PostgreSQL text cannot
    hold one). Raises: ValidationFailed naming ``field``."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH or "\x00" in key:
        raise ValidationFailed(fields=[{
            "field": field, "message": f"1..{MAX_KEY_LENGTH} characters, no NUL"}])
    return key


def fingerprint(method: str, path: str, body: bytes) -> str:
    """sha256 of the method, path and the body's canonical JSON (key order ignored; an empty
    body counts as ``{}``, so a body-less REST call and a WebSocket op match)."""
    try:
        canonical = orjson.dumps(orjson.loads(body if body.strip() else b"{}"),
                                 option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


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
    fp = fingerprint(request.method, request.url.path, await request.body())
    status, body, replayed = await run_once(hub_of(request).idempotency, principal.id,
                                            check_key(key), fp, run)
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(body, status_code=status, headers=headers)


async def run_once(keys: IdempotencyStore, user_id: int, key: str, fp: str,
                   run: Callable[[], Awaitable[tuple[int, Any]]]) -> tuple[int, Any, bool]:
    """The one claim → run → store sequence for REST and WebSocket alike.

    Returns ``(status, body, replayed)``. A failed ``run`` releases the key (nothing was
    changed, so the client may retry with it). Raises: IdempotencyKeyReused,
    IdempotencyKeyInUse, and whatever ``run`` raises.
    """
    stored = await keys.begin(user_id, key, fp, utcnow())
    if stored is not None:
        return stored.status, stored.body, True
    try:
        status, body = await run()
    except BaseException:
        await keys.release(user_id, key)
        raise
    body = orjson.loads(orjson.dumps(body))
    await keys.finish(user_id, key, status, body)
    return status, body, False
