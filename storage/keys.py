"""Every Redis key and pub/sub channel name the hub uses, built in this one module.

Keys of one event share the hash tag ``{e:ID}`` so every Lua script runs unchanged on Redis
Cluster (DESIGN invariant 7). The Lua scripts receive only :func:`event_meta` as ``KEYS[1]``
and derive the event's other keys from it (``storage/lua/_lib.lua``: ``P = "ev:{e:ID}:"``,
channel ``"ev:{e:ID}"``); the suffixes they use are the ones listed here and must stay in step.

==============================  =========  ==================================================
``ev:{e:42}:meta``              hash       epoch, seq, fence, active, ttl (ms), held, sold, cap,
                                           wl (entries waiting), wlres (pool reserve, ms)
``ev:{e:42}:view``              hash       seat_id → ``a`` | ``s`` | ``h:<token>`` | ``r``
``ev:{e:42}:avail``             zset       available seat ids scored by rank (best first)
``ev:{e:42}:rank`` / ``label``  hash       seat_id → rank / label
``ev:{e:42}:exp``               zset       hold token → lease end (epoch ms): the expiry index
``ev:{e:42}:uheld``             hash       user_id → seats held (the per-user cap)
``ev:{e:42}:h:<token>``         hash       one hold: user, seats, created, expires, fence, state
``ev:{e:42}:o:<token>``         string     how an ended hold ended, ``<user_id>|released`` or
                                           ``<user_id>|expired``, kept an hour (GET /holds/{id})
``ev:{e:42}:pool``              set        freed seats kept for the waitlist (view ``r``)
``ev:{e:42}:pooldl``            zset       pooled seat → when it returns to sale (epoch ms)
``ev:{e:42}:since:<user_id>``   hash       seat_id → ``<since_ms>:<until_ms>``: the user's
                                           continuous holding of the seat (lifetime cap);
                                           expires a lifetime after the last lease ends
``ev:{e:42}:hist``              stream     the last ~2,000 deltas, id ``<seq>-0``
``ev:{e:42}:m:<minute>``        hash       holds / bookings / expiries counted per minute
``ev:{e:42}``                   channel    ``delta`` and ``epoch`` messages of the event
``u:<user_id>``                 channel    personal pushes to every session of a user
``evently:hello``               channel    keep-alive subscription of each pub/sub connection
``events:live:{b:N}``          set        events with a view, for the expiry sweepers; one set
                                           per bucket N = event_id mod LIVE_BUCKETS (16), each
                                           its own hash tag, so the sets spread over the shards
``hub:proc:<host>:<pid>``       hash       one process's local counts (expires after 5 s)
``deny:jti:<jti>``              string     a logged-out access token, until it would expire
``deny:user:<user_id>``         string     tokens issued before this time (epoch ms) refused
``deny:fam:<family>``           string     a revoked login family, for an access-token life
``analytics:<report>``          string     a cached JSON report (``summary``, ``homepage``)
``evently:rl/…``                various    rate-limit windows (prefix handed to ``limits``)
==============================  =========  ==================================================
"""

from __future__ import annotations

__all__ = [
    "EVENT_VIEW_PARTS",
    "HELLO_CHANNEL",
    "LIVE_BUCKETS",
    "LIVE_EVENTS",
    "PROC_PATTERN",
    "RATE_LIMIT_PREFIX",
    "REPORT_NAMES",
    "deny_family",
    "deny_jti",
    "deny_user",
    "event_channel",
    "event_held_since",
    "event_hold_outcome",
    "event_id_of_channel",
    "event_key",
    "event_meta",
    "event_minute",
    "event_pattern",
    "live_bucket",
    "live_buckets",
    "proc_key",
    "report_key",
    "user_channel",
    "user_id_of_channel",
]

#: The one set of live events before it was sharded; read (never written) so a view loaded by
#: an older process is still swept.
LIVE_EVENTS = "events:live"
LIVE_BUCKETS = 16
HELLO_CHANNEL = "evently:hello"
RATE_LIMIT_PREFIX = "evently:rl"
PROC_PATTERN = "hub:proc:*"
REPORT_NAMES = ("summary", "homepage")

#: The per-event keys that make up a seat view (without holds and minute counters).
EVENT_VIEW_PARTS = ("meta", "view", "avail", "rank", "label", "exp", "uheld", "pool", "pooldl",
                    "hist")

_USER_CHANNEL_PREFIX = "u:"


def event_channel(event_id: int) -> str:
    """``ev:{e:ID}``: the pub/sub channel of an event's deltas (the event's hash tag)."""
    return f"ev:{{e:{event_id}}}"


def event_key(event_id: int, part: str) -> str:
    """``ev:{e:ID}:<part>``, ``part`` one of the suffixes in the module table."""
    return f"{event_channel(event_id)}:{part}"


def event_meta(event_id: int) -> str:
    """``ev:{e:ID}:meta``: ``KEYS[1]`` of every seat-view Lua script."""
    return event_key(event_id, "meta")


def event_held_since(event_id: int, user_id: int) -> str:
    """``ev:{e:ID}:since:<user_id>``: the user's "held since" markers (seat_id →
    ``<since_ms>:<until_ms>``) that keep the hold lifetime cap across holds (hold.lua)."""
    return event_key(event_id, f"since:{user_id}")


def event_hold_outcome(event_id: int, token: str) -> str:
    """``ev:{e:ID}:o:<token>``: how the hold ended (``<user_id>|released`` or
    ``<user_id>|expired``), kept an hour after its end (release.lua, sweep.lua; get_hold.lua
    reads it)."""
    return event_key(event_id, f"o:{token}")


def event_minute(event_id: int, minute: int) -> str:
    """``ev:{e:ID}:m:<minute>``: per-minute counters (``minute`` = epoch ms // 60,000)."""
    return event_key(event_id, f"m:{minute}")


def event_pattern(event_id: int) -> str:
    """A ``SCAN MATCH`` pattern for every key of the event."""
    return f"{event_channel(event_id)}*"


def user_channel(user_id: int) -> str:
    """``u:<user_id>``: the channel of a user's personal pushes."""
    return f"{_USER_CHANNEL_PREFIX}{user_id}"


def user_id_of_channel(channel: str) -> int | None:
    """The user id of a :func:`user_channel` name, else None."""
    if channel.startswith(_USER_CHANNEL_PREFIX):
        return int(channel[len(_USER_CHANNEL_PREFIX):])
    return None


def event_id_of_channel(channel: str) -> int | None:
    """The event id of an :func:`event_channel` name, else None."""
    if channel.startswith("ev:{e:") and channel.endswith("}"):
        return int(channel[len("ev:{e:"):-1])
    return None


def live_bucket(event_id: int) -> str:
    """``events:live:{b:N}``: the set that lists the event while it has a view
    (``N = event_id % LIVE_BUCKETS``). Sharded so no one key (and no one cluster node) is
    written by every event's load and read by every sweeper."""
    return f"events:live:{{b:{event_id % LIVE_BUCKETS}}}"


def live_buckets() -> list[str]:
    """Every :func:`live_bucket` set, for a sweeper that walks them all."""
    return [f"events:live:{{b:{n}}}" for n in range(LIVE_BUCKETS)]


def proc_key(host: str, pid: int) -> str:
    """``hub:proc:<host>:<pid>``: one hub process's live counts."""
    return f"hub:proc:{host}:{pid}"


def deny_jti(jti: str) -> str:
    """``deny:jti:<jti>``: a denied access token."""
    return f"deny:jti:{jti}"


def deny_family(family: str) -> str:
    """``deny:fam:<family>``: a revoked login family; every access token naming it in its
    ``fam`` claim is refused."""
    return f"deny:fam:{family}"


def deny_user(user_id: int) -> str:
    """``deny:user:<user_id>``: the "revoked before" time of a user's tokens (epoch ms)."""
    return f"deny:user:{user_id}"


def report_key(name: str) -> str:
    """``analytics:<name>``: a cached analytics report."""
    return f"analytics:{name}"
