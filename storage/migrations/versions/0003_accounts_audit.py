"""accounts and audit: last login, organizer requests, password resets, the audit trail

Revision ID: 0003a
Revises: 0002
Create Date: 2026-11-25

* ``users.last_login_at``: set by every successful log-in.
* ``organizer_requests``: sign-ups that asked to organize under ``ORGANIZER_SIGNUP=approval``;
  at most one pending request per account (a partial unique index).
* ``password_resets``: single-use reset tokens, kept as their SHA-256 only.
* ``audit_log``: every admin and organizer action, append-only.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003a"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("users", sa.Column("last_login_at", TZ, nullable=True))
    op.create_table(
        "organizer_requests",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(),
                  sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.Column("decided_at", TZ, nullable=True),
        sa.Column("decided_by", sa.BigInteger(),
                  sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'refused')",
                           name="ck_organizer_requests_status"),
    )
    op.create_index("ux_organizer_requests_pending", "organizer_requests", ["user_id"],
                    unique=True, postgresql_where=sa.text("status = 'pending'"))
    op.create_table(
        "password_resets",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(),
                  sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ, nullable=True),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=False),
        sa.Column("actor_role", sa.String(20), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("target_user_id", sa.BigInteger(), nullable=True),
        sa.Column("details", postgresql.JSONB(), nullable=False,
                  server_default=sa.text("'{}'::jsonb")),
    )
    op.create_index("ix_audit_actor", "audit_log", ["actor_id", "id"])
    op.create_index("ix_audit_event", "audit_log", ["event_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_event", table_name="audit_log")
    op.drop_index("ix_audit_actor", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("password_resets")
    op.drop_index("ux_organizer_requests_pending", table_name="organizer_requests")
    op.drop_table("organizer_requests")
    op.drop_column("users", "last_login_at")
