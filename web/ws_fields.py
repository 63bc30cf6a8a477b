"""Fields of WebSocket client messages (CONTRACT §3), validated into contract errors.

The same rules as REST: ids are ``bigint`` row ids (past that range: ``NOT_FOUND``, as for a
REST path id), strings hold no NUL, a wrong type is ``BAD_REQUEST``, a well-typed value that
breaks a rule is ``VALIDATION_ERROR``.
"""

from __future__ import annotations

from typing import Any

import orjson

from hub.errors import BadRequest, ValidationFailed
from web.params import MAX_ID, check_id

__all__ = ["echoable_ref", "int_field", "since_field", "str_field"]


def int_field(msg: dict[str, Any], name: str) -> int:
    """The id ``msg[name]``. Raises: BadRequest (not a positive integer), NotFound (past the
    ``bigint`` range of the id columns, as for a REST path id)."""
    value = msg.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise BadRequest(f"'{name}' must be a positive integer.",
                         fields=[{"field": name, "message": "a positive integer"}])
    return check_id(value, name)


def str_field(msg: dict[str, Any], name: str) -> str:
    """The string ``msg[name]``. Raises: BadRequest (not a string of 1..300 characters),
    ValidationFailed (a NUL character, as in REST bodies)."""
    value = msg.get(name)
    if not isinstance(value, str) or not value or len(value) > 300:
        raise BadRequest(f"'{name}' must be a string.",
                         fields=[{"field": name, "message": "a non-empty string"}])
    if "\x00" in value:
        raise ValidationFailed(fields=[{"field": name, "message": "no NUL characters"}])
    return value


def since_field(msg: dict[str, Any]) -> tuple[int, int] | None:
    """``since: {epoch, seq}`` of ``subscribe``, or None. Raises: BadRequest (not two
    integers), ValidationFailed (outside 0..2**63-1: no view ever had such a position, and
    a client that sends one has a bug to hear about rather than a silent snapshot)."""
    since = msg.get("since")
    if since is None:
        return None
    if not (isinstance(since, dict) and all(isinstance(since.get(k), int)
                                            and not isinstance(since.get(k), bool)
                                            for k in ("epoch", "seq"))):
        raise BadRequest("'since' is {epoch, seq}.", fields=[{"field": "since",
                                                              "message": "{epoch, seq}"}])
    epoch, seq = since["epoch"], since["seq"]
    if not (0 <= epoch <= MAX_ID and 0 <= seq <= MAX_ID):
        raise ValidationFailed(fields=[{"field": "since",
                                        "message": f"epoch and seq in 0..{MAX_ID}"}])
    return epoch, seq


def echoable_ref(ref: Any) -> Any:
    """``ref`` if the reply can carry it back. Raises: BadRequest (nested past what the JSON
    encoder writes, 255 levels; the reply then has no ``ref``)."""
    if isinstance(ref, (dict, list)):
        try:
            orjson.dumps(ref)
        except orjson.JSONEncodeError:
            raise BadRequest("'ref' is nested too deeply to echo.",
                             fields=[{"field": "ref", "message": "a JSON value"}]) from None
    return ref
