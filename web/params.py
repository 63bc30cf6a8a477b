"""Path and query parameters, validated into contract errors."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from hub.errors import NotFound

__all__ = ["path_id"]

MAX_ID = 2**63 - 1


def path_id(conn: HTTPConnection, name: str) -> int:
    """An integer id from the path. Raises: NotFound (not a positive 64-bit integer)."""
    raw = conn.path_params[name]
    if not (isinstance(raw, str) and raw.isdigit() and 0 < len(raw) <= 19):
        raise NotFound(f"No such {name.removesuffix('_id')}.")
    value = int(raw)
    if not 0 < value <= MAX_ID:
        raise NotFound(f"No such {name.removesuffix('_id')}.")
    return value
