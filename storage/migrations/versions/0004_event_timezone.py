"""event time zone: the IANA zone an event's times are shown in

Revision ID: 0004
Revises: 0003a
Create Date: 2026-11-25

* ``events.timezone``: an IANA zone name (``Europe/Paris``), checked by the web layer against
  the tz database; existing events get ``UTC``, which is how their times were shown so far.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("events", sa.Column("timezone", sa.Text(), nullable=False,
                                      server_default="UTC"))


def downgrade() -> None:
    op.drop_column("events", "timezone")
