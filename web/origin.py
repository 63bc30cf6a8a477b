"""The WebSocket Origin check, made before the handshake is accepted (CSWSH defence).

Browsers send ``Origin`` on every WebSocket upgrade; a page of another site must not open a
session with the user's cookies or stored token. An origin is allowed when it is

* absent (a non-browser client: it has no ambient credentials to abuse),
* the hub's own origin: the same scheme (``ws``→``http``, ``wss``→``https``), host and port
  as the upgrade request (``Host`` header; the scheme as the trusted proxy reported it), or
* listed in ``ALLOWED_ORIGINS`` (``scheme://host[:port]``, comma-separated; ``*`` allows all).

Ports are compared after defaults are filled in (``http`` 80, ``https`` 443), so
``http://host`` equals ``http://host:80`` but not ``http://host:8080``. A refused upgrade gets
HTTP 403 and never becomes a WebSocket (RFC 6455 §4.2.2).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.websockets import WebSocket

__all__ = ["origin_allowed", "refuse_foreign_origin", "split_origin"]

log = logging.getLogger(__name__)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_WS_TO_HTTP = {"ws": "http", "wss": "https", "http": "http", "https": "https"}

Origin = tuple[str, str, int]


def split_origin(origin: str) -> Origin | None:
    """``(scheme, host, port)`` of ``scheme://host[:port]``, lower-cased, default port filled
    in; None for anything else (``null``, a path, an unknown scheme, a bad port)."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = _WS_TO_HTTP.get(parts.scheme.lower())
    host = (parts.hostname or "").lower()
    if scheme is None or not host or parts.path not in ("", "/") or parts.query \
            or parts.username is not None:
        return None
    return scheme, host, port if port is not None else _DEFAULT_PORTS[scheme]


def _own_origin(scheme: str, host_header: str | None) -> Origin | None:
    """The origin a same-site page would send for an upgrade to ``host_header``."""
    if not host_header:
        return None
    return split_origin(f"{_WS_TO_HTTP.get(scheme, 'http')}://{host_header}")


def origin_allowed(origin: str | None, scheme: str, host_header: str | None,
                   allowed: Iterable[str]) -> bool:
    """Whether an upgrade with this ``Origin`` header may go ahead (rules in the module doc).

    Args:
        origin: the ``Origin`` header, or None when absent.
        scheme: the request's scheme (``ws`` or ``wss``; ``http``/``https`` also accepted).
        host_header: the request's ``Host`` header (``host[:port]``).
        allowed: the ``ALLOWED_ORIGINS`` entries.
    """
    if origin is None:
        return True
    asked = split_origin(origin)
    if asked is None:
        return False
    if asked == _own_origin(scheme, host_header):
        return True
    allowed = list(allowed)
    return "*" in allowed or any(asked == split_origin(a) for a in allowed)


async def refuse_foreign_origin(ws: WebSocket, allowed: Iterable[str]) -> bool:
    """Check ``ws``'s Origin before accepting it; on a foreign origin refuse the upgrade (a
    close before accept, which the ASGI server answers with HTTP 403) and return True: the
    caller must then return without touching ``ws``."""
    if origin_allowed(ws.headers.get("origin"), ws.url.scheme, ws.headers.get("host"), allowed):
        return False
    log.info("refused a WebSocket upgrade from origin %r", ws.headers.get("origin"))
    await ws.close(1008, "origin not allowed")
    return True
