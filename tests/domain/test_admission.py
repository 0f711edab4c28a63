"""Admission of PIN checks under load: the estimated wait and the decision, as tables."""

from __future__ import annotations

import pytest

from ivr.domain.admission import Admission, admission, estimated_wait, moving_average


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
        (198, 2, 0.02, 2.0, Admission.PROCEED),  # exactly 2 s: not past it
        (200, 2, 0.02, 2.0, Admission.ONE_MOMENT),  # 2.02 s
        (398, 2, 0.02, 2.0, Admission.ONE_MOMENT),  # exactly 4 s
        (400, 2, 0.02, 2.0, Admission.SHED),  # 4.02 s: past twice the limit
        (5, 1, 0.2, 0.5, Admission.SHED),  # 1.2 s: past 2 x 0.5
        (3, 1, 0.2, 0.5, Admission.ONE_MOMENT),  # 0.8 s
        (2, 1, 0.2, 0.5, Admission.ONE_MOMENT),  # 0.6 s
        (1, 1, 0.2, 0.5, Admission.PROCEED),  # 0.4 s
        # A thread is free: the check goes ahead however slow checks were lately
        # (the clock still moves the caller on), so a stale average sheds nobody.
        (0, 1, 60.0, 0.5, Admission.PROCEED),
        (1, 2, 60.0, 0.5, Admission.PROCEED),
    ],
)
def test_admission(
    pending: int, threads: int, average: float, limit: float, decision: Admission
) -> None:
    """Past the limit: one moment; past twice it: shed; a free thread always goes ahead."""
    assert admission(pending, threads, average, limit) is decision


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
