"""SLA marks on the tier's clock: ``ivr.domain.sla``, pure, time passed in."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ivr.domain.calendar import SupportCalendar
from ivr.domain.records import Tier
from ivr.domain.sla import (
    SlaMark,
    add_open_time,
    elapsed_share,
    lateness,
    marks_due,
    open_time_between,
    sla_marks,
)

TZ = ZoneInfo("America/Chicago")
CAL = SupportCalendar(tz=TZ)
STD, PREM, PLUS = Tier.STANDARD, Tier.PREMIUM, Tier.PREMIUM_PLUS


def june(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """Local Chicago time in June 2026 (5th is a Friday, 8th a Monday)."""
    return dt.datetime(2026, 6, day, hour, minute, tzinfo=TZ)


def labels(marks: tuple[SlaMark, ...]) -> list[tuple[str, dt.datetime]]:
    """Marks as (label, time) pairs for comparison."""
    return [(m.label, m.at) for m in marks]


def test_standard_marks_fall_on_open_hours() -> None:
    """Friday 16:00 Standard: 50% on Tuesday 12:00, 80% Wednesday 11:12, due Wednesday 16:00."""
    created = june(5, 16)
    due = CAL.sla_due(STD, created)
    assert due == june(10, 16)
    assert labels(sla_marks(CAL, STD, created, due, (0.8, 0.5))) == [
        ("50%", june(9, 12)),
        ("80%", june(10, 11, 12)),
        ("breach", june(10, 16)),
    ]


def test_premium_marks_skip_the_weekend() -> None:
    """Friday 18:00 Premium (due Monday 10:00): 50% is Monday 8:00, not Friday 20:00."""
    created = june(5, 18)
    due = CAL.sla_due(PREM, created)
    assert labels(sla_marks(CAL, PREM, created, due, (0.5,))) == [
        ("50%", june(8, 8)),
        ("breach", june(8, 10)),
    ]


def test_premium_plus_counts_wall_clock() -> None:
    """Premium Plus at 22:00 Saturday: 50% at 23:00, due at midnight."""
    created = june(6, 22)
    due = CAL.sla_due(PLUS, created)
    marks = sla_marks(CAL, PLUS, created, due, (0.5,))
    assert labels(marks) == [("50%", june(6, 23)), ("breach", june(7, 0))]


def test_wall_clock_setting_applies_to_every_tier() -> None:
    """With the wall-clock setting a Standard ticket's 50% is 12 real hours on."""
    cal = SupportCalendar(tz=TZ, wall_clock_sla=True)
    created = june(5, 16)
    due = cal.sla_due(STD, created)
    assert labels(sla_marks(cal, STD, created, due, (0.5,)))[0] == ("50%", june(6, 4))


def test_premium_plus_across_the_fall_back_change() -> None:
    """Wall-clock marks count real time: 00:30 CDT + 1 h is 01:30 CDT, + 2 h is 01:30 CST."""
    created = dt.datetime(2026, 11, 1, 0, 30, tzinfo=TZ)
    due = CAL.sla_due(PLUS, created)
    half, breach = sla_marks(CAL, PLUS, created, due, (0.5,))
    assert half.at.utcoffset() == dt.timedelta(hours=-5)
    assert breach.at.utcoffset() == dt.timedelta(hours=-6)
    assert breach.at.astimezone(dt.UTC) - half.at.astimezone(dt.UTC) == dt.timedelta(hours=1)


def test_closure_stops_the_clock() -> None:
    """A closed Monday moves the Standard 50% mark to Tuesday."""
    cal = SupportCalendar(tz=TZ, closed_dates=frozenset({dt.date(2026, 6, 8)}))
    created = june(5, 16)
    due = cal.sla_due(STD, created)
    assert labels(sla_marks(cal, STD, created, due, (0.5,)))[0] == ("50%", june(10, 12))


def test_open_time_and_add_are_inverse() -> None:
    """Open time from Friday 16:00 to Tuesday 12:00 is 12 h; adding 12 h gets back there."""
    assert open_time_between(CAL, STD, june(5, 16), june(9, 12)) == dt.timedelta(hours=12)
    assert add_open_time(CAL, STD, june(5, 16), dt.timedelta(hours=12)) == june(9, 12)
    assert open_time_between(CAL, STD, june(9, 12), june(5, 16)) == dt.timedelta(0)


@pytest.mark.parametrize(
    ("now", "raised", "raise_now", "passed", "next_at"),
    [
        (june(9, 11), frozenset(), None, [], june(9, 12)),
        (june(9, 12), frozenset(), "50%", [], june(10, 11, 12)),
        (june(9, 13), frozenset({"50%"}), None, [], june(10, 11, 12)),
        (june(10, 17), frozenset(), "breach", ["50%", "80%"], None),
        (june(10, 17), frozenset({"50%", "80%", "breach"}), None, [], None),
    ],
)
def test_marks_due(
    now: dt.datetime,
    raised: frozenset[str],
    raise_now: str | None,
    passed: list[str],
    next_at: dt.datetime | None,
) -> None:
    """The latest reached mark is raised, earlier unraised ones passed over, next wake given."""
    marks = sla_marks(CAL, STD, june(5, 16), june(10, 16), (0.5, 0.8))
    plan = marks_due(marks, raised, now)
    assert (plan.raise_now.label if plan.raise_now else None) == raise_now
    assert [m.label for m in plan.passed_over] == passed
    assert plan.next_at == next_at


def test_elapsed_share_stands_still_while_closed() -> None:
    """The share elapsed does not move over the weekend on a business-hours clock."""
    created, due = june(5, 16), june(10, 16)
    friday_close = elapsed_share(CAL, STD, created, due, june(5, 17))
    assert friday_close == pytest.approx(1 / 24)
    assert elapsed_share(CAL, STD, created, due, june(7, 12)) == friday_close
    assert elapsed_share(CAL, STD, created, due, june(10, 16)) == 1.0


def test_lateness() -> None:
    """Late by the response time past due (or now, still open); never negative."""
    due = june(10, 16)
    assert lateness(due, june(10, 17), june(11, 9)) == dt.timedelta(hours=1)
    assert lateness(due, None, june(10, 16, 30)) == dt.timedelta(minutes=30)
    assert lateness(due, june(10, 9), june(11, 9)) == dt.timedelta(0)
