"""How background loops stop: a cancel swallowed inside a library call (as redis-py does now
and then) is followed by another one, so a normal stop ends at once and logs nothing; a task
that never ends is given up at the bound with a WARNING."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from web.background import RECANCEL_SECONDS, stop_task


async def _swallows_cancels(times: int, ticks: list[int]) -> None:
    """A loop whose awaited call eats the first ``times`` cancels, like a library that
    catches CancelledError around a socket read and carries on."""
    swallowed = 0
    while True:
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            if swallowed >= times:
                raise
            swallowed += 1
        ticks.append(1)


async def _ignores_cancels_until(release: asyncio.Event) -> None:
    """A loop that eats every cancel until ``release`` is set."""
    while not release.is_set():
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            pass


def test_a_swallowed_cancel_is_repeated_and_the_stop_is_quiet(
        caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> tuple[bool, float, asyncio.Task[None]]:
        ticks: list[int] = []
        task = asyncio.create_task(_swallows_cancels(2, ticks), name="evently-sweeper")
        await asyncio.sleep(0.12)
        start = time.monotonic()
        ended = await stop_task(task, 3)
        return ended, time.monotonic() - start, task

    with caplog.at_level(logging.DEBUG, logger="web.background"):
        ended, took, task = asyncio.run(main())
    assert ended and task.cancelled()
    assert took < 4 * RECANCEL_SECONDS  # two swallowed cancels: about 0.2 s, never the bound
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_task_that_never_ends_is_given_up_at_the_bound_with_a_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> tuple[bool, float]:
        release = asyncio.Event()
        task = asyncio.create_task(_ignores_cancels_until(release), name="stubborn")
        await asyncio.sleep(0)
        start = time.monotonic()
        ended = await stop_task(task, 0.4)
        took = time.monotonic() - start
        release.set()
        await task
        return ended, took

    with caplog.at_level(logging.WARNING, logger="web.background"):
        ended, took = asyncio.run(main())
    assert not ended
    assert 0.4 <= took < 1.0
    assert [r.getMessage() for r in caplog.records] == [
        "shutdown: task stubborn did not stop within 0.4 s"]
