"""Seat generation: turn ``capacity`` or a ``seat_map`` into seat specs with labels and ranks.

Rules (CONTRACT §2 ``POST /admin/events``): ``capacity`` alone gives rows of 10 seats labelled
``A1..A10, B1..``; a ``seat_map`` is ``{sections: [{name, rows, seats_per_row}]}``, sections in
order of preference (the first is the best), labels ``"<section> <row><number>"``.

A seat's ``rank`` is ``section_index * 1_000_000 + row_index * 1_000 + number``: lower is better
and the seats side by side in a row have consecutive ranks, which is what the Lua ``qty`` picker
relies on to find adjacent seats.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.errors import ValidationFailed

__all__ = [
    "MAX_ROWS_PER_SECTION",
    "MAX_SEATS_PER_EVENT",
    "MAX_SEATS_PER_ROW",
    "SeatSpec",
    "Section",
    "row_name",
    "seats_for_capacity",
    "seats_for_map",
]

MAX_SEATS_PER_ROW = 500
MAX_ROWS_PER_SECTION = 500
MAX_SEATS_PER_EVENT = 50_000
CAPACITY_ROW_LENGTH = 10


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    rows: int
    seats_per_row: int


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


def _rank(section_index: int, row_index: int, number: int) -> int:
    return section_index * 1_000_000 + row_index * 1_000 + number


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
        specs.append(SeatSpec(section, row, number, f"{row}{number}", _rank(0, row_index, number)))
    return specs


def seats_for_map(sections: list[Section], *, first_section_index: int = 0) -> list[SeatSpec]:
    """Seats of every section, row by row. Labels are ``"<section> <row><number>"``.

    Raises:
        ValidationFailed: empty map, duplicate section names, or sizes out of range.
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
    total = sum(s.rows * s.seats_per_row for s in sections)
    if not problems and total > MAX_SEATS_PER_EVENT:
        problems.append({"field": "seat_map", "message": f"at most {MAX_SEATS_PER_EVENT} seats"})
    if problems:
        raise ValidationFailed(fields=problems)
    specs = []
    for offset, s in enumerate(sections):
        si = first_section_index + offset
        for r in range(s.rows):
            row = row_name(r)
            for n in range(1, s.seats_per_row + 1):
                specs.append(SeatSpec(s.name, row, n, f"{s.name} {row}{n}", _rank(si, r, n)))
    return specs
