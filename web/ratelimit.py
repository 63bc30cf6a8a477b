"""Rate limits on Redis (the ``limits`` library), as a pure ASGI middleware.

Which requests count, and against which key (limits come from ``RATE_LIMIT_*`` settings):

    POST /auth/login                 login_ip per client IP, login per email (JSON body)
    POST /auth/signup                signup_ip per client IP, signup per email
    POST /auth/password-reset        password_reset_ip per client IP, password_reset per email
    any non-GET under /admin/        admin per user
    the user actions of USER_ACTIONS per user, over REST and WebSocket alike:
      holds         POST /events/{id}/holds                        WS hold
      bookings      POST /events/{id}/book, POST /holds/{id}/confirm  WS confirm
      hold_changes  POST /holds/{id}/extend, DELETE /holds/{id}    WS extend, release
      cancels       DELETE /bookings/{id}, PATCH /bookings/{id}    WS cancel, booking.update
      admin         GET /admin/events/{id}/attendees.csv (a whole guest list per call)
      waitlist      POST /events/{id}/waitlist, DELETE /waitlists/{id}
                                                                   WS waitlist.join, .leave
      password      POST /auth/password (guesses of the old password; REST only)

The user comes from the bearer token's signature alone (no Redis check): a bad token is not
limited by user here, the route answers 401. Over a limit the answer is the contract's 429
``RATE_LIMITED`` with ``Retry-After`` (whole seconds). When Redis fails the request goes
through (fail open) and the failure is logged. The windows live in Redis, so every hub
process shares them. ``RATE_LIMIT_ENABLED=false`` turns all of it off.

WebSocket ops are counted by :func:`check_op` from the same table (:data:`USER_ACTIONS`), so a
user's REST and WebSocket requests share one window per rule.
``subscribe`` is limited per session with ``ws_subscribe`` (:mod:`web.ws_limits`).
"""

from __future__ import annotations

import logging
import math
import re
import time
import weakref
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import orjson
from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisClusterStorage, RedisStorage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
)
from starlette.types import Message, Receive, Scope, Send

from hub.errors import RateLimited
from storage.keys import RATE_LIMIT_PREFIX
from storage.settings import Settings
from web.errors import error_response
from web.middleware import HTTPMiddleware

__all__ = ["RULES", "USER_ACTIONS", "WS_RULES", "Limiter", "RateLimitMiddleware", "check",
           "check_op", "limiter_for"]

log = logging.getLogger(__name__)

#: rule name -> the Settings field holding its limits ("10/minute" or "5/second;100/minute")
RULES: dict[str, str] = {
    "login": "rate_limit_login",
    "login_ip": "rate_limit_login_ip",
    "signup": "rate_limit_signup",
    "signup_ip": "rate_limit_signup_ip",
    "password_reset": "rate_limit_password_reset",
    "password_reset_ip": "rate_limit_password_reset_ip",
    "password": "rate_limit_password",
    "holds": "rate_limit_holds",
    "bookings": "rate_limit_bookings",
    "hold_changes": "rate_limit_hold_changes",
    "cancels": "rate_limit_cancels",
    "waitlist": "rate_limit_waitlist",
    "admin": "rate_limit_admin",
    "ws_subscribe": "rate_limit_ws_subscribe",
}

#: The one table of per-user actions: (rule, REST method, REST path pattern, WebSocket op).
USER_ACTIONS: Sequence[tuple[str, str, str, str | None]] = (
    ("holds", "POST", r"^/events/[^/]+/holds$", "hold"),
    ("bookings", "POST", r"^/events/[^/]+/book$", None),
    ("bookings", "POST", r"^/holds/[^/]+/confirm$", "confirm"),
    ("hold_changes", "POST", r"^/holds/[^/]+/extend$", "extend"),
    ("hold_changes", "DELETE", r"^/holds/[^/]+$", "release"),
    ("cancels", "DELETE", r"^/bookings/[^/]+$", "cancel"),
    ("cancels", "PATCH", r"^/bookings/[^/]+$", "booking.update"),
    ("admin", "GET", r"^/admin/events/[^/]+/attendees\.csv$", None),
    ("waitlist", "POST", r"^/events/[^/]+/waitlist$", "waitlist.join"),
    ("waitlist", "DELETE", r"^/waitlists/[^/]+$", "waitlist.leave"),
    ("password", "POST", r"^/auth/password$", None),
)
#: WebSocket op -> rule, from :data:`USER_ACTIONS`.
WS_RULES: dict[str, str] = {op: rule for rule, _, _, op in USER_ACTIONS if op is not None}

MAX_BODY_PEEK = 16 * 1024  # bytes of a login/signup body read to find its email
_FAIL_LOG_EVERY = 30.0  # seconds between two "failing open" log lines of one process


class Limiter:
    """The rules of one hub process, counted in Redis through the hub's own connection pool
    (so ``redis://`` and ``unix://`` URLs both work and no extra connections are opened);
    with ``REDIS_CLUSTER=true``, through ``limits``' Redis Cluster storage instead.

    Args:
        settings: the ``RATE_LIMIT_*`` fields.
        pool: a ``redis.asyncio`` connection pool (``hub.redis.connection_pool``); unused
            (None) on a cluster.
    """

    def __init__(self, settings: Settings, pool: Any) -> None:
        self.enabled = settings.rate_limit_enabled
        self.items: dict[str, list[RateLimitItem]] = {
            name: list(parse_many(getattr(settings, field))) for name, field in RULES.items()}
        storage: RedisStorage
        if settings.redis_cluster and settings.redis_url:
            # limits' cluster storage: its own RedisCluster client on the node the URL names
            # (the keys of one counter share a slot, the scripts are single-slot).
            node = urlsplit(settings.redis_url).netloc  # [user:password@]host:port
            storage = RedisClusterStorage(f"async+redis+cluster://{node}",
                                          implementation="redispy",
                                          key_prefix=RATE_LIMIT_PREFIX)
        else:
            storage = RedisStorage("async+redis://", implementation="redispy",
                                   key_prefix=RATE_LIMIT_PREFIX, connection_pool=pool)
        self.strategy: RateLimiter = (
            FixedWindowRateLimiter(storage) if settings.rate_limit_strategy == "fixed-window"
            else MovingWindowRateLimiter(storage))
        self._last_failure_log = 0.0

    async def check(self, rule: str, key: str) -> None:
        """Count one hit of ``key`` (an email, an IP, a user id) under ``rule``.

        Raises:
            RateLimited: over one of the rule's limits; ``retry_after`` in whole seconds.
            KeyError: ``rule`` is not one of :data:`RULES`.
        """
        items = self.items[rule]
        if not self.enabled:
            return
        for item in items:
            try:
                allowed = await self.strategy.hit(item, rule, key)
            except Exception as exc:
                self._fail_open(exc)
                return
            if not allowed:
                raise RateLimited(await self._retry_after(item, rule, key))

    async def _retry_after(self, item: RateLimitItem, rule: str, key: str) -> int:
        """Whole seconds until the window lets one more hit in (at least 1)."""
        try:
            stats = await self.strategy.get_window_stats(item, rule, key)
            return max(1, math.ceil(stats.reset_time - time.time()))
        except Exception as exc:
            self._fail_open(exc)
            return item.get_expiry()

    def _fail_open(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_failure_log >= _FAIL_LOG_EVERY:
            self._last_failure_log = now
            log.warning("rate limits unavailable, letting requests through: %r", exc)


_LIMITERS: dict[int, Limiter] = {}


def limiter_for(holder: Any) -> Limiter:
    """The :class:`Limiter` of ``holder``: its own ``limiter`` (the app's
    :class:`web.runtime.Runtime`), or one made on first use from its ``settings`` and
    ``redis`` client and dropped with it."""
    own = getattr(holder, "limiter", None)
    if isinstance(own, Limiter):
        return own
    limiter = _LIMITERS.get(id(holder))
    if limiter is None:
        # a cluster client has no single pool: the limiter then builds its own cluster storage
        limiter = _LIMITERS[id(holder)] = Limiter(
            holder.settings, getattr(holder.redis, "connection_pool", None))
        weakref.finalize(holder, _LIMITERS.pop, id(holder), None)
    return limiter


async def check(holder: Any, rule_name: str, key: str) -> None:
    """Count one hit for a WebSocket op, e.g. ``await check(runtime, "holds", str(user_id))``.

    Args:
        holder: the :class:`web.runtime.Runtime`, or anything with ``settings`` and
            ``redis`` (see :func:`limiter_for`).
        rule_name: one of :data:`RULES` (``holds`` for ``hold``, ``bookings`` for ``confirm``).
        key: what is limited, e.g. the user id as a string.

    Raises:
        hub.errors.RateLimited: over the limit (``retry_after`` seconds); never when Redis is
        down or ``RATE_LIMIT_ENABLED=false``.
    """
    await limiter_for(holder).check(rule_name, key)


async def check_op(holder: Any, op: str, user_id: int) -> None:
    """Count one hit of WebSocket ``op`` by ``user_id`` under its rule in
    :data:`USER_ACTIONS` (ops not listed there are not limited).

    Raises: hub.errors.RateLimited (as :func:`check`)."""
    rule = WS_RULES.get(op)
    if rule is not None:
        await limiter_for(holder).check(rule, str(user_id))


_USER_RULES: Sequence[tuple[str, re.Pattern[str], str]] = tuple(
    (method, re.compile(pattern), rule) for rule, method, pattern, _ in USER_ACTIONS)
_EMAIL_RULES = {"/auth/login": "login", "/auth/signup": "signup",
                "/auth/password-reset": "password_reset"}
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def _rules_of(method: str, path: str) -> tuple[str | None, str | None]:
    """``(email_rule, user_rule)`` of a request; both None for requests not limited."""
    path = path.rstrip("/") or "/"
    if method == "POST" and path in _EMAIL_RULES:
        return _EMAIL_RULES[path], None
    for rule_method, pattern, rule in _USER_RULES:
        if method == rule_method and pattern.match(path):
            return None, rule
    if method not in _READS and path.startswith("/admin/"):
        return None, "admin"
    return None, None


def _email_of(body: bytes) -> str | None:
    """The ``email`` of a JSON object body, lower-cased; None when there is none."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    email = data.get("email") if isinstance(data, dict) else None
    return email.strip().lower()[:320] if isinstance(email, str) and email.strip() else None


def _user_of(tokens: Any, scope: Scope) -> str | None:
    """The user id of the request's bearer token (signature and expiry only), or None."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return None
            try:
                return str(tokens.principal(token.strip()).id)
            except Exception:
                return None  # the route answers 401
    return None


class RateLimitMiddleware(HTTPMiddleware):
    """Pure ASGI middleware applying the rules of the module docstring to HTTP requests."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        email_rule, user_rule = _rules_of(scope["method"], scope["path"])
        runtime = getattr(scope["app"].state, "runtime", None) if "app" in scope else None
        if (email_rule is None and user_rule is None) or runtime is None \
                or not runtime.limiter.enabled:
            await self.app(scope, receive, send)
            return
        limiter: Limiter = runtime.limiter
        try:
            if email_rule is not None:
                client = scope.get("client")
                await limiter.check(email_rule + "_ip", client[0] if client else "unknown")
                receive, body = await _peek_body(receive)
                email = _email_of(body) if body is not None else None
                if email is not None:
                    await limiter.check(email_rule, email)
            if user_rule is not None and (user := _user_of(runtime.tokens, scope)) is not None:
                await limiter.check(user_rule, user)
        except RateLimited as err:
            await error_response(err, scope)(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _peek_body(receive: Receive) -> tuple[Receive, bytes | None]:
    """Read the request body (up to :data:`MAX_BODY_PEEK` bytes) and return a ``receive``
    that replays it to the app. The body is None when it is larger than that."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if not message.get("more_body", False) or size > MAX_BODY_PEEK:
            break
    complete = messages[-1]["type"] == "http.request" and not messages[-1].get("more_body")
    body = b"".join(m.get("body", b"") for m in messages) if complete else None

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay, body
