"""Admission of a PIN check under load: go ahead, say "one moment", or shed the caller.

PIN checks are CPU-bound (argon2id) and run a few at a time, one per core; a
burst of callers queues them. A caller must never wait in silence longer than
the operator's limit: before it they hear "one moment" once, and a check that
would keep them waiting past twice that moment is not queued at all (the caller
goes to the general queue). The wait is estimated from what is known when the
PIN is entered: the checks already queued or running, the threads that run them
and a moving average of how long one check took lately. Pure rules: the numbers
are passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

# Seconds of silence a caller may be left in while the PIN is checked, unless the
# operator says otherwise (IVR_PIN_QUEUE_MAX_SECONDS).
QUIET_LIMIT_SECONDS = 2.0
# The share of the limit kept in hand for a busy event loop: under a burst the
# loop that plays "one moment" is itself late by a few hundred milliseconds.
HEADROOM_SHARE = 0.25
# How much the latest check counts in the moving average of check times: about
# the last ten checks decide it, so it follows a box that gets busier within a
# fraction of a second of a burst, yet one slow check does not swing it.
SAMPLE_WEIGHT = 0.2


class Admission(StrEnum):
    """What a caller whose PIN was just entered is told while the check runs."""

    PROCEED = "proceed"  # the check is expected within the limit: nothing extra
    ONE_MOMENT = "one-moment"  # expected past the limit: "one moment" at once
    SHED = "shed"  # expected past twice the limit: not queued, the general queue


@dataclass(frozen=True, slots=True)
class QuietTimes:
    """When, counted from the PIN's entry, a caller still waiting hears "one moment",
    and when their check is given up (the general queue)."""

    one_moment_after: float
    give_up_after: float


def quiet_times(limit: float) -> QuietTimes:
    """The prompt a quarter of the limit early (headroom for a late event loop), the
    giving up twice that: no silence before or after the prompt reaches the limit."""
    one_moment = limit * (1 - HEADROOM_SHARE)
    return QuietTimes(one_moment_after=one_moment, give_up_after=2 * one_moment)


def moving_average(previous: float | None, sample: float, weight: float = SAMPLE_WEIGHT) -> float:
    """The exponentially weighted average of check times after one more ``sample``."""
    if previous is None:
        return sample
    return previous + weight * (sample - previous)


def estimated_wait(pending: int, threads: int, average_seconds: float) -> float:
    """Seconds until a check submitted now is done: the rounds of checks ahead of it
    on ``threads`` threads (``pending`` queued or running), then its own."""
    rounds_ahead = math.ceil(max(0, pending - threads + 1) / max(1, threads))
    return (rounds_ahead + 1) * average_seconds


def admission(pending: int, threads: int, average_seconds: float, limit: float) -> Admission:
    """The decision for a check submitted now, given ``limit`` seconds of silence allowed.

    With a thread free the check always goes ahead (only the clock can then move
    the caller on): so a box that is merely slow, or a stale average, never
    sheds callers whose checks nobody is queued ahead of.
    """
    if pending < threads:
        return Admission.PROCEED
    wait = estimated_wait(pending, threads, average_seconds)
    times = quiet_times(limit)
    if wait > times.give_up_after:
        return Admission.SHED
    if wait > times.one_moment_after:
        return Admission.ONE_MOMENT
    return Admission.PROCEED
