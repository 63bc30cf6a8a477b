"""SQLAlchemy 2 typed models: the PostgreSQL schema, the source of truth.

Invariant 1 of DESIGN.md (no oversell) is enforced by the schema itself:
``booking_seats`` has a partial unique index on ``seat_id WHERE active``, so a seat can belong
to at most one CONFIRMED booking whatever the application does, and a composite foreign key
``(seat_id, event_id) → seats(id, event_id)`` ties every booked seat to its booking's event,
so an event can never have more sold seats than seats.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AuditRow",
    "Base",
    "BookingRow",
    "BookingSeatRow",
    "EventRow",
    "IdempotencyKeyRow",
    "NotificationRow",
    "OrganizerRequestRow",
    "OutboxRow",
    "PasswordResetRow",
    "RefreshTokenRow",
    "SeatRow",
    "UserRow",
    "WaitlistRow",
]

TZ = DateTime(timezone=True)


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('user', 'organizer', 'admin')", name="ck_users_role"),
        Index("ux_users_email_lower", text("lower(email)"), unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="user")
    banned_at: Mapped[datetime | None] = mapped_column(TZ)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    last_login_at: Mapped[datetime | None] = mapped_column(TZ)


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'inactive')", name="ck_events_status"),
        CheckConstraint("end_time >= start_time", name="ck_events_times"),
        CheckConstraint("hold_ttl_seconds > 0", name="ck_events_hold_ttl"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    venue: Mapped[str] = mapped_column(String(200))
    start_time: Mapped[datetime] = mapped_column(TZ, index=True)
    end_time: Mapped[datetime] = mapped_column(TZ)
    #: IANA zone name the event's times are shown in (migration 0004)
    timezone: Mapped[str] = mapped_column(Text, default="UTC", server_default="UTC")
    status: Mapped[str] = mapped_column(String(20), default="active")
    hold_ttl_seconds: Mapped[int] = mapped_column(Integer)
    waitlist_offer_seconds: Mapped[int] = mapped_column(Integer)
    auto_promote: Mapped[bool] = mapped_column(Boolean, default=False)
    organizer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    view_epoch: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


class SeatRow(Base):
    __tablename__ = "seats"
    __table_args__ = (
        UniqueConstraint("event_id", "label", name="uq_seats_event_label"),
        UniqueConstraint("id", "event_id", name="uq_seats_id_event"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    section: Mapped[str] = mapped_column(String(100))
    row: Mapped[str] = mapped_column(String(10))
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(120))
    rank: Mapped[int] = mapped_column(BigInteger)
    # The highest hold fencing number a confirm has written for this seat (invariant 2).
    fence: Mapped[int] = mapped_column(BigInteger, default=0)


class BookingRow(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("status IN ('CONFIRMED', 'CANCELLED')", name="ck_bookings_status"),
        CheckConstraint("(status = 'CANCELLED') = (cancelled_at IS NOT NULL)",
                        name="ck_bookings_cancelled_at"),
        Index("ix_bookings_user_created", "user_id", "created_at"),
        Index("ix_bookings_event_status", "event_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="RESTRICT"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(20), default="CONFIRMED")
    hold_id: Mapped[str | None] = mapped_column(String(100))
    fence: Mapped[int] = mapped_column(BigInteger, default=0)
    guest_name: Mapped[str | None] = mapped_column(String(200))
    guest_email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    cancelled_at: Mapped[datetime | None] = mapped_column(TZ)


class BookingSeatRow(Base):
    __tablename__ = "booking_seats"
    __table_args__ = (
        ForeignKeyConstraint(["seat_id", "event_id"], ["seats.id", "seats.event_id"],
                             name="fk_booking_seats_seat_event", ondelete="RESTRICT"),
        # DESIGN invariant 1: a seat belongs to at most one active (CONFIRMED) booking.
        Index("ux_booking_seats_active_seat", "seat_id", unique=True,
              postgresql_where=text("active")),
        Index("ix_booking_seats_event_active", "event_id", postgresql_where=text("active")),
    )

    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"),
                                            primary_key=True)
    seat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class WaitlistRow(Base):
    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint("status IN ('WAITING', 'OFFERED', 'ACCEPTED', 'EXPIRED', 'LEFT')",
                        name="ck_waitlist_status"),
        CheckConstraint("qty > 0", name="ck_waitlist_qty"),
        Index("ix_waitlist_event_status_id", "event_id", "status", "id"),
        Index("ux_waitlist_open_per_user", "event_id", "user_id", unique=True,
              postgresql_where=text("status IN ('WAITING', 'OFFERED')")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    qty: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="WAITING")
    offer_hold_id: Mapped[str | None] = mapped_column(String(100))
    offer_expires_at: Mapped[datetime | None] = mapped_column(TZ)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


class NotificationRow(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(TZ)


class OutboxRow(Base):
    """E-mails to send, written in the same transaction as the change they announce."""

    __tablename__ = "email_outbox"
    __table_args__ = (Index("ix_outbox_pending", "next_attempt_at",
                            postgresql_where=text("sent_at IS NULL")),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="SET NULL"), unique=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(TZ)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


class IdempotencyKeyRow(Base):
    """Stripe-style idempotency keys, scoped per user (kept at least 24 h)."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="in_flight")
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    locked_until: Mapped[datetime] = mapped_column(TZ)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), index=True)


class RefreshTokenRow(Base):
    __tablename__ = "refresh_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(String(64), index=True)
    expires_at: Mapped[datetime] = mapped_column(TZ)
    used_at: Mapped[datetime | None] = mapped_column(TZ)
    revoked_at: Mapped[datetime | None] = mapped_column(TZ)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


class OrganizerRequestRow(Base):
    """A sign-up that asked to organize (``ORGANIZER_SIGNUP=approval``); one pending per user."""

    __tablename__ = "organizer_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'refused')",
                        name="ck_organizer_requests_status"),
        Index("ux_organizer_requests_pending", "user_id", unique=True,
              postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(TZ)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class PasswordResetRow(Base):
    """A single-use password reset token, kept as its SHA-256 (hex) only."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(TZ)
    used_at: Mapped[datetime | None] = mapped_column(TZ)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


class AuditRow(Base):
    """One admin or organizer action (append-only; ids of deleted objects stay readable, so
    no foreign keys)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_actor", "actor_id", "id"),
                      Index("ix_audit_event", "event_id", "id"))

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    actor_id: Mapped[int] = mapped_column(BigInteger)
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(50))
    event_id: Mapped[int | None] = mapped_column(BigInteger)
    target_user_id: Mapped[int | None] = mapped_column(BigInteger)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
