"""Path parameters and ids, validated into contract errors.

Ids are PostgreSQL ``bigint`` (int8) columns, so an id outside 1..2**63-1 names nothing: it is
404 ``NOT_FOUND``, the same answer as a well-formed id that does not exist, and it never reaches
the database (where it would be an overflow, not an answer).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from hub.errors import NotFound

__all__ = ["MAX_ID", "check_id", "path_id"]

MAX_ID = 2**63 - 1


def check_id(value: int, name: str) -> int:
    """``value`` if it can be the id of a row (1..``MAX_ID``). Raises: NotFound."""
    if not 0 < value <= MAX_ID:
        raise NotFound(f"No such {name.removesuffix('_id')}.")
    return value


def path_id(conn: HTTPConnection, name: str) -> int:
    """An integer id from the path (ASCII digits only: ``str.isdigit`` also accepts ``"²"``,
    which ``int`` refuses). Raises: NotFound (not a positive 64-bit integer)."""
    raw = conn.path_params[name]
    if not (isinstance(raw, str) and raw.isascii() and raw.isdigit() and 0 < len(raw) <= 19):
        raise NotFound(f"No such {name.removesuffix('_id')}.")
    return check_id(int(raw), name)
