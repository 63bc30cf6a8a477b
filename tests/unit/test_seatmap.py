import pytest

from hub.errors import ValidationFailed
from hub.seatmap import (
    Section,
    row_name,
    seat_rank,
    seats_for_capacity,
    seats_for_map,
    section_of,
)


def test_row_names_go_past_z_like_spreadsheets() -> None:
    assert [row_name(i) for i in (0, 1, 25, 26, 27, 51, 52)] == [
        "A", "B", "Z", "AA", "AB", "AZ", "BA"]


def test_capacity_gives_rows_of_ten_labelled_a1_to_a10_then_b1() -> None:
    seats = seats_for_capacity(23)
    assert [s.label for s in seats[:11]] == [f"A{i}" for i in range(1, 11)] + ["B1"]
    assert seats[-1].label == "C3"
    assert len(seats) == 23


def test_neighbours_in_a_row_have_consecutive_ranks_and_rows_do_not_touch() -> None:
    seats = seats_for_map([Section("Stalls", 2, 5), Section("Circle", 1, 3)])
    ranks = [s.rank for s in seats]
    assert ranks == sorted(ranks), "ranks order seats best-first"
    a_row = [s.rank for s in seats if s.section == "Stalls" and s.row == "A"]
    assert a_row == list(range(a_row[0], a_row[0] + 5))
    b_first = next(s.rank for s in seats if s.section == "Stalls" and s.row == "B")
    assert b_first != a_row[-1] + 1, "the last seat of a row is not next to the next row"
    assert seats[0].label == "Stalls A1" and seats[-1].label == "Circle A3"


@pytest.mark.parametrize("sections", [
    [],
    [Section("A", 0, 5)],
    [Section("A", 1, 501)],
    [Section("A", 1, 5), Section("A", 1, 5)],
    [Section(" ", 1, 5)],
    [Section("A", 1, 5, rank=0)],
    [Section("A", 1, 5, rank=1001)],
])
def test_bad_seat_maps_are_refused_with_the_fields(sections: list[Section]) -> None:
    with pytest.raises(ValidationFailed) as err:
        seats_for_map(sections)
    assert err.value.details["fields"]


@pytest.mark.parametrize("capacity", [0, -1, 50_001])
def test_capacity_out_of_range(capacity: int) -> None:
    with pytest.raises(ValidationFailed):
        seats_for_capacity(capacity)


def test_a_rank_carries_section_preference_row_row_length_and_number() -> None:
    seats = seats_for_map([Section("Stalls", 2, 50), Section("Circle", 1, 40, rank=1)])
    circle_a7 = next(s for s in seats if s.label == "Circle A7")
    stalls_b3 = next(s for s in seats if s.label == "Stalls B3")
    assert circle_a7.rank == seat_rank(0, 0, 40, 7) == 40_007
    assert stalls_b3.rank == seat_rank(1, 1, 50, 3) == 1_001_050_003
    assert section_of(stalls_b3.rank) == 1 and section_of(circle_a7.rank) == 0
