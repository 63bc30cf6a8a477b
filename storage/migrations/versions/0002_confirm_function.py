"""confirm in one round trip: the evently_confirm() function

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

The booking confirm transaction (DESIGN invariant 3) as one PL/pgSQL function, so the hub pays
one round trip instead of seven: it locks the seat rows in id order, checks the event is
active, the seats belong to it, the hold's fencing number is not stale and the seats are
unsold, then writes the booking, its seats, the fences, the notification and (optionally) the
e-mail outbox row. A refusal returns ``{"error": CODE, ...}`` before anything is written; the
partial unique index on active booking seats still backs the check.
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION evently_confirm(
    p_event bigint, p_user bigint, p_seats bigint[], p_fence bigint, p_hold text,
    p_guest_name text, p_guest_email text, p_now timestamptz, p_email boolean)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_status text;
    v_bad bigint[];
    v_booking bigint;
    v_created timestamptz;
    v_labels text[];
    v_notice bigint;
    v_notice_at timestamptz;
BEGIN
    SELECT status INTO v_status FROM events WHERE id = p_event;
    IF v_status IS NULL THEN
        RETURN jsonb_build_object('error', 'NOT_FOUND');
    END IF;
    IF v_status <> 'active' THEN
        RETURN jsonb_build_object('error', 'EVENT_INACTIVE');
    END IF;
    PERFORM 1 FROM seats WHERE event_id = p_event AND id = ANY(p_seats) ORDER BY id FOR UPDATE;
    SELECT array_agg(x ORDER BY x) INTO v_bad FROM unnest(p_seats) AS x
        WHERE NOT EXISTS (SELECT 1 FROM seats s WHERE s.id = x AND s.event_id = p_event);
    IF v_bad IS NOT NULL THEN
        RETURN jsonb_build_object('error', 'SEAT_UNAVAILABLE', 'seat_ids', to_jsonb(v_bad));
    END IF;
    IF EXISTS (SELECT 1 FROM seats WHERE id = ANY(p_seats) AND fence > p_fence) THEN
        RETURN jsonb_build_object('error', 'HOLD_EXPIRED');
    END IF;
    SELECT array_agg(seat_id ORDER BY seat_id) INTO v_bad FROM booking_seats
        WHERE seat_id = ANY(p_seats) AND active;
    IF v_bad IS NOT NULL THEN
        RETURN jsonb_build_object('error', 'SEAT_UNAVAILABLE', 'seat_ids', to_jsonb(v_bad));
    END IF;
    INSERT INTO bookings (event_id, user_id, status, hold_id, fence, guest_name, guest_email,
                          created_at)
        VALUES (p_event, p_user, 'CONFIRMED', p_hold, p_fence, p_guest_name, p_guest_email,
                p_now)
        RETURNING id, created_at INTO v_booking, v_created;
    INSERT INTO booking_seats (booking_id, seat_id, event_id, active)
        SELECT v_booking, x, p_event, true FROM unnest(p_seats) AS x;
    UPDATE seats SET fence = p_fence WHERE id = ANY(p_seats);
    SELECT array_agg(label ORDER BY id) INTO v_labels FROM seats WHERE id = ANY(p_seats);
    INSERT INTO notifications (user_id, kind, payload, created_at)
        VALUES (p_user, 'booking.confirmed',
                jsonb_build_object('booking_id', v_booking, 'event_id', p_event,
                                   'seat_ids', to_jsonb(p_seats), 'seats', to_jsonb(v_labels)),
                p_now)
        RETURNING id, created_at INTO v_notice, v_notice_at;
    IF p_email THEN
        INSERT INTO email_outbox (notification_id, to_address, subject, body, attempts,
                                  next_attempt_at, created_at)
            SELECT v_notice, email, 'Your booking is confirmed',
                   'Your booking is confirmed.' || E'\n\n' || 'Seats: '
                   || array_to_string(v_labels, ', ') || E'\n' || 'Booking: #' || v_booking
                   || E'\n',
                   0, p_now, p_now
            FROM users WHERE id = p_user;
    END IF;
    RETURN jsonb_build_object('booking_id', v_booking, 'created_at', v_created,
                              'labels', to_jsonb(v_labels), 'notice_id', v_notice,
                              'notice_created_at', v_notice_at);
END
$$;
"""


def upgrade() -> None:
    op.execute(FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS evently_confirm(bigint, bigint, bigint[], bigint, text, "
                "text, text, timestamptz, boolean)")
