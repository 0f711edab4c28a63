"""Background loops stop when asked, even when a library turns the cancel into an error."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from ivr.runtime.tasks import Retry, raise_if_cancelling, retry_forever, stop_task


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


def test_retry_pauses_back_off_from_first_to_most_and_reset_after_a_good_round() -> None:
    """Good rounds pause ``every``; failures in a row double from ``first`` up to ``most``."""
    retry = Retry(every=5.0, first=1.0, most=8.0)
    assert [retry.after(n) for n in range(6)] == [5.0, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_retry_pause_stays_at_most_after_any_number_of_failures() -> None:
    """Days of failures in a row still give ``most``, never an OverflowError."""
    retry = Retry(every=5.0, first=1.0, most=30.0)
    assert [retry.after(n) for n in (1025, 10**6)] == [30.0, 30.0]


async def test_retry_forever_logs_the_outage_once_and_the_recovery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Five failures in a row are one ERROR line, then one INFO line when it works again."""
    outcomes = [RedisConnectionError("down")] * 5 + [None] * 3
    rounds: list[int] = []
    done = asyncio.Event()

    async def round_() -> None:
        rounds.append(1)
        outcome = outcomes.pop(0) if outcomes else None
        if not outcomes:
            done.set()
        if outcome is not None:
            raise outcome

    logger = logging.getLogger("ivr.test.retry")
    with caplog.at_level(logging.INFO, logger="ivr.test.retry"):
        task = asyncio.create_task(
            retry_forever(round_, name="the job", retry=Retry(0.0, 0.001, 0.002), logger=logger)
        )
        await asyncio.wait_for(done.wait(), 5)
        await stop_task(task, timeout=2)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "the job failed (1 in a row)" in errors[0].getMessage()
    assert "down" in errors[0].getMessage()
    assert any(
        "the job works again after 5 failed rounds" in r.getMessage() for r in caplog.records
    )
    assert len(rounds) >= 8  # and it went on after the recovery until stopped


async def test_retry_forever_stops_when_a_library_hides_the_cancel() -> None:
    """A cancel turned into a connection error inside a round still ends the loop."""
    started = asyncio.Event()

    async def round_() -> None:
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise RedisConnectionError("Connection closed by server.") from None

    task = asyncio.create_task(
        retry_forever(round_, name="x", retry=Retry(0.0), logger=logging.getLogger("ivr.t"))
    )
    await started.wait()
    await stop_task(task, timeout=2)
    assert task.cancelled()
