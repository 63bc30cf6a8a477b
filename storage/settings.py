"""Settings from the environment (and a ``.env`` file when present), CONTRACT.md §1.

One :class:`Settings` object is built by the CLI or the app factory and passed down; nothing
reads the environment elsewhere.
"""

from __future__ import annotations

import os
import secrets as _secrets
import time
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["MIN_SECRET_BYTES", "Settings"]

MIN_SECRET_BYTES = 32  # RFC 7518 §3.2: an HS256 key at least as long as the hash output


def _check_secret(v: str | None) -> str | None:
    """``v`` (None when empty). Raises: ValueError, under :data:`MIN_SECRET_BYTES` bytes."""
    if v and len(v.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes "
                         f"(got {len(v.encode())}); generate one with "
                         "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`")
    return v or None


class Settings(BaseSettings):
    """Every knob of the hub. Durations are in seconds, sizes in bytes, counts in seats."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore", case_sensitive=False)

    database_url: str | None = None
    # Optional streaming replica for lag-tolerant reads (listings, seat labels, analytics);
    # nothing a hold or confirm decides on is ever read from it (docs/scaling-postgres.md).
    database_replica_url: str | None = None
    # DATABASE_URL (and the replica URL) go through PgBouncer in transaction pooling mode:
    # no named prepared statement outlives a transaction (statement caches off).
    database_pgbouncer: bool = False
    redis_url: str | None = None
    # REDIS_URL names any one node of a Redis Cluster (storage/redis_conn.py; docs/scaling.md).
    redis_cluster: bool = False
    jwt_secret: str | None = None
    access_token_ttl_seconds: int = Field(900, ge=10)
    refresh_token_ttl_seconds: int = Field(1_209_600, ge=60)
    hold_ttl_seconds: int = Field(300, ge=1)
    hold_max_lifetime_seconds: int = Field(1800, ge=1)
    max_held_seats_per_user: int = Field(10, ge=1)
    waitlist_offer_seconds: int = Field(600, ge=1)
    # How long a confirming hold stays reserved; its transaction's lock_timeout is half of it,
    # and after it the sweeper settles the hold from PostgreSQL (DESIGN invariant 8).
    confirm_grace_seconds: int = Field(5, ge=1, le=300)
    rate_limit_enabled: bool = True
    # Rate limits (web/ratelimit.py), in the ``limits`` notation: "10/minute", or several
    # joined by ";" ("5/second;100/minute"). Per email unless the name says ``_ip``.
    rate_limit_strategy: str = Field("moving-window", pattern="^(moving|fixed)-window$")
    rate_limit_login: str = "10/minute"
    rate_limit_login_ip: str = "60/minute"
    rate_limit_signup: str = "5/minute"
    rate_limit_signup_ip: str = "20/minute"
    rate_limit_holds: str = "120/minute"  # per user: POST /events/{id}/holds, WS hold
    rate_limit_bookings: str = "30/minute"  # per user: /book, /holds/{id}/confirm, WS confirm
    rate_limit_hold_changes: str = "60/minute"  # per user: extend, release (REST and WS)
    rate_limit_cancels: str = "20/minute"  # per user: DELETE /bookings/{id}, WS cancel
    rate_limit_waitlist: str = "20/minute"  # per user: waitlist join and leave (REST and WS)
    rate_limit_admin: str = "120/minute"  # per user: any non-GET under /admin/
    rate_limit_password_reset: str = "5/hour"  # per email: POST /auth/password-reset
    rate_limit_password_reset_ip: str = "30/hour"
    rate_limit_password: str = "10/minute"  # per user: POST /auth/password (old password tries)
    rate_limit_ws_subscribe: str = "30/second;300/minute"  # per /ws session: subscribe
    allowed_origins: str = ""
    # REST from other origins (Starlette's CORS middleware): a comma list, "*" for any.
    cors_origins: str = ""
    cors_max_age_seconds: int = Field(600, ge=0)  # how long browsers cache a preflight
    organizer_signup: str = Field("open", pattern="^(open|approval|closed)$")
    log_format: str = Field("text", pattern="^(text|json)$")
    # Proxies whose X-Forwarded-For/-Proto are believed (uvicorn's list: IPs, CIDRs or "*");
    # empty: none, the TCP peer is the client.
    forwarded_allow_ips: str = ""
    metrics_token: str | None = None  # when set, GET /metrics needs "Bearer <token>"
    log_level: str = "info"
    evently_data_dir: Path = Path(".evently")
    bcrypt_rounds: int = Field(12, ge=4, le=16)
    ws_max_message_bytes: int = 64 * 1024
    ws_outbox_limit: int = Field(1024, ge=8)
    # /ws resource limits (web/ws_limits.py); a cap of 0 is no cap.
    ws_idle_seconds: float = Field(30, gt=0)  # no auth and no subscription: closed after
    ws_max_sockets_per_address: int = Field(200, ge=0)  # per hub process
    ws_max_sockets_per_user: int = Field(10, ge=0)  # per hub process
    ws_max_subscriptions: int = Field(100, ge=1)  # events one session may watch
    sweep_interval_seconds: float = Field(0.2, gt=0)
    db_pool_size: int = Field(16, ge=1)  # per process, no overflow (storage.db)
    redis_pool_size: int = Field(64, ge=2)
    smtp_host: str | None = None  # e-mail is off unless set
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_from: str = "Evently <no-reply@evently.local>"

    @property
    def email_enabled(self) -> bool:
        """E-mail notifications are sent only when ``SMTP_HOST`` is set."""
        return bool(self.smtp_host)

    @field_validator("database_url", "database_replica_url")
    @classmethod
    def _asyncpg_driver(cls, v: str | None) -> str | None:
        """Accept ``postgres://`` and ``postgresql://`` URLs; use asyncpg."""
        if not v:
            return None
        for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://",
                       "postgresql+psycopg://"):
            if v.startswith(prefix):
                return "postgresql+asyncpg://" + v[len(prefix):]
        return v

    @field_validator("jwt_secret")
    @classmethod
    def _long_secret(cls, v: str | None) -> str | None:
        """Refuse a ``JWT_SECRET`` under :data:`MIN_SECRET_BYTES` bytes (UTF-8)."""
        return _check_secret(v)

    @property
    def origins(self) -> set[str]:
        """``ALLOWED_ORIGINS`` as a set of ``scheme://host[:port]`` strings."""
        return {o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()}

    @property
    def cors_origin_list(self) -> list[str]:
        """``CORS_ORIGINS`` as ``scheme://host[:port]`` strings (``*``: any origin)."""
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    def secret(self) -> str:
        """The JWT signing key: ``JWT_SECRET``, or one generated once and kept in the data dir
        (``<EVENTLY_DATA_DIR>/jwt_secret``, created with mode 0600 in the same call that
        creates it, so no other user can ever read it).

        Raises:
            ValueError: the kept secret is shorter than :data:`MIN_SECRET_BYTES` bytes.
        """
        if self.jwt_secret:
            return self.jwt_secret
        path = self.evently_data_dir / "jwt_secret"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # made earlier, or by another worker just now
        else:
            with os.fdopen(fd, "w") as f:
                f.write(_secrets.token_urlsafe(48))
        secret = ""
        for _ in range(50):  # another process may have created it and not yet written it
            secret = path.read_text().strip()
            if secret:
                break
            time.sleep(0.01)
        self.jwt_secret = _check_secret(secret)
        if not self.jwt_secret:
            raise ValueError(f"{path} is empty; delete it to have a new secret generated")
        return self.jwt_secret
