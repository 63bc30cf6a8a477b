"""The live seat view port: holds as leases, seat status, ``seq``/``epoch`` (Redis).

Times are epoch milliseconds (``*_ms``) taken from the caller's ``now``, read once per request
(STYLE.md §3). Seat ids are ``seats.id`` values, never labels. A hold's ``token`` is the part of
the hold id after ``<event_id>.`` (``hub.bookings.parse_hold_id``).

**ttl_ms = 0 means the event's TTL.** Wherever a lease length is passed (``HoldRequest.ttl_ms``,
:meth:`SeatView.extend`), 0 asks for the event's ``hold_ttl_seconds`` as the view holds it
(meta ``ttl``, written by :meth:`SeatView.load` and :meth:`SeatView.set_hold_ttl`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from hub.model import Hold, HoldStatus, Seat

__all__ = ["EventCounts", "HoldRequest", "SeatView", "Snapshot", "SweptHold", "ViewMissing",
           "ViewSource"]


class ViewMissing(Exception):
    """The Redis seat view of an event is absent (first use, eviction, FLUSHDB): load it."""

    def __init__(self, event_id: int) -> None:
        super().__init__(f"no seat view for event {event_id}")
        self.event_id = event_id


@dataclass(frozen=True, slots=True)
class HoldRequest:
    """A hold to take: exactly one of ``seat_ids`` or ``qty`` is set.

    Attributes:
        token: the new hold's random token. now_ms: epoch ms.
        ttl_ms: the lease in ms; **0 means the event's TTL** (``hold_ttl_seconds``).
        max_held: the per-user cap of held seats in this event (``MAX_HELD_SEATS_PER_USER``).
        lifetime_ms: the most a user may hold a seat continuously, across holds: the lease
            never runs past the user's "held since" of its seats + ``lifetime_ms`` (a release
            keeps that start for a cool-down of ``lifetime_ms``; README "Hold lifetime").
        reserved_for: a waitlist entry id whose offer this is (0: a public hold).
    """

    event_id: int
    user_id: int
    token: str
    now_ms: int
    ttl_ms: int
    max_held: int
    seat_ids: tuple[int, ...] = ()
    qty: int = 0
    lifetime_ms: int = 0
    reserved_for: int = 0


@dataclass(frozen=True, slots=True)
class ViewSource:
    """What PostgreSQL says of an event, to (re)build its Redis view under a new ``epoch``.

    ``hold_ttl_ms`` is the event's lease (ms); ``sold_ids`` seat ids of CONFIRMED bookings.
    """

    event_id: int
    epoch: int
    active: bool
    hold_ttl_ms: int
    seats: list[Seat]
    sold_ids: list[int]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The live seat view: seat ids by status, at ``(epoch, seq)``; ``held_by`` maps a held
    seat id to its hold token."""

    event_id: int
    epoch: int
    seq: int
    available: list[int]
    held: list[int]
    sold: list[int]
    held_by: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EventCounts:
    """Live seat counts of an event's view (seats, not holds)."""

    available: int
    held: int
    sold: int


@dataclass(frozen=True, slots=True)
class SweptHold:
    """A hold the expiry sweeper ended: its seats are available again, or, with
    ``needs_repair``, left for reconciliation (Redis lost the hold's key mid-confirm). With
    ``needs_settle`` the hold is NOT ended: its confirm outlived its grace, its seats
    (``seat_ids``) are still held, and the caller settles it from PostgreSQL (DESIGN invariant
    8); the view offers it again a second later should that caller die. ``entry_id`` is the
    waitlist entry of an offer (0: none)."""

    hold_id: str
    event_id: int
    user_id: int
    seat_ids: list[int]
    needs_repair: bool = False
    needs_settle: bool = False
    entry_id: int = 0


class SeatView(Protocol):
    """The live seat view of events, with holds as leases (Redis, DESIGN flows "Hold").

    Every method that changes seats bumps the event's ``seq`` and publishes a ``delta``
    atomically with the change (invariant 4). Methods raise :class:`ViewMissing` when the view
    is absent (unless said otherwise), ``Unavailable`` when Redis fails, and contract errors
    (``hub.errors``) for refusals.
    """

    async def hold(self, req: HoldRequest) -> Hold:
        """Take a hold, all or nothing (``req.ttl_ms`` 0: the event's TTL).

        Raises: EventInactive, SeatUnavailable (``seat_ids``), NotEnoughSeats / SoldOut
        (``qty``), HoldLimit (over ``max_held``), ValidationFailed (unknown seat ids),
        SeatUnavailable also for seats this user already held for ``lifetime_ms``."""
        ...

    async def get_hold(self, event_id: int, token: str) -> Hold | None:
        """The live hold (``state`` ACTIVE or CONFIRMING), or None when it ended or never
        existed."""
        ...

    async def lookup_hold(self, event_id: int,
                          token: str) -> tuple[Hold | None, tuple[int, HoldStatus] | None]:
        """``(live hold, None)``, or ``(None, (user_id, RELEASED | EXPIRED))`` for a hold that
        ended within the last hour (the view keeps how it ended that long), else
        ``(None, None)``. Works without the event's view. Raises: Unavailable."""
        ...

    async def extend(self, event_id: int, token: str, user_id: int, now_ms: int, ttl_ms: int,
                     lifetime_ms: int) -> Hold:
        """Push the lease to ``now_ms + ttl_ms`` (**0: the event's TTL**), never past
        the user's continuous holding start of its seats + ``lifetime_ms`` and never shorter
        than it is. Raises: NotFound, Forbidden
        (another user's hold)."""
        ...

    async def release(self, event_id: int, token: str, user_id: int, now_ms: int,
                      outcome: HoldStatus = HoldStatus.RELEASED) -> list[int]:
        """End a hold now (``user_id`` 0: any owner); returns the freed seat ids. ``outcome``
        (RELEASED or EXPIRED) is what :meth:`lookup_hold` answers for the next hour.
        Raises: NotFound, Forbidden."""
        ...

    async def hold_begin(self, req: HoldRequest, grace_ms: int) -> Hold:
        """:meth:`hold` and then :meth:`confirm_begin` on the new hold, atomically in one call
        (the book path). Raises what both raise."""
        ...

    async def confirm_begin(self, event_id: int, token: str, user_id: int, now_ms: int,
                            grace_ms: int) -> Hold:
        """Reserve the hold for its confirm transaction (state ``confirming``, lease pushed
        by ``grace_ms``). Raises: HoldExpired, NotFound, Forbidden, EventInactive."""
        ...

    async def confirm_finish(self, event_id: int, token: str, seat_ids: list[int],
                             now_ms: int) -> None:
        """After the booking committed in PostgreSQL: the seats are sold, the hold is over."""
        ...

    async def confirm_abort(self, event_id: int, token: str, now_ms: int) -> None:
        """The confirm failed for a passing reason: the hold is active again as it was."""
        ...

    async def free(self, event_id: int, seat_ids: list[int], now_ms: int) -> list[int]:
        """A cancelled booking's seats are available again; returns those that changed."""
        ...

    async def load(self, source: ViewSource, now_ms: int) -> bool:
        """Build the view under ``source.epoch`` unless another process already did; True
        when this call built it (an ``epoch`` notice is published then)."""
        ...

    async def reconcile(self, event_id: int, sold_ids: list[int], now_ms: int) -> int:
        """Make the view's sold seats equal ``sold_ids`` (PostgreSQL); returns seats changed."""
        ...

    async def sweep(self, event_id: int, now_ms: int) -> list[SweptHold]:
        """End every hold of the event whose lease ran out by ``now_ms`` (a batch at a time;
        safe to run from every process at once). A hold still confirming is not ended but
        returned with ``needs_settle`` (see :class:`SweptHold`)."""
        ...

    async def live_events(self) -> list[int]:
        """Ids of events that have a view, ascending (never raises ViewMissing)."""
        ...

    async def snapshot(self, event_id: int) -> Snapshot:
        """Every seat's status at one ``(epoch, seq)``."""
        ...

    async def history(self, event_id: int, epoch: int,
                      after_seq: int) -> tuple[int, int, list[str]] | None:
        """``(epoch, seq, deltas)``: the encoded (JSON) deltas after ``after_seq`` in order;
        None when history no longer covers them (another epoch, trimmed, or from the future)."""
        ...

    async def counts(self, event_id: int) -> EventCounts | None:
        """Live seat counts, or None when no view is loaded."""
        ...

    async def set_active(self, event_id: int, active: bool, now_ms: int) -> None:
        """Open or stop sales in a loaded view (an absent view is left absent)."""
        ...

    async def set_hold_ttl(self, event_id: int, ttl_ms: int) -> None:
        """New holds of a loaded view last ``ttl_ms`` (an absent view is left absent: it is
        built with the event's TTL from PostgreSQL)."""
        ...

    async def add_seats(self, event_id: int, seats: list[Seat], now_ms: int) -> int:
        """New seats join the view as available (one delta); returns how many were new
        (0 for an absent view, which gets them when built)."""
        ...

    async def drop(self, event_id: int) -> None:
        """Forget the event's view; it is rebuilt (new epoch) when next used."""
        ...

    async def offer(self, event_id: int, user_id: int, token: str, now_ms: int, ttl_ms: int,
                    qty: int, entry_id: int, max_held: int) -> Hold:
        """A hold of ``qty`` seats for waitlist entry ``entry_id``'s user, lasting ``ttl_ms``
        (the offer time): pooled seats first, then the best available. The seats count toward
        the user's ``max_held`` (``MAX_HELD_SEATS_PER_USER``), checked in the same atomic step.
        Raises: NotEnoughSeats, HoldLimit, EventInactive."""
        ...

    async def set_waiting(self, event_id: int, waiting: int, now_ms: int,
                          reserve_ms: int) -> int:
        """Record how many entries wait and how long (``reserve_ms``, the event's
        ``waitlist_offer_seconds``) a seat freed from now on stays reserved for them before it
        returns to public sale; with none waiting, pooled seats go public. Returns how many
        went public (0 for an absent view)."""
        ...

    async def free_count(self, event_id: int) -> int:
        """Seats a waitlist offer could take now: pooled + available."""
        ...
