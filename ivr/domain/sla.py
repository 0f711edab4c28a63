"""The SLA clock of one ticket: pure functions of the calendar, the ticket's times and now.

A ticket's SLA runs on its tier's open hours (Premium Plus, or every tier with
the wall-clock setting, on real time). The watch raises an alert when a share of
that SLA time has elapsed with the ticket still open, and records a breach at the
due time. The shares are measured on the same clock as the due time, so "80 %"
of a Standard ticket opened Friday 16:00 falls on Tuesday, not on Saturday.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ivr.domain.calendar import TIER_HOURS, SupportCalendar
from ivr.domain.records import Tier

BREACH_SHARE = 1.0


@dataclass(frozen=True, slots=True)
class SlaMark:
    """A point on a ticket's SLA clock: the share of its SLA elapsed, and when that is."""

    share: float
    at: dt.datetime

    @property
    def breach(self) -> bool:
        """The due time itself: past it the SLA is breached."""
        return self.share >= BREACH_SHARE

    @property
    def label(self) -> str:
        """How the mark is named in records and alerts: ``50%``, ``80%``, ``breach``."""
        return "breach" if self.breach else f"{self.share * 100:g}%"


def _wall_clock(calendar: SupportCalendar, tier: Tier) -> bool:
    return calendar.wall_clock_sla or TIER_HOURS[tier].always_open


def _utc(at: dt.datetime) -> dt.datetime:
    """UTC, so that subtraction counts real elapsed time across DST changes."""
    return at.astimezone(dt.UTC)


def open_time_between(
    calendar: SupportCalendar, tier: Tier, start: dt.datetime, end: dt.datetime
) -> dt.timedelta:
    """Time on the tier's SLA clock from ``start`` to ``end`` (zero when ``end`` is earlier)."""
    if end <= start:
        return dt.timedelta(0)
    if _wall_clock(calendar, tier):
        return _utc(end) - _utc(start)
    total = dt.timedelta(0)
    for opens, closes in calendar.open_periods(tier, start):
        if opens >= end:
            break
        total += _utc(min(closes, end)) - _utc(opens)
    return total


def add_open_time(
    calendar: SupportCalendar, tier: Tier, start: dt.datetime, duration: dt.timedelta
) -> dt.datetime:
    """The moment ``duration`` of the tier's SLA clock has run from ``start``."""
    if _wall_clock(calendar, tier):
        return (_utc(start) + duration).astimezone(calendar.tz)
    remaining = duration
    for opens, closes in calendar.open_periods(tier, start):
        length = _utc(closes) - _utc(opens)
        if remaining <= length:
            return (_utc(opens) + remaining).astimezone(calendar.tz)
        remaining -= length
    raise ValueError(f"{tier.value} support does not open in the calendar's range")


def sla_marks(
    calendar: SupportCalendar,
    tier: Tier,
    created: dt.datetime,
    due: dt.datetime,
    shares: tuple[float, ...],
) -> tuple[SlaMark, ...]:
    """The alert marks (each share of the SLA) and the breach mark at ``due``, in order.

    The SLA length is the ticket's own (created to due on the tier's clock), so a
    closure added after the ticket was opened does not move its promised time.
    """
    length = open_time_between(calendar, tier, created, due)
    marks = [
        SlaMark(share, add_open_time(calendar, tier, created, length * share))
        for share in sorted(set(shares))
        if 0 < share < BREACH_SHARE
    ]
    marks.append(SlaMark(BREACH_SHARE, due))
    return tuple(marks)


@dataclass(frozen=True, slots=True)
class MarksDue:
    """What the watch does for a ticket now: marks to raise, marks passed over, next wake."""

    raise_now: SlaMark | None
    passed_over: tuple[SlaMark, ...]
    next_at: dt.datetime | None


def marks_due(marks: tuple[SlaMark, ...], raised: frozenset[str], now: dt.datetime) -> MarksDue:
    """The latest reached mark not yet raised; earlier unraised ones are passed over.

    After an outage the watch may find several marks reached at once: only the
    most severe is alerted (and paged), so nobody is called three times in a row
    for one ticket; the others are recorded as passed over.
    """
    reached = [m for m in marks if m.at <= now and m.label not in raised]
    later = [m for m in marks if m.at > now and m.label not in raised]
    return MarksDue(
        raise_now=reached[-1] if reached else None,
        passed_over=tuple(reached[:-1]),
        next_at=later[0].at if later else None,
    )


def elapsed_share(
    calendar: SupportCalendar, tier: Tier, created: dt.datetime, due: dt.datetime, now: dt.datetime
) -> float:
    """The share of the ticket's SLA elapsed at ``now`` on the tier's clock (past 1: late)."""
    length = open_time_between(calendar, tier, created, due)
    if length <= dt.timedelta(0):
        return BREACH_SHARE if now >= due else 0.0
    return open_time_between(calendar, tier, created, now) / length


def lateness(due: dt.datetime, responded: dt.datetime | None, now: dt.datetime) -> dt.timedelta:
    """How late the response is (or, still open, already is); zero when in time."""
    return max(_utc(responded or now) - _utc(due), dt.timedelta(0))
