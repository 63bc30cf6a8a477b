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
from web.auth import hub_of
from web.context import utcnow
from web.errors import JSONResponse
from web.security import Principal

__all__ = ["fingerprint", "idempotent"]

MAX_KEY_LENGTH = 255


def fingerprint(method: str, path: str, body: bytes) -> str:
    """sha256 of the method, path and the body's canonical JSON (key order ignored)."""
    try:
        canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS) if body.strip() \
            else b""
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
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationFailed(fields=[{"field": "Idempotency-Key",
                                        "message": f"1..{MAX_KEY_LENGTH} characters"}])
    keys = hub_of(request).idempotency
    fp = fingerprint(request.method, request.url.path, await request.body())
    stored = await keys.begin(principal.id, key, fp, utcnow())
    if stored is not None:
        return JSONResponse(stored.body, status_code=stored.status,
                            headers={"Idempotent-Replayed": "true"})
    try:
        status, body = await run()
    except BaseException:
        await keys.release(principal.id, key)
        raise
    await keys.finish(principal.id, key, status, orjson.loads(orjson.dumps(body)))
    return JSONResponse(body, status_code=status)
