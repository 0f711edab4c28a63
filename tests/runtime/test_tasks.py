"""Background loops stop when asked, even when a library turns the cancel into an error."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from ivr.runtime.tasks import raise_if_cancelling, stop_task


async def _retrying_loop(use_guard: bool, rounds: list[int]) -> None:
    """A loop shaped like every retrying loop of the service (ends after 100 rounds)."""
    while len(rounds) < 100:
        try:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                # What redis-py does to a cancel inside a network wait.
                raise RedisConnectionError("Connection closed by server.") from None
        except RedisConnectionError:
            if use_guard:
                raise_if_cancelling()
            rounds.append(1)
        await asyncio.sleep(0.01)


async def test_a_cancel_hidden_as_a_connection_error_still_stops_the_loop() -> None:
    """With the guard the loop ends at once; without it the cancel would be lost."""
    rounds: list[int] = []
    task = asyncio.create_task(_retrying_loop(True, rounds))
    await asyncio.sleep(0.05)
    await stop_task(task, timeout=2)
    assert task.cancelled()
    assert rounds == []


async def test_stop_task_gives_up_after_its_bound_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A loop without the guard swallows the cancel: the stop returns anyway, with an ERROR."""
    rounds: list[int] = []
    task = asyncio.create_task(_retrying_loop(False, rounds), name="stubborn")
    await asyncio.sleep(0.05)
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="ivr"):
        await stop_task(task, timeout=0.3)
    assert time.monotonic() - started < 2
    assert "stubborn did not stop" in caplog.text
    assert rounds  # it went on: exactly the hang the guard prevents
    while not task.done():  # the test's own clean-up: cancel until the loop runs out
        task.cancel()
        await asyncio.sleep(0.01)
