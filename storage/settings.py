"""Settings from the environment (and a ``.env`` file when present), CONTRACT.md §1.

One :class:`Settings` object is built by the CLI or the app factory and passed down; nothing
reads the environment elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Every knob of the hub. Durations are in seconds, sizes in bytes, counts in seats."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore", case_sensitive=False)

    database_url: str | None = None
    redis_url: str | None = None
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
    rate_limit_admin: str = "120/minute"  # per user: any non-GET under /admin/
    allowed_origins: str = ""
    log_level: str = "info"
    evently_data_dir: Path = Path(".evently")
    bcrypt_rounds: int = Field(12, ge=4, le=16)
    ws_max_message_bytes: int = 64 * 1024
    ws_outbox_limit: int = Field(1024, ge=8)
    sweep_interval_seconds: float = Field(0.2, gt=0)
    db_pool_size: int = Field(10, ge=1)
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

    @field_validator("database_url")
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

    @property
    def origins(self) -> set[str]:
        """``ALLOWED_ORIGINS`` as a set of ``scheme://host[:port]`` strings."""
        return {o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()}

    def secret(self) -> str:
        """The JWT signing key: ``JWT_SECRET``, or one generated once and kept in the data dir."""
        if self.jwt_secret:
            return self.jwt_secret
        import secrets

        path = self.evently_data_dir / "jwt_secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_urlsafe(48))
            tmp.chmod(0o600)
            tmp.replace(path)
        self.jwt_secret = path.read_text().strip()
        return self.jwt_secret
