"""Capacity changes of an event's seats (CONTRACT §2 ``PATCH /admin/events/{id}``):

* Raising ``capacity`` adds seats. A capacity-style event (seats ``A1..A10, B1..`` of section
  ``General``) continues its rows of 10, filling gaps left by earlier decreases first; an
  event made from a seat map gets the new seats in a section named ``Extra`` after the others
  (rows of 10, continued on a later raise). New seats go to the waitlist first.
* Lowering ``capacity`` below the seats sold is ``CAPACITY_BELOW_SOLD``. Otherwise the worst
  (highest ``rank``) seats that were never booked are removed. The live view is then rebuilt
  under a new epoch, which would lose live holds, so a decrease is refused (also
  ``CAPACITY_BELOW_SOLD``, ``details.held``) while any seat of the event is held.

This module holds the pure rule of what a raise adds; :class:`hub.event_admin.EventAdmin`
carries the changes out.
"""

from __future__ import annotations

from hub.errors import ValidationFailed
from hub.model import Seat
from hub.seatmap import (
    CAPACITY_ROW_LENGTH,
    MAX_SEATS_PER_EVENT,
    SeatSpec,
    row_name,
    seat_rank,
    seats_for_capacity,
    section_of,
)

__all__ = ["EXTRA_SECTION", "added_seats"]

EXTRA_SECTION = "Extra"


def _capacity_style(seats: list[Seat]) -> bool:
    """True when the seats were made from ``capacity`` alone (labels ``A1``, section
    ``General``), so an increase continues the rows instead of adding a section."""
    return all(s.section == "General" and s.label == f"{s.row}{s.number}" for s in seats)


def added_seats(existing: list[Seat], capacity: int) -> list[SeatSpec]:
    """The seats a raise to ``capacity`` adds (none when there are that many already).

    Capacity-style events continue ``A1..A10, B1..`` (free positions first, so gaps left by a
    decrease are refilled); seat-map events grow a section ``Extra`` in rows of 10 after the
    existing sections. Ranks follow :mod:`hub.seatmap`.

    Raises:
        ValidationFailed: more than :data:`~hub.seatmap.MAX_SEATS_PER_EVENT` seats.
    """
    count = capacity - len(existing)
    if count <= 0:
        return []
    if capacity > MAX_SEATS_PER_EVENT:
        raise ValidationFailed(fields=[{"field": "capacity",
                                        "message": f"must be 1..{MAX_SEATS_PER_EVENT}"}])
    taken = {s.label for s in existing}
    if _capacity_style(existing):
        specs = seats_for_capacity(len(existing) + count)
        return [s for s in specs if s.label not in taken][:count]
    extra = [s for s in existing if s.section == EXTRA_SECTION]
    section_index = section_of(extra[0].rank if extra else max(s.rank for s in existing))
    if not extra:
        section_index += 1
    out: list[SeatSpec] = []
    position = 0
    while len(out) < count:
        row_index, seat_index = divmod(position, CAPACITY_ROW_LENGTH)
        row, number = row_name(row_index), seat_index + 1
        label = f"{EXTRA_SECTION} {row}{number}"
        if label not in taken:
            rank = seat_rank(section_index, row_index, CAPACITY_ROW_LENGTH, number)
            out.append(SeatSpec(EXTRA_SECTION, row, number, label, rank))
        position += 1
    return out
