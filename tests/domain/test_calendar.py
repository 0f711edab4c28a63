"""Tier hours, next opening and the SLA clock of ``ivr.domain.calendar``, time passed in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest

from ivr.domain.calendar import SLA_HOURS, TIER_HOURS, SupportCalendar
from ivr.domain.records import Tier

TZ = ZoneInfo("America/Chicago")
CAL = SupportCalendar(tz=TZ)
STD, PREM, PLUS = Tier.STANDARD, Tier.PREMIUM, Tier.PREMIUM_PLUS


def june(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """Local Chicago time in June 2026 (1st and 8th are Mondays, 5th Friday, 6th Saturday)."""
    return dt.datetime(2026, 6, day, hour, minute, tzinfo=TZ)


def local(month: int, day: int, hour: int, minute: int = 0, fold: int = 0) -> dt.datetime:
    """Any local Chicago time in 2026 (``fold=1`` for the repeated fall-back hour)."""
    return dt.datetime(2026, month, day, hour, minute, fold=fold, tzinfo=TZ)


def elapsed(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Real time between two instants, whatever their zones or folds."""
    return end.astimezone(dt.UTC) - start.astimezone(dt.UTC)


# Wednesday 3 June 2026 is closed (a site move, say).
CLOSED_DAY = dt.date(2026, 6, 3)
WITH_CLOSURE = SupportCalendar(tz=TZ, closed_dates=frozenset({CLOSED_DAY}))


def test_published_terms() -> None:
    """SLA hours and tier hours are the vendor's published terms."""
    assert SLA_HOURS == {STD: 24, PREM: 4, PLUS: 2}
    weekdays = frozenset(range(5))
    assert (TIER_HOURS[STD].weekdays, TIER_HOURS[STD].opens, TIER_HOURS[STD].closes) == (
        weekdays,
        dt.time(9),
        dt.time(17),
    )
    assert (TIER_HOURS[PREM].weekdays, TIER_HOURS[PREM].opens, TIER_HOURS[PREM].closes) == (
        weekdays,
        dt.time(7),
        dt.time(19),
    )
    assert TIER_HOURS[PLUS].always_open
    assert not TIER_HOURS[STD].always_open
    assert not TIER_HOURS[PREM].always_open


@pytest.mark.parametrize(
    ("tier", "when", "is_open"),
    [
        (STD, june(1, 8, 59), False),
        (STD, june(1, 9, 0), True),
        (STD, june(1, 16, 59), True),
        (STD, june(1, 17, 0), False),
        (STD, june(5, 12), True),  # Friday
        (STD, june(6, 12), False),  # Saturday
        (STD, june(7, 12), False),  # Sunday
        (PREM, june(1, 6, 59), False),
        (PREM, june(1, 7, 0), True),
        (PREM, june(1, 8, 59), True),
        (PREM, june(1, 9, 0), True),
        (PREM, june(1, 16, 59), True),
        (PREM, june(1, 17, 0), True),
        (PREM, june(1, 18, 59), True),
        (PREM, june(1, 19, 0), False),
        (PREM, june(6, 12), False),  # Saturday
        (PREM, june(7, 12), False),  # Sunday
        (PLUS, june(1, 8, 59), True),
        (PLUS, june(1, 9, 0), True),
        (PLUS, june(1, 16, 59), True),
        (PLUS, june(1, 17, 0), True),
        (PLUS, june(1, 23, 59), True),
        (PLUS, june(6, 3), True),  # Saturday night
        (PLUS, june(7, 0, 0), True),  # Sunday midnight
    ],
)
def test_is_open_at_boundaries(tier: Tier, when: dt.datetime, is_open: bool) -> None:
    """Opening time is inside the hours, closing time outside; weekends close all but Plus."""
    assert CAL.is_open(tier, when) is is_open


@pytest.mark.parametrize(
    ("tier", "when", "is_open"),
    [
        (STD, local(6, 3, 9), False),
        (STD, local(6, 3, 12), False),
        (STD, local(6, 4, 9), True),  # the day after reopens
        (PREM, local(6, 3, 7), False),
        (PREM, local(6, 3, 18), False),
        (PLUS, local(6, 3, 3), True),  # 24/7 means 24/7
        (PLUS, local(6, 3, 12), True),
    ],
)
def test_closed_date(tier: Tier, when: dt.datetime, is_open: bool) -> None:
    """A closed date shuts Standard and Premium all day; Premium Plus stays open."""
    assert WITH_CLOSURE.is_open(tier, when) is is_open


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        (dt.datetime(2026, 6, 1, 13, 59, tzinfo=dt.UTC), False),  # 08:59 CDT
        (dt.datetime(2026, 6, 1, 14, 0, tzinfo=dt.UTC), True),  # 09:00 CDT
        (dt.datetime(2026, 6, 1, 21, 59, tzinfo=dt.UTC), True),  # 16:59 CDT
        (dt.datetime(2026, 6, 1, 22, 0, tzinfo=dt.UTC), False),  # 17:00 CDT
        (dt.datetime(2026, 6, 6, 2, 0, tzinfo=dt.UTC), False),  # Friday 21:00 CDT, Saturday UTC
    ],
)
def test_is_open_judged_in_local_time(when: dt.datetime, is_open: bool) -> None:
    """A time in another zone is converted to the centre's zone before judging."""
    assert CAL.is_open(STD, when) is is_open


@pytest.mark.parametrize(
    ("cal", "tier", "when", "expected"),
    [
        (CAL, STD, june(1, 10), june(1, 10)),  # open now: now
        (CAL, STD, june(1, 9), june(1, 9)),
        (CAL, STD, june(1, 8, 59), june(1, 9)),
        (CAL, STD, june(1, 17), june(2, 9)),
        (CAL, STD, june(5, 17), june(8, 9)),  # Friday evening -> Monday
        (CAL, STD, june(5, 23, 59), june(8, 9)),
        (CAL, STD, june(6, 12), june(8, 9)),  # Saturday
        (CAL, STD, june(7, 23), june(8, 9)),  # Sunday night
        (CAL, PREM, june(1, 6), june(1, 7)),
        (CAL, PREM, june(1, 18, 59), june(1, 18, 59)),
        (CAL, PREM, june(5, 19), june(8, 7)),  # Friday evening -> Monday
        (CAL, PLUS, june(6, 3), june(6, 3)),  # Saturday night: open
        (WITH_CLOSURE, STD, june(2, 17), june(4, 9)),  # skips the closed Wednesday
        (WITH_CLOSURE, PREM, june(3, 10), june(4, 7)),
        (WITH_CLOSURE, PLUS, june(3, 10), june(3, 10)),
        (CAL, STD, dt.datetime(2026, 6, 6, 2, 0, tzinfo=dt.UTC), june(8, 9)),
    ],
)
def test_next_opening(
    cal: SupportCalendar, tier: Tier, when: dt.datetime, expected: dt.datetime
) -> None:
    """The next opening is ``at`` when open, else the start of the next open period, in tz."""
    opening = cal.next_opening(tier, when)
    assert opening == expected
    assert opening.tzinfo is TZ


def test_next_opening_converts_open_time_to_local_zone() -> None:
    """When open now the answer is the same instant, expressed in the centre's zone."""
    now = dt.datetime(2026, 6, 1, 15, 0, tzinfo=dt.UTC)
    opening = CAL.next_opening(STD, now)
    assert opening == now
    assert (opening.tzinfo, opening.hour) == (TZ, 10)


def test_never_open_calendar_raises() -> None:
    """A Standard calendar closed on every date raises instead of searching forever."""
    start = dt.date(2026, 6, 1)
    every_day = frozenset(start + dt.timedelta(days=i) for i in range(800))
    never = SupportCalendar(tz=TZ, closed_dates=every_day)
    with pytest.raises(ValueError, match="does not open"):
        never.next_opening(STD, june(1, 10))
    with pytest.raises(ValueError, match="does not open"):
        never.sla_due(STD, june(1, 10))
    assert never.next_opening(PLUS, june(1, 10)) == june(1, 10)


def test_open_periods_from_friday_afternoon() -> None:
    """Open periods start at ``start`` when open, then whole working days."""
    periods = CAL.open_periods(STD, june(5, 16))
    assert [next(periods) for _ in range(3)] == [
        (june(5, 16), june(5, 17)),
        (june(8, 9), june(8, 17)),
        (june(9, 9), june(9, 17)),
    ]


@pytest.mark.parametrize(
    ("cal", "tier", "created", "due"),
    [
        # DESIGN.md: Standard Friday 16:00 -> 1 h Fri + 8 Mon + 8 Tue + 7 Wed.
        (CAL, STD, june(5, 16), june(10, 16)),
        # DESIGN.md: Premium Friday 18:00 -> 1 h Fri + 3 Mon.
        (CAL, PREM, june(5, 18), june(8, 10)),
        # Opened outside hours: the clock starts at the next opening.
        (CAL, STD, june(6, 12), june(10, 17)),  # Saturday -> Mon 8 + Tue 8 + Wed 8
        (CAL, STD, june(1, 7), june(3, 17)),  # before opening on a Monday
        (CAL, STD, june(1, 18), june(4, 17)),  # after closing on a Monday
        (CAL, PREM, june(7, 12), june(8, 11)),  # Sunday
        (CAL, PREM, june(1, 20), june(2, 11)),
        # Inside hours, landing exactly on closing time.
        (CAL, STD, june(1, 9), june(3, 17)),
        (CAL, PREM, june(1, 15), june(1, 19)),
        # Premium Plus counts wall-clock hours, weekends included.
        (CAL, PLUS, june(5, 23), june(6, 1)),
        (CAL, PLUS, june(6, 12), june(6, 14)),
        # Closures stop the clock; Premium Plus ignores them.
        (WITH_CLOSURE, STD, june(1, 16), june(5, 16)),  # Mon 1 + Tue 8 + Thu 8 + Fri 7
        (WITH_CLOSURE, PREM, june(2, 17), june(4, 9)),  # Tue 2 + Thu 2
        (WITH_CLOSURE, STD, june(3, 10), june(8, 17)),  # created on the closed date
        (WITH_CLOSURE, PLUS, june(3, 10), june(3, 12)),
    ],
)
def test_sla_due(cal: SupportCalendar, tier: Tier, created: dt.datetime, due: dt.datetime) -> None:
    """The SLA clock counts only the tier's open hours; Premium Plus counts wall-clock hours."""
    result = cal.sla_due(tier, created)
    assert result == due
    assert result.tzinfo is TZ


@pytest.mark.parametrize(
    ("tier", "created", "due"),
    [
        (STD, june(5, 16), june(6, 16)),
        (PREM, june(5, 18), june(5, 22)),
        (PLUS, june(5, 18), june(5, 20)),
        (STD, june(3, 10), june(4, 10)),  # closures no longer matter either
    ],
)
def test_wall_clock_sla_setting(tier: Tier, created: dt.datetime, due: dt.datetime) -> None:
    """With ``wall_clock_sla`` every tier counts plain hours from creation."""
    cal = SupportCalendar(tz=TZ, closed_dates=frozenset({CLOSED_DAY}), wall_clock_sla=True)
    assert cal.sla_due(tier, created) == due


@pytest.mark.parametrize(
    ("created", "wall", "zone_name"),
    [
        # Spring forward: 02:00-03:00 does not exist, so 2 real hours read 03:30.
        (local(3, 8, 0, 30), (3, 30, 0), "CDT"),
        # Fall back: 01:00-02:00 happens twice; 2 real hours is the second 01:30.
        (local(11, 1, 0, 30), (1, 30, 1), "CST"),
    ],
)
def test_premium_plus_sla_across_dst(
    created: dt.datetime, wall: tuple[int, int, int], zone_name: str
) -> None:
    """Premium Plus's 2 hours are 2 real hours across a daylight-saving change."""
    due = CAL.sla_due(PLUS, created)
    assert elapsed(created, due) == dt.timedelta(hours=2)
    assert ((due.hour, due.minute, due.fold), due.tzname()) == (wall, zone_name)


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        # Monday after spring forward: 09:00 CDT is 14:00 UTC.
        (dt.datetime(2026, 3, 9, 13, 59, tzinfo=dt.UTC), False),
        (dt.datetime(2026, 3, 9, 14, 0, tzinfo=dt.UTC), True),
        (dt.datetime(2026, 3, 9, 21, 59, tzinfo=dt.UTC), True),
        (dt.datetime(2026, 3, 9, 22, 0, tzinfo=dt.UTC), False),
        # Monday after fall back: 09:00 CST is 15:00 UTC.
        (dt.datetime(2026, 11, 2, 14, 59, tzinfo=dt.UTC), False),
        (dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC), True),
        (dt.datetime(2026, 11, 2, 22, 59, tzinfo=dt.UTC), True),
        (dt.datetime(2026, 11, 2, 23, 0, tzinfo=dt.UTC), False),
    ],
)
def test_standard_hours_stay_local_across_dst(when: dt.datetime, is_open: bool) -> None:
    """Standard still opens 09:00 and closes 17:00 local once the offset has changed."""
    assert CAL.is_open(STD, when) is is_open


@pytest.mark.parametrize(
    ("created", "due"),
    [
        # Each open day is 8 real hours whichever offset applies.
        (local(3, 6, 16), local(3, 11, 16)),
        (local(10, 30, 16), local(11, 4, 16)),
    ],
)
def test_standard_sla_across_dst_weekend(created: dt.datetime, due: dt.datetime) -> None:
    """A weekend with a DST change adds no hours to a Standard SLA."""
    assert CAL.sla_due(STD, created) == due


@pytest.mark.parametrize("day", [dt.date(2026, 3, 8), dt.date(2026, 11, 1)])
def test_standard_hours_on_dst_change_day(day: dt.date) -> None:
    """On a DST-change day opened for Standard, hours are 09:00-17:00 local, 8 real hours."""
    cal = SupportCalendar(tz=TZ, open_dates=frozenset({day}))
    opens = dt.datetime.combine(day, dt.time(9), tzinfo=TZ)
    closes = dt.datetime.combine(day, dt.time(17), tzinfo=TZ)
    assert cal.next_opening(STD, dt.datetime.combine(day, dt.time(0, 30), tzinfo=TZ)) == opens
    assert next(cal.open_periods(STD, opens)) == (opens, closes)
    assert elapsed(opens, closes) == dt.timedelta(hours=8)
    assert not cal.is_open(STD, closes)


Call = Callable[[SupportCalendar, dt.datetime], object]


@pytest.mark.parametrize(
    "call",
    [
        lambda cal, at: cal.is_open(STD, at),
        lambda cal, at: cal.is_open(PLUS, at),
        lambda cal, at: cal.next_opening(STD, at),
        lambda cal, at: cal.sla_due(STD, at),
        lambda cal, at: cal.sla_due(PLUS, at),
        lambda cal, at: next(cal.open_periods(STD, at)),
    ],
    ids=["is_open", "is_open_plus", "next_opening", "sla_due", "sla_due_plus", "open_periods"],
)
def test_naive_datetime_rejected(call: Call) -> None:
    """A time without a zone is refused with ValueError."""
    with pytest.raises(ValueError, match="timezone-aware"):
        call(CAL, dt.datetime(2026, 6, 1, 10, 0))  # noqa: DTZ001
