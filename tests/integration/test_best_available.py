"""Best available on a real Redis: the ``hold`` Lua script with ``qty`` picks the best
section (the organizer's order), then the row nearest the stage, then the run of seats side
by side nearest that row's centre (README "Best available")."""

from __future__ import annotations

import itertools

from hub.model import Seat
from hub.ports import ViewSource
from hub.seatmap import Section, seats_for_map
from storage.seatview import RedisSeatView
from tests.support.seats import EPOCH, EVENT, NOW, TTL_MS, hold_request

MAX_HELD = 1000  # no per-user cap gets in the way of these picks
_tokens = itertools.count(1)


async def load(view: RedisSeatView, sections: list[Section]) -> dict[int, Seat]:
    """Seats of ``sections`` (ranks as :func:`hub.seatmap.seats_for_map` packs them), ids
    1.., loaded straight into the seat view; id → seat."""
    specs = seats_for_map(sections)
    seats = [Seat(i, s.label, s.section, s.row, s.number, s.rank)
             for i, s in enumerate(specs, start=1)]
    await view.load(ViewSource(EVENT, EPOCH, True, TTL_MS, seats, []), now_ms=NOW)
    return {s.id: s for s in seats}


async def hold_labels(view: RedisSeatView, seats: dict[int, Seat], qty: int,
                      user: int = 1) -> list[str]:
    """Labels of a ``qty`` hold, best rank first."""
    hold = await view.hold(hold_request(user, f"t{next(_tokens)}", qty=qty, max_held=MAX_HELD))
    return [seats[i].label for i in sorted(hold.seat_ids, key=lambda i: seats[i].rank)]


async def test_four_best_of_a_fifty_seat_row_are_the_centre_four(view: RedisSeatView) -> None:
    seats = await load(view, [Section("Stalls", 20, 50), Section("Circle", 12, 50)])
    assert await hold_labels(view, seats, 4) == [f"Stalls A{n}" for n in (24, 25, 26, 27)]
    # The next four: the nearest run to the centre that is left in row A (a tie: the left one).
    assert await hold_labels(view, seats, 4) == [f"Stalls A{n}" for n in (20, 21, 22, 23)]
    # Odd rows and odd counts stay centred too.
    assert await hold_labels(view, seats, 1) == ["Stalls A28"]


async def test_a_row_without_room_side_by_side_gives_way_to_the_next_row(
        view: RedisSeatView) -> None:
    seats = await load(view, [Section("Stalls", 3, 9)])
    # Row A: take 1..3 and 5..9 by id, leaving only seat 4 free.
    row_a = [s.id for s in seats.values() if s.row == "A" and s.number != 4]
    await view.hold(hold_request(2, "block", seat_ids=tuple(row_a), max_held=MAX_HELD))
    assert await hold_labels(view, seats, 3) == ["Stalls B4", "Stalls B5", "Stalls B6"]
    assert await hold_labels(view, seats, 1) == ["Stalls A4"]


async def test_an_explicit_section_rank_beats_the_list_order(view: RedisSeatView) -> None:
    seats = await load(view, [Section("Stalls", 2, 10, rank=2), Section("Circle", 2, 6, rank=1),
                              Section("Balcony", 1, 4)])
    assert await hold_labels(view, seats, 2) == ["Circle A3", "Circle A4"]
    # Row A of the Circle has no six side by side left: row B, then the Stalls.
    assert await hold_labels(view, seats, 6) == [f"Circle B{n}" for n in range(1, 7)]
    assert await hold_labels(view, seats, 6) == [f"Stalls A{n}" for n in range(3, 9)]
