"""Admission of PIN checks under load: the estimated wait and the decision, as tables."""

from __future__ import annotations

import pytest

from ivr.domain.admission import (
    Admission,
    admission,
    estimated_wait,
    moving_average,
    quiet_times,
)


@pytest.mark.parametrize(
    ("pending", "threads", "average", "wait"),
    [
        (0, 1, 0.2, 0.2),  # a free thread: only its own check
        (1, 1, 0.2, 0.4),  # one ahead on one thread
        (5, 1, 0.2, 1.2),
        (0, 2, 0.1, 0.1),
        (1, 2, 0.1, 0.1),  # the second thread is free
        (2, 2, 0.1, 0.2),  # both busy: one round ahead
        (3, 2, 0.1, 0.2),  # one queued: it and this one start together after that round
        (4, 2, 0.1, 0.3),
        (100, 2, 0.02, 1.02),
    ],
)
def test_estimated_wait(pending: int, threads: int, average: float, wait: float) -> None:
    """The rounds of checks ahead on the threads, then the check's own time."""
    assert estimated_wait(pending, threads, average) == pytest.approx(wait)


@pytest.mark.parametrize(
    ("pending", "threads", "average", "limit", "decision"),
    [
        (0, 2, 0.02, 2.0, Admission.PROCEED),
        (50, 2, 0.02, 2.0, Admission.PROCEED),  # 0.52 s: under the limit
        (100, 2, 0.02, 2.0, Admission.PROCEED),  # 1.02 s
        (146, 2, 0.02, 2.0, Admission.PROCEED),  # 1.48 s: before "one moment" is due (1.5 s)
        (150, 2, 0.02, 2.0, Admission.ONE_MOMENT),  # 1.52 s
        (296, 2, 0.02, 2.0, Admission.ONE_MOMENT),  # 2.98 s: before giving up (3 s)
        (300, 2, 0.02, 2.0, Admission.SHED),  # 3.02 s
        (1, 1, 0.2, 0.5, Admission.ONE_MOMENT),  # 0.4 s: past 0.375 s
        (2, 1, 0.2, 0.5, Admission.ONE_MOMENT),  # 0.6 s
        (3, 1, 0.2, 0.5, Admission.SHED),  # 0.8 s: past 0.75 s
        # A thread is free: the check goes ahead however slow checks were lately
        # (the clock still moves the caller on), so a stale average sheds nobody.
        (0, 1, 60.0, 0.5, Admission.PROCEED),
        (1, 2, 60.0, 0.5, Admission.PROCEED),
    ],
)
def test_admission(
    pending: int, threads: int, average: float, limit: float, decision: Admission
) -> None:
    """Past the prompt's time: one moment; past twice it: shed; a free thread goes ahead."""
    assert admission(pending, threads, average, limit) is decision


@pytest.mark.parametrize("limit", [0.5, 2.0, 10.0])
def test_quiet_times_keep_every_silence_under_the_limit(limit: float) -> None:
    """The prompt comes before the limit, with headroom; the giving up no later than the
    limit after the prompt; and the giving up is twice the prompt's time."""
    times = quiet_times(limit)
    assert 0 < times.one_moment_after < limit
    assert limit - times.one_moment_after >= 0.2 * limit  # headroom for a late event loop
    assert times.give_up_after - times.one_moment_after < limit
    assert times.give_up_after == pytest.approx(2 * times.one_moment_after)


def test_moving_average() -> None:
    """The first sample is the average; later ones move it by their weight."""
    assert moving_average(None, 0.3) == 0.3
    assert moving_average(0.1, 0.3, weight=0.5) == pytest.approx(0.2)
    average = None
    for _ in range(30):
        average = moving_average(average, 1.0)
    assert average == pytest.approx(1.0)
    for _ in range(30):
        average = moving_average(average, 0.1)
    assert average == pytest.approx(0.1, abs=0.01)  # follows a change within a few dozen
