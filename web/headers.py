"""Security headers on every HTTP response (pages, API, docs), as a pure ASGI middleware.

* ``Content-Security-Policy``: scripts, styles, images, fonts and connections only from the
  hub's own origin (the pages are plain ES modules under ``web/static``, no CDN); WebSocket
  connections to the same host (``'self'`` covers ``ws:``/``wss:`` of the page's host in
  CSP Level 3); no plugins, no ``<base>`` hijack, forms post only to the hub, and
  ``frame-ancestors 'none'`` (no framing, against clickjacking). Swagger UI (``/docs``) and
  ReDoc (``/redoc``) set inline styles and draw icons and fonts from ``data:`` URLs, so
  their policy allows those.
* ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` (older browsers),
  ``Referrer-Policy: no-referrer``, ``Cross-Origin-Opener-Policy: same-origin``.

A header the route set itself is kept.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DOCS_CSP", "PAGE_CSP", "SecurityHeadersMiddleware", "headers_for"]

_COMMON_CSP = ("default-src 'self'; script-src 'self'; connect-src 'self'; "
               "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
               "frame-ancestors 'none'")
PAGE_CSP = _COMMON_CSP + "; img-src 'self' data:; style-src 'self'"
DOCS_CSP = (_COMMON_CSP.replace("font-src 'self'", "font-src 'self' data:")
            + "; img-src 'self' data:; style-src 'self' 'unsafe-inline'")

_FIXED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


def headers_for(path: str) -> dict[str, str]:
    """The security headers of a response to ``path`` (lower-case names)."""
    docs = path in ("/docs", "/redoc") or path.startswith(("/docs/", "/redoc/"))
    return {**_FIXED, "content-security-policy": DOCS_CSP if docs else PAGE_CSP}


class SecurityHeadersMiddleware:
    """Add :func:`headers_for` to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
