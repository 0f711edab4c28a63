"""Dated closures and extra openings in Redis, and the calendar built from them.

Holidays come from the ``holidays`` package (country and region are settings);
administrators add closures (a site move, a storm) and extra openings (a holiday
the centre works). Every call builds its calendar in one round trip.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from ivr.config import Settings
from ivr.domain.calendar import SupportCalendar
from ivr.domain.holidays import holidays_between
from ivr.store import keys

# Dates considered around "now": an SLA or the next opening never reaches further.
LOOK_BACK = dt.timedelta(days=7)
LOOK_AHEAD = dt.timedelta(days=400)


@dataclass(frozen=True, slots=True)
class CalendarRules:
    """The calendar settings: zone, holiday region, SLA clock."""

    tz: ZoneInfo
    holiday_country: str
    holiday_subdiv: str
    wall_clock_sla: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> CalendarRules:
        """The rules the configuration names."""
        return cls(
            tz=settings.timezone,
            holiday_country=settings.holiday_country,
            holiday_subdiv=settings.holiday_subdiv,
            wall_clock_sla=settings.sla_wall_clock,
        )


@dataclass(frozen=True, slots=True)
class DayEntry:
    """One dated entry an administrator added."""

    day: dt.date
    kind: str  # "closed" or "open"
    reason: str


class CalendarStore:
    """Reads and writes dated closures and openings; builds the calendar for a moment."""

    def __init__(self, redis: Redis, rules: CalendarRules) -> None:
        self._redis = redis
        self.rules = rules

    async def calendar(self, around: dt.datetime) -> SupportCalendar:
        """The calendar valid around ``around``: holidays + closures, minus openings."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.CALENDAR_CLOSURES)
            pipe.hgetall(keys.CALENDAR_OPENINGS)
            closures, openings = cast(list[dict[str, str]], await pipe.execute())
        return self.build(around, _dates(closures), _dates(openings))

    async def builder(self) -> Callable[[dt.datetime], SupportCalendar]:
        """One read of the closures and openings, then the calendar around any moment
        (built once per local date): for many tickets of many dates at once."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.CALENDAR_CLOSURES)
            pipe.hgetall(keys.CALENDAR_OPENINGS)
            closures, openings = cast(list[dict[str, str]], await pipe.execute())
        closed, opened = _dates(closures), _dates(openings)
        built: dict[dt.date, SupportCalendar] = {}

        def around(at: dt.datetime) -> SupportCalendar:
            day = at.astimezone(self.rules.tz).date()
            if day not in built:
                built[day] = self.build(at, closed, opened)
            return built[day]

        return around

    def build(
        self, around: dt.datetime, closures: frozenset[dt.date], openings: frozenset[dt.date]
    ) -> SupportCalendar:
        """The calendar from known closures and openings."""
        return self.build_from(self.rules, around, closures, openings)

    @staticmethod
    def build_from(
        rules: CalendarRules,
        around: dt.datetime,
        closures: frozenset[dt.date],
        openings: frozenset[dt.date],
    ) -> SupportCalendar:
        """Pure: holidays of the rules' region plus closures, minus openings."""
        local = around.astimezone(rules.tz).date()
        holidays = holidays_between(
            rules.holiday_country, rules.holiday_subdiv, local - LOOK_BACK, local + LOOK_AHEAD
        )
        return SupportCalendar(
            tz=rules.tz,
            closed_dates=frozenset(holidays) | closures,
            wall_clock_sla=rules.wall_clock_sla,
            open_dates=openings,
        )

    async def set_day(self, day: dt.date, kind: str, reason: str) -> None:
        """Mark a date closed or open (replacing any entry of the other kind)."""
        mine, other = (
            (keys.CALENDAR_CLOSURES, keys.CALENDAR_OPENINGS)
            if kind == "closed"
            else (keys.CALENDAR_OPENINGS, keys.CALENDAR_CLOSURES)
        )
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(mine, day.isoformat(), reason)
            pipe.hdel(other, day.isoformat())
            await pipe.execute()

    async def clear_day(self, day: dt.date) -> bool:
        """Remove an administrator's entry for a date; False if there was none."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(keys.CALENDAR_CLOSURES, day.isoformat())
            pipe.hdel(keys.CALENDAR_OPENINGS, day.isoformat())
            removed = cast(list[int], await pipe.execute())
        return sum(removed) > 0

    async def entries(self) -> list[DayEntry]:
        """Every administrator entry, by date."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.CALENDAR_CLOSURES)
            pipe.hgetall(keys.CALENDAR_OPENINGS)
            closures, openings = cast(list[dict[str, str]], await pipe.execute())
        found = [DayEntry(dt.date.fromisoformat(d), "closed", r) for d, r in closures.items()]
        found += [DayEntry(dt.date.fromisoformat(d), "open", r) for d, r in openings.items()]
        return sorted(found, key=lambda e: e.day)


def _dates(raw: dict[str, str]) -> frozenset[dt.date]:
    return frozenset(dt.date.fromisoformat(day) for day in raw)
