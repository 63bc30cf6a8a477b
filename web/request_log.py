"""Request ids and the request log, as a pure ASGI middleware (CONTRACT §2: every response
carries ``X-Request-ID``).

* A client's ``X-Request-ID`` is kept when it is 1-128 characters of ``A-Z a-z 0-9 . _ : -``
  (anything else could forge log lines), otherwise a new one (32 hex digits) is made; it is
  echoed on every HTTP response and put in ``scope["state"]["request_id"]``.
* One log line per request on the ``evently.request`` logger at INFO: request id, method,
  route template (never the raw path), status, duration in ms and the user id of a bearer
  token whose signature checks (None otherwise). ``LOG_FORMAT=json`` (see
  :func:`configure_logging`) makes every log line one JSON object, these fields included.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.metrics import route_template

__all__ = ["JsonFormatter", "RequestLogMiddleware", "configure_logging", "request_id_of"]

log = logging.getLogger("evently.request")
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
#: fields of the request log line (``extra=`` of the log record)
FIELDS = ("request_id", "method", "route", "status", "duration_ms", "user_id")


def request_id_of(scope: Scope) -> str:
    """The request's id: the client's ``X-Request-ID`` when well formed, else a new one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1").strip()
            if _VALID_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def _user_of(scope: Scope) -> int | None:
    """The user id of a bearer token whose signature and expiry check, or None."""
    runtime = getattr(scope["app"].state, "runtime", None) if "app" in scope else None
    if runtime is None:
        return None
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return None
            try:
                return int(runtime.tokens.principal(token.strip()).id)
            except Exception:
                return None
    return None


class RequestLogMiddleware:
    """Set and echo ``X-Request-ID`` and log one line per HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)["x-request-id"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            fields: dict[str, Any] = {
                "request_id": request_id, "method": scope["method"],
                "route": route_template(getattr(scope.get("app"), "routes", []), scope),
                "status": status,
                "duration_ms": round((time.perf_counter() - start) * 1000, 2),
                "user_id": _user_of(scope)}
            log.info("%(method)s %(route)s %(status)s %(duration_ms)sms id=%(request_id)s "
                     "user=%(user_id)s", fields, extra=fields)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``ts`` (RFC 3339, UTC), ``level``, ``logger``,
    ``message``, the request fields when present, and ``exc`` with a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for name in FIELDS:
            if hasattr(record, name):
                out[name] = getattr(record, name)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


def configure_logging(level: str, fmt: str) -> None:
    """Root logging at ``level`` to stderr, as text or (``fmt == "json"``) JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
