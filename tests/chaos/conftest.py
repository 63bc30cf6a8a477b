"""Chaos cases own their servers; the matrix file starts empty each session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chaos.sale import MATRIX


@pytest.fixture(scope="session", autouse=True)
def chaos_matrix() -> Iterator[None]:
    MATRIX.parent.mkdir(parents=True, exist_ok=True)
    MATRIX.write_text("# case  oversold  lost bookings  seconds to converge\n")
    yield
