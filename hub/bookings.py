"""The booking service: hold, extend, release, confirm, book, cancel — one implementation of
the rules for both transports (REST and WebSocket).

Flow (DESIGN.md "Flows"): a hold is a lease taken atomically in the Redis seat view; confirm
moves the hold to a *confirming* state (so expiry cannot take it mid-commit), runs one
PostgreSQL transaction that locks the seat rows in id order and checks the hold's fencing
number, and only after the commit marks the seats sold in Redis. If Redis and PostgreSQL
disagree (lost lease, crash between commit and view update), PostgreSQL wins and the view is
reconciled from it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar

from hub.errors import (
    EventInactive,
    HoldExpired,
    NotFound,
    SeatUnavailable,
    ValidationFailed,
)
from hub.holds import MAX_SEATS_PER_REQUEST, HoldLimits, ms, parse_hold_id, to_ms
from hub.model import Actor, Booking, BookingStatus, Hold, Seat, SeatStatus
from hub.policy import require_booking_canceller, require_booking_reader
from hub.ports import (
    BookingStore,
    ConfirmCommand,
    EventStore,
    HoldRequest,
    Notifier,
    ReportCache,
    SeatView,
    Snapshot,
    SweptHold,
    ViewMissing,
)
from hub.ports.runtime import WaitlistHooks
from hub.settlement import HoldOutcome, hold_status, settle_confirming

# The hold helpers are re-exported: importers of hub.bookings keep working.
__all__ = ["MAX_SEATS_PER_REQUEST", "BookingService", "HoldLimits", "HoldOutcome",
           "parse_hold_id", "to_ms"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class BookingService:
    """Carries out seat commands against a :class:`SeatView` (Redis), an :class:`EventStore`
    and a :class:`BookingStore` (PostgreSQL), pushing personal notices through a
    :class:`Notifier`.

    Args:
        reports: the analytics report cache, dropped on every booking change (CONTRACT §2
            ``/admin/analytics/summary``).
        waitlist: told whenever seats become available again (cancel, release, expiry, a
            rebuilt view) and when a waitlist offer ends; None runs without a waitlist.
    """

    def __init__(self, events: EventStore, bookings: BookingStore, view: SeatView,
                 notifier: Notifier, limits: HoldLimits,
                 reports: ReportCache, waitlist: WaitlistHooks | None = None) -> None:
        self.events = events
        self.bookings = bookings
        self.view = view
        self.notifier = notifier
        self.limits = limits
        self.reports = reports
        self.waitlist = waitlist

    # -- the live view -------------------------------------------------------------------

    async def ensure_view(self, event_id: int, now: datetime) -> None:
        """(Re)build an event's Redis view from PostgreSQL under a new epoch, then reconcile.

        The second read of sold seats closes the window in which a confirm or cancel committed
        while the view was being loaded (its own view update found no view and did nothing).

        Raises:
            NotFound: no such event.
        """
        source = await self.events.view_source(event_id)
        built = await self.view.load(source, to_ms(now))
        await self.reconcile(event_id, now)
        if built:
            await self.seats_freed(event_id, [], now)  # tell the new view who is waiting

    async def reconcile(self, event_id: int, now: datetime) -> int:
        """Make the view's sold seats equal PostgreSQL's; returns how many seats changed."""
        sold = await self.events.sold_seat_ids(event_id)
        changed = await self.view.reconcile(event_id, sold, to_ms(now))
        if changed:
            log.warning("reconciled %d seats of event %d from PostgreSQL", changed, event_id)
        return changed

    async def _viewed(self, event_id: int, now: datetime, op: Callable[[], Awaitable[T]]) -> T:
        try:
            return await op()
        except ViewMissing:
            await self.ensure_view(event_id, now)
            return await op()

    async def snapshot(self, event_id: int, now: datetime) -> Snapshot:
        """The live view of an event. Raises: NotFound."""
        return await self._viewed(event_id, now, lambda: self.view.snapshot(event_id))

    async def history(self, event_id: int, epoch: int, after_seq: int,
                      now: datetime) -> tuple[int, int, list[str]] | None:
        """The deltas a client missed since ``(epoch, after_seq)``: ``(epoch, seq, deltas)``
        with ``seq`` the current one, or None when it must take a snapshot instead."""
        return await self._viewed(event_id, now,
                                  lambda: self.view.history(event_id, epoch, after_seq))

    async def seats(self, event_id: int, now: datetime) -> tuple[Snapshot, list[Seat]]:
        """Every seat of an event with its live status. Raises: NotFound."""
        snap = await self.snapshot(event_id, now)
        seats = await self.events.list_seats(event_id)
        status = {i: SeatStatus.HELD for i in snap.held}
        status.update({i: SeatStatus.SOLD for i in snap.sold})
        out = [Seat(s.id, s.label, s.section, s.row, s.number, s.rank,
                    status.get(s.id, SeatStatus.AVAILABLE)) for s in seats]
        return snap, out

    # -- holds ---------------------------------------------------------------------------

    def _check_request(self, seat_ids: Sequence[int] | None, qty: int | None) -> None:
        most = self.limits.max_seats_per_request
        if (seat_ids is None) == (qty is None):
            raise ValidationFailed("Give either seat_ids or qty.", fields=[
                {"field": "seat_ids", "message": "give exactly one of seat_ids and qty"}])
        if seat_ids is not None:
            if not 1 <= len(seat_ids) <= most:
                raise ValidationFailed(fields=[{"field": "seat_ids",
                                                "message": f"give 1..{most} seat ids"}])
            if len(set(seat_ids)) != len(seat_ids):
                raise ValidationFailed(fields=[{"field": "seat_ids",
                                                "message": "seat ids must differ"}])
        elif qty is not None and not 1 <= qty <= most:
            raise ValidationFailed(fields=[{"field": "qty", "message": f"must be 1..{most}"}])

    async def hold(self, user: Actor, event_id: int, now: datetime, *,
                   seat_ids: Sequence[int] | None = None, qty: int | None = None,
                   reserved_for: int = 0, ttl_seconds: int = 0) -> Hold:
        """Hold seats, all or nothing; ``qty`` picks the best seats side by side where it can.

        ``ttl_seconds`` is the lease; 0 (the default) means the event's ``hold_ttl_seconds``,
        passed on as ``ttl_ms=0`` (the seat view's rule, :mod:`hub.ports.seats`).

        Returns the :class:`Hold` (``expires_at`` = now + the lease, capped by the lifetime
        rule across holds).

        Raises:
            ValidationFailed, NotFound, EventInactive, SeatUnavailable (``seat_ids``, or seats
            this user already held continuously for ``HOLD_MAX_LIFETIME_SECONDS``),
            NotEnoughSeats / SoldOut (``qty``), HoldLimit (``MAX_HELD_SEATS_PER_USER``).
        """
        req = self._hold_request(user, event_id, now, seat_ids, qty, reserved_for, ttl_seconds)
        return await self._viewed(event_id, now, lambda: self.view.hold(req))

    def _hold_request(self, user: Actor, event_id: int, now: datetime,
                      seat_ids: Sequence[int] | None, qty: int | None, reserved_for: int,
                      ttl_seconds: int) -> HoldRequest:
        self._check_request(seat_ids, qty)
        return HoldRequest(
            event_id=event_id, user_id=user.id, token=secrets.token_urlsafe(12),
            now_ms=to_ms(now), ttl_ms=ms(ttl_seconds),
            max_held=self.limits.max_held_seats_per_user,
            seat_ids=tuple(seat_ids or ()), qty=qty or 0,
            lifetime_ms=ms(self.limits.hold_max_lifetime_seconds),
            reserved_for=reserved_for,
        )

    async def get_hold(self, user: Actor, hold_id: str) -> Hold:
        """Raises: NotFound (unknown or ended hold), Forbidden (another user's)."""
        hold, _ = await self.hold_status(user, hold_id)
        if hold is None:
            raise NotFound("No such hold; it may have expired or been released.")
        return hold

    async def hold_status(self, user: Actor,
                          hold_id: str) -> tuple[Hold | None, HoldOutcome | None]:
        """What became of a hold, for a buyer who lost track of it (say, a hub died while it
        confirmed): ``(hold, None)`` while it lives (``hold.state`` "active" or
        "confirming"), else ``(None, outcome)``: "confirmed" with the booking (PostgreSQL
        says so), or "released" / "expired" within an hour of its end.

        Raises: NotFound (unknown, or ended over an hour ago), Forbidden (another user's).
        """
        event_id, token = parse_hold_id(hold_id)
        return await hold_status(self.view, self.bookings, user, event_id, token)

    async def extend(self, user: Actor, hold_id: str, now: datetime) -> Hold:
        """Push ``expires_at`` to now + the event's TTL, never past the user's continuous
        holding start of the seats + ``HOLD_MAX_LIFETIME_SECONDS`` (README "Hold lifetime
        across holds"; the start survives release and re-hold).

        Raises: NotFound, Forbidden, HoldExpired.
        """
        event_id, token = parse_hold_id(hold_id)
        # ttl_ms=0: the seat view extends by the event's TTL (hub.ports.seats).
        return await self.view.extend(event_id, token, user.id, to_ms(now), 0,
                                      ms(self.limits.hold_max_lifetime_seconds))

    async def release(self, user: Actor, hold_id: str, now: datetime) -> None:
        """End a hold now; its seats are available (or offered to the waitlist) at once.

        Raises: NotFound, Forbidden.
        """
        event_id, token = parse_hold_id(hold_id)
        hold = await self.view.get_hold(event_id, token)
        freed = await self.view.release(event_id, token, user.id, to_ms(now))
        if hold is not None and hold.entry_id and self.waitlist is not None:
            await self.waitlist.offer_ended(hold, None, now)  # a declined waitlist offer
        await self._freed(event_id, freed, now)

    # -- bookings ------------------------------------------------------------------------

    async def confirm(self, user: Actor, hold_id: str, now: datetime,
                      guest: dict[str, str] | None = None, *,
                      for_promotion: bool = False) -> Booking:
        """Turn the user's hold into a CONFIRMED booking (DESIGN invariant 3).

        Raises:
            NotFound, Forbidden: not the user's hold.
            HoldExpired: the lease ended or Redis lost it and somebody else's lease is newer.
        ``for_promotion``: the waitlist books an ``auto_promote`` entry (it records that).
            SeatUnavailable: PostgreSQL already has the seats sold (the view is repaired).
            EventInactive: the event was deactivated since the hold.
        """
        event_id, token = parse_hold_id(hold_id)
        grace_ms = ms(self.limits.confirm_grace_seconds)
        hold = await self.view.confirm_begin(event_id, token, user.id, to_ms(now), grace_ms)
        return await self._commit(user, hold, now, guest, for_promotion)

    async def _commit(self, user: Actor, hold: Hold, now: datetime,
                      guest: dict[str, str] | None, for_promotion: bool) -> Booking:
        """The part of :meth:`confirm` after ``confirm_begin``: the PostgreSQL transaction,
        then the view update and the pushes."""
        hold_id = hold.hold_id
        event_id, token = parse_hold_id(hold_id)
        cmd = ConfirmCommand(event_id=event_id, user_id=user.id, hold_id=hold_id,
                             seat_ids=sorted(hold.seat_ids), fence=hold.fence, now=now,
                             guest=guest, lock_timeout_ms=self.limits.confirm_lock_timeout_ms)
        try:
            booking = await self.bookings.confirm(cmd)
        except (SeatUnavailable, HoldExpired, EventInactive) as exc:
            # This hold's own earlier confirm may have committed with its answer lost (say,
            # PostgreSQL restarted): then that booking is the answer to this retry.
            earlier = (await self.bookings.booking_for_hold(event_id, hold_id)
                       if isinstance(exc, SeatUnavailable) else None)
            if (earlier is not None and earlier.user_id == user.id
                    and earlier.status is BookingStatus.CONFIRMED):
                return await self._confirmed(user, hold, earlier, now, for_promotion)
            # The lease is worthless now: end it, and let PostgreSQL repair the view.
            try:
                freed = await self.view.release(event_id, token, user.id, to_ms(now))
            except NotFound:  # the sweeper settled it already
                freed = []
            await self.reconcile(event_id, now)
            await self._freed(event_id, freed, now)
            raise
        except BaseException:
            await self.view.confirm_abort(event_id, token, to_ms(now))
            raise
        return await self._confirmed(user, hold, booking, now, for_promotion)

    async def _confirmed(self, user: Actor, hold: Hold, booking: Booking, now: datetime,
                         for_promotion: bool) -> Booking:
        """After the commit: the view says sold, the buyer is told, a waitlist offer ends."""
        event_id, token = parse_hold_id(hold.hold_id)
        try:
            await self.view.confirm_finish(event_id, token, booking.seat_ids, to_ms(now))
        except ViewMissing:
            await self.ensure_view(event_id, now)
        await self.drop_reports()
        await self.notifier.notify(user.id, "booking.confirmed", booking)
        if booking.notice is not None:
            await self.notifier.notify(user.id, "notification", booking.notice)
        if hold.entry_id and self.waitlist is not None and not for_promotion:
            await self.waitlist.offer_ended(hold, booking.id, now)
        return booking

    async def _book_offer(self, waiter: Actor, hold_id: str, now: datetime) -> Booking:
        return await self.confirm(waiter, hold_id, now, for_promotion=True)

    async def drop_reports(self) -> None:
        """Drop the cached analytics report (a booking changed); failures are only logged."""
        try:  # a stale report for up to a minute is better than failing a committed booking
            await self.reports.invalidate()
        except Exception:
            log.exception("could not drop the analytics report cache")

    async def book(self, user: Actor, event_id: int, now: datetime, *,
                   seat_ids: Sequence[int] | None = None, qty: int | None = None,
                   guest: dict[str, str] | None = None) -> Booking:
        """Hold and confirm in one step. Raises what :meth:`hold` and :meth:`confirm` raise.

        One seat-view call takes the hold already in its confirming state
        (:meth:`SeatView.hold_begin`), one PostgreSQL call commits, one seat-view call marks
        the seats sold: the same steps as :meth:`hold` + :meth:`confirm`, one round trip
        fewer."""
        req = self._hold_request(user, event_id, now, seat_ids, qty, 0, 0)
        grace_ms = ms(self.limits.confirm_grace_seconds)
        hold = await self._viewed(event_id, now, lambda: self.view.hold_begin(req, grace_ms))
        try:
            return await self._commit(user, hold, now, guest, False)
        except BaseException:
            await self._quiet_release(user, hold.hold_id, now)
            raise

    async def _quiet_release(self, user: Actor, hold_id: str, now: datetime) -> None:
        try:
            await self.release(user, hold_id, now)
        except (NotFound, HoldExpired):
            pass
        except Exception:  # the original error matters more; the lease will expire anyway
            log.exception("could not release hold %s after a failed booking", hold_id)

    async def mine(self, user: Actor, status: BookingStatus | None = None, offset: int = 0,
                   limit: int | None = None) -> list[Booking]:
        """``GET /me/bookings``: a page of the user's bookings, newest first, optionally of
        one status."""
        return await self.bookings.user_bookings(
            user.id, status.value if status is not None else None, offset, limit)

    async def get_booking(self, user: Actor, booking_id: int) -> Booking:
        """Raises: NotFound, Forbidden (not the owner, an admin or the event's organizer)."""
        booking = await self.bookings.get_booking(booking_id)
        event = await self.events.get_event(booking.event_id)
        require_booking_reader(user, booking, event)
        return booking

    async def cancel(self, user: Actor, booking_id: int, now: datetime) -> Booking:
        """Cancel a booking (owner or admin); its seats are available at once.

        Cancelling a cancelled booking returns it unchanged (``DELETE`` is idempotent).

        Raises: NotFound, Forbidden.
        """
        booking = await self.bookings.get_booking(booking_id)
        require_booking_canceller(user, booking)
        if booking.status is BookingStatus.CANCELLED:
            return booking
        booking = await self.bookings.cancel(booking_id, now)
        try:
            freed = await self.view.free(booking.event_id, booking.seat_ids, to_ms(now))
        except ViewMissing:
            await self.ensure_view(booking.event_id, now)
            freed = list(booking.seat_ids)
        await self.drop_reports()
        await self.notifier.notify(booking.user_id, "booking.cancelled", booking)
        if booking.notice is not None:
            await self.notifier.notify(booking.user_id, "notification", booking.notice)
        await self._freed(booking.event_id, freed, now)
        return booking

    # -- expiry --------------------------------------------------------------------------

    async def sweep(self, now: datetime) -> list[SweptHold]:
        """End every hold whose lease has run out, in every live event (DESIGN invariant 6).

        Safe with any number of processes sweeping at once: each expiry happens in one Lua
        script, so a hold is ended exactly once. Holds whose confirm outlived its grace are
        settled from PostgreSQL instead of being freed blindly (DESIGN invariant 8).
        """
        swept: list[SweptHold] = []
        for event_id in await self.view.live_events():
            try:
                ended = await self.view.sweep(event_id, to_ms(now))
            except ViewMissing:
                continue
            if any(s.needs_repair for s in ended):
                await self.reconcile(event_id, now)
            freed: list[int] = []
            for s in [s for s in ended if s.needs_settle]:
                freed.extend(await self._settle(s, now))
            for s in [s for s in ended if not s.needs_settle]:
                if not s.needs_repair:
                    await self.notifier.notify(s.user_id, "hold.expired", s)
                    freed.extend(s.seat_ids)
                if s.entry_id and self.waitlist is not None:
                    await self.waitlist.offer_ended(
                        Hold(s.hold_id, event_id, s.user_id, s.seat_ids, [], now, now,
                             entry_id=s.entry_id), None, now)
            await self._freed(event_id, freed, now)
            swept.extend(ended)
        return swept

    async def _settle(self, s: SweptHold, now: datetime) -> list[int]:
        """Settle a hold whose confirm outlived its grace: sold if its booking committed,
        else ended (its confirm can no longer commit). Returns the seats freed."""
        freed, booking = await settle_confirming(self.view, self.bookings, self.notifier, s,
                                                 now, self.waitlist)
        if booking is not None:
            await self.drop_reports()
        return freed

    async def _freed(self, event_id: int, seat_ids: list[int], now: datetime) -> None:
        if seat_ids:
            await self.seats_freed(event_id, seat_ids, now)

    async def seats_freed(self, event_id: int, seat_ids: list[int], now: datetime) -> None:
        """Seats became available (cancel, release, expiry, a capacity increase; none for a
        waitlist change): the waitlist is offered them. Every path that frees seats ends
        here."""
        if self.waitlist is not None:
            await self.waitlist.promote(event_id, seat_ids, now, self._book_offer)
