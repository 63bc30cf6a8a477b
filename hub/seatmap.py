"""Seat generation: turn ``capacity`` or a ``seat_map`` into seat specs with labels and ranks.

Rules (CONTRACT §2 ``POST /admin/events``): ``capacity`` alone gives rows of 10 seats labelled
``A1..A10, B1..``; a ``seat_map`` is ``{sections: [{name, rows, seats_per_row}]}``, sections in
order of preference (the first is the best) unless a section carries an explicit ``rank``
(1 = best; ranked sections come first, lowest rank first, then the unranked ones; ties keep
the given order),
labels ``"<section> <row><number>"``.

A seat's ``rank`` (:func:`seat_rank`) packs four fields, best first:
``preference * 10**9 + row_index * 10**6 + row_length * 10**3 + number``. Lower is better; all
seats of one row share ``rank // 10**6`` and side-by-side seats have consecutive ranks, and the
row's length travels in every rank so the Lua ``qty`` picker (``storage/lua/_lib.lua``
``pick_best``) can find the run nearest the row's centre from the sorted set alone, without
reading the rest of the venue.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.errors import ValidationFailed

__all__ = [
    "MAX_ROWS_PER_SECTION",
    "MAX_SEATS_PER_EVENT",
    "MAX_SEATS_PER_ROW",
    "MAX_SECTION_RANK",
    "SeatSpec",
    "Section",
    "row_name",
    "seat_rank",
    "seats_for_capacity",
    "seats_for_map",
    "section_of",
]

MAX_SEATS_PER_ROW = 500
MAX_ROWS_PER_SECTION = 500
MAX_SEATS_PER_EVENT = 50_000
CAPACITY_ROW_LENGTH = 10
MAX_SECTION_RANK = 1000
SECTION_STEP = 10**9  # one preference level; rows step by 10**6, row lengths by 10**3


@dataclass(frozen=True, slots=True)
class Section:
    """One block of a seat map; ``rank`` (1 = best) overrides its place in the list."""

    name: str
    rows: int
    seats_per_row: int
    rank: int | None = None


@dataclass(frozen=True, slots=True)
class SeatSpec:
    section: str
    row: str
    number: int
    label: str
    rank: int


def row_name(index: int) -> str:
    """0 → "A", 25 → "Z", 26 → "AA", 27 → "AB" (spreadsheet-style row letters)."""
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(ord("A") + rem) + name
    return name


def seat_rank(preference: int, row_index: int, row_length: int, number: int) -> int:
    """The packed rank of a seat (see the module docstring); lower is better.

    Args:
        preference: 0-based place of the section in best-first order.
        row_index: 0-based row, 0 nearest the stage (at most 999).
        row_length: seats in the row (1..999); the picker aims at its centre.
        number: 1-based seat number in the row (at most 999).
    """
    return preference * SECTION_STEP + row_index * 10**6 + row_length * 10**3 + number


def section_of(rank: int) -> int:
    """The 0-based section preference a packed rank carries."""
    return rank // SECTION_STEP


def _preference_order(sections: list[Section]) -> list[int]:
    """Section positions → 0-based preference: ranked sections by ``rank``, then the unranked
    ones; ties keep the list order."""
    unranked = MAX_SECTION_RANK + 1
    keyed = sorted(range(len(sections)), key=lambda i: (sections[i].rank or unranked, i))
    order = [0] * len(sections)
    for preference, position in enumerate(keyed):
        order[position] = preference
    return order


def seats_for_capacity(capacity: int, *, start: int = 0,
                       section: str = "General") -> list[SeatSpec]:
    """Seats ``start+1 .. capacity`` in rows of 10: ``A1..A10, B1..`` (labels carry no section).

    ``start`` lets a capacity increase append seats after the existing ones.

    Raises:
        ValidationFailed: capacity below 1 or above :data:`MAX_SEATS_PER_EVENT`.
    """
    if not 1 <= capacity <= MAX_SEATS_PER_EVENT:
        raise ValidationFailed(
            fields=[{"field": "capacity", "message": f"must be 1..{MAX_SEATS_PER_EVENT}"}]
        )
    specs = []
    for i in range(start, capacity):
        row_index, seat_index = divmod(i, CAPACITY_ROW_LENGTH)
        row = row_name(row_index)
        number = seat_index + 1
        specs.append(SeatSpec(section, row, number, f"{row}{number}",
                              seat_rank(0, row_index, CAPACITY_ROW_LENGTH, number)))
    return specs


def seats_for_map(sections: list[Section], *, first_section_index: int = 0) -> list[SeatSpec]:
    """Seats of every section, row by row. Labels are ``"<section> <row><number>"``.

    ``first_section_index`` shifts every preference (sections added after existing ones).

    Raises:
        ValidationFailed: empty map, duplicate section names, sizes out of range, or a
            ``rank`` outside 1..:data:`MAX_SECTION_RANK`.
    """
    problems = []
    if not sections:
        problems.append({"field": "seat_map.sections", "message": "at least one section"})
    names = [s.name for s in sections]
    if len(set(names)) != len(names):
        problems.append({"field": "seat_map.sections", "message": "section names must differ"})
    for i, s in enumerate(sections):
        if not s.name.strip():
            problems.append({"field": f"seat_map.sections[{i}].name", "message": "required"})
        if not 1 <= s.rows <= MAX_ROWS_PER_SECTION:
            problems.append({"field": f"seat_map.sections[{i}].rows",
                             "message": f"must be 1..{MAX_ROWS_PER_SECTION}"})
        if not 1 <= s.seats_per_row <= MAX_SEATS_PER_ROW:
            problems.append({"field": f"seat_map.sections[{i}].seats_per_row",
                             "message": f"must be 1..{MAX_SEATS_PER_ROW}"})
        if s.rank is not None and not 1 <= s.rank <= MAX_SECTION_RANK:
            problems.append({"field": f"seat_map.sections[{i}].rank",
                             "message": f"must be 1..{MAX_SECTION_RANK}"})
    total = sum(s.rows * s.seats_per_row for s in sections)
    if not problems and total > MAX_SEATS_PER_EVENT:
        problems.append({"field": "seat_map", "message": f"at most {MAX_SEATS_PER_EVENT} seats"})
    if problems:
        raise ValidationFailed(fields=problems)
    specs = []
    preference = _preference_order(sections)
    for offset, s in enumerate(sections):
        si = first_section_index + preference[offset]
        for r in range(s.rows):
            row = row_name(r)
            for n in range(1, s.seats_per_row + 1):
                specs.append(SeatSpec(s.name, row, n, f"{s.name} {row}{n}",
                                      seat_rank(si, r, s.seats_per_row, n)))
    return specs
