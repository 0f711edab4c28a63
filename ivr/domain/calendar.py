"""Tier hours and the SLA clock: pure functions of the calendar and a time passed in.

Every tier's hours are local wall-clock times in the support centre's time zone;
each day's open interval is built from those wall times with zoneinfo and all
arithmetic is on real elapsed time, so daylight-saving changes are handled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ivr.domain.records import Tier

SLA_HOURS: Mapping[Tier, int] = {Tier.STANDARD: 24, Tier.PREMIUM: 4, Tier.PREMIUM_PLUS: 2}
WEEKDAYS = frozenset(range(5))  # Monday..Friday
SEARCH_DAYS = 400  # a calendar that never opens in this long is a configuration error


@dataclass(frozen=True, slots=True)
class TierHours:
    """When a tier's phone support is open, in local time."""

    weekdays: frozenset[int]
    opens: dt.time
    closes: dt.time
    always_open: bool = False


TIER_HOURS: Mapping[Tier, TierHours] = {
    Tier.STANDARD: TierHours(WEEKDAYS, dt.time(9), dt.time(17)),
    Tier.PREMIUM: TierHours(WEEKDAYS, dt.time(7), dt.time(19)),
    Tier.PREMIUM_PLUS: TierHours(frozenset(range(7)), dt.time(0), dt.time(0), always_open=True),
}


def _aware(at: dt.datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("times must be timezone-aware")


@dataclass(frozen=True, slots=True)
class SupportCalendar:
    """The support centre's calendar: time zone, closed and extra open dates, SLA setting."""

    tz: ZoneInfo
    closed_dates: frozenset[dt.date] = field(default_factory=frozenset)
    wall_clock_sla: bool = False
    open_dates: frozenset[dt.date] = field(default_factory=frozenset)

    def _interval(self, tier: Tier, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The tier's open interval on a local date, or None when closed all day."""
        hours = TIER_HOURS[tier]
        if hours.always_open:
            start = dt.datetime.combine(day, dt.time(0), tzinfo=self.tz)
            return start, dt.datetime.combine(
                day + dt.timedelta(days=1), dt.time(0), tzinfo=self.tz
            )
        # An extra opening (a Saturday before a release, a holiday worked) wins over
        # the weekday rule and over closures.
        if day not in self.open_dates and (
            day.weekday() not in hours.weekdays or day in self.closed_dates
        ):
            return None
        return (
            dt.datetime.combine(day, hours.opens, tzinfo=self.tz),
            dt.datetime.combine(day, hours.closes, tzinfo=self.tz),
        )

    def hours_on(self, tier: Tier, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The tier's open interval on a local date, or None when it is closed all day."""
        return self._interval(tier, day)

    def is_open(self, tier: Tier, at: dt.datetime) -> bool:
        """Is the tier's phone support open at ``at`` (Premium Plus: always)."""
        _aware(at)
        if TIER_HOURS[tier].always_open:
            return True
        interval = self._interval(tier, at.astimezone(self.tz).date())
        return interval is not None and interval[0] <= at < interval[1]

    def is_staffed(self, at: dt.datetime) -> bool:
        """Are engineers in the queues at ``at``: the centre's longest hours (Premium's).

        Premium Plus support is 24/7, but outside these hours it is given by the
        on-call engineer rather than the queue.
        """
        return self.is_open(Tier.PREMIUM, at)

    def open_periods(
        self, tier: Tier, start: dt.datetime
    ) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """The open intervals from ``start`` on (the first may begin at ``start``), bounded."""
        _aware(start)
        day = start.astimezone(self.tz).date()
        for offset in range(SEARCH_DAYS):
            interval = self._interval(tier, day + dt.timedelta(days=offset))
            if interval is None or interval[1] <= start:
                continue
            yield max(interval[0], start.astimezone(self.tz)), interval[1]

    def next_opening(self, tier: Tier, at: dt.datetime) -> dt.datetime:
        """``at`` when open, else the start of the next open period, in the calendar's zone."""
        for opens, _ in self.open_periods(tier, at):
            return opens
        raise ValueError(f"{tier.value} support does not open within {SEARCH_DAYS} days")

    def sla_due(self, tier: Tier, created: dt.datetime) -> dt.datetime:
        """When the response is due: SLA hours counted on the tier's open hours.

        Premium Plus, and every tier with ``wall_clock_sla``, counts wall-clock hours.
        """
        _aware(created)
        remaining = dt.timedelta(hours=SLA_HOURS[tier])
        if self.wall_clock_sla or TIER_HOURS[tier].always_open:
            return _add_real(created, remaining).astimezone(self.tz)
        for opens, closes in self.open_periods(tier, created):
            length = _real(closes) - _real(opens)
            if remaining <= length:
                return _add_real(opens, remaining).astimezone(self.tz)
            remaining -= length
        raise ValueError(f"{tier.value} support does not open within {SEARCH_DAYS} days")


def _real(at: dt.datetime) -> dt.datetime:
    """UTC, so that subtraction counts real elapsed time across DST changes."""
    return at.astimezone(dt.UTC)


def _add_real(at: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    return _real(at) + delta


def why_closed(
    tier: Tier,
    at: dt.datetime,
    calendar: SupportCalendar,
    holiday: str | None = None,
    closure: str | None = None,
) -> str | None:
    """Why the tier's phone support is closed at ``at`` in words, or None when it is open.

    ``holiday`` names the public holiday of that local date, ``closure`` the reason
    an administrator gave for closing it (``""`` when none was given).
    """
    if calendar.is_open(tier, at):
        return None
    local = at.astimezone(calendar.tz)
    hours = TIER_HOURS[tier]
    span = f"{hours.opens:%H:%M}-{hours.closes:%H:%M}"
    if calendar.hours_on(tier, local.date()) is not None:
        return f"outside {tier.value} hours ({span} {calendar.tz.key})"
    if closure is not None:
        return f"the centre is closed on {local.date().isoformat()}" + (
            f": {closure}" if closure else ""
        )
    if holiday is not None:
        return f"a public holiday: {holiday}"
    return f"{local:%A}: {tier.value} support is open Monday to Friday, {span}"
