"""Tier hours, the SLA clock and routing: pure functions with the time passed in."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ivr.config import Queues
from ivr.domain.calendar import SupportCalendar
from ivr.domain.records import Route, Tier
from ivr.domain.routing import queue_priority, route_call
from ivr.store.calendar import CalendarRules, CalendarStore

TZ = ZoneInfo("America/Chicago")
CAL = SupportCalendar(tz=TZ)


def at(day: int, hour: int, minute: int = 0, month: int = 11, year: int = 2026) -> dt.datetime:
    """A local Chicago time (2026-11-23 is a Monday)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


@pytest.mark.parametrize(
    ("tier", "when", "is_open"),
    [
        (Tier.STANDARD, at(23, 8, 59), False),
        (Tier.STANDARD, at(23, 9, 0), True),
        (Tier.STANDARD, at(23, 16, 59), True),
        (Tier.STANDARD, at(23, 17, 0), False),
        (Tier.STANDARD, at(28, 12), False),  # Saturday
        (Tier.PREMIUM, at(23, 6, 59), False),
        (Tier.PREMIUM, at(23, 7, 0), True),
        (Tier.PREMIUM, at(27, 18, 59), True),  # Friday
        (Tier.PREMIUM, at(27, 19, 0), False),
        (Tier.PREMIUM, at(29, 12), False),  # Sunday
        (Tier.PREMIUM_PLUS, at(29, 3), True),
        (Tier.PREMIUM_PLUS, at(24, 23, 59), True),
    ],
)
def test_tier_hours(tier: Tier, when: dt.datetime, is_open: bool) -> None:
    """Standard weekdays 9-5, Premium weekdays 7-7, Premium Plus always."""
    assert CAL.is_open(tier, when) is is_open


def test_hours_judged_in_local_time() -> None:
    """A UTC time is converted to the support centre's zone before judging."""
    assert CAL.is_open(Tier.STANDARD, dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC))  # 09:00 CST
    assert not CAL.is_open(Tier.STANDARD, dt.datetime(2026, 11, 23, 14, 59, tzinfo=dt.UTC))


def test_closed_dates_close_standard_and_premium_not_premium_plus() -> None:
    """A closure shuts Standard and Premium all day; Premium Plus stays 24/7."""
    cal = SupportCalendar(tz=TZ, closed_dates=frozenset({dt.date(2026, 11, 26)}))
    assert not cal.is_open(Tier.STANDARD, at(26, 10))
    assert not cal.is_open(Tier.PREMIUM, at(26, 10))
    assert cal.is_open(Tier.PREMIUM_PLUS, at(26, 10))
    assert not cal.is_staffed(at(26, 10))


@pytest.mark.parametrize(
    ("tier", "when", "expected"),
    [
        (Tier.STANDARD, at(23, 10), at(23, 10)),
        (Tier.STANDARD, at(23, 7), at(23, 9)),
        (Tier.STANDARD, at(27, 17), at(30, 9)),  # Friday evening -> Monday
        (Tier.PREMIUM, at(28, 12), at(30, 7)),
        (Tier.PREMIUM_PLUS, at(28, 3), at(28, 3)),
    ],
)
def test_next_opening(tier: Tier, when: dt.datetime, expected: dt.datetime) -> None:
    """The next opening is now when open, else the start of the next open period."""
    assert CAL.next_opening(tier, when) == expected


def test_never_open_calendar_is_an_error() -> None:
    """A calendar closed on every date raises instead of searching forever."""
    start = dt.date(2026, 11, 1)
    everything = frozenset(start + dt.timedelta(days=i) for i in range(500))
    with pytest.raises(ValueError, match="does not open"):
        SupportCalendar(tz=TZ, closed_dates=everything).next_opening(Tier.STANDARD, at(2, 10))


@pytest.mark.parametrize(
    ("tier", "created", "due"),
    [
        # DESIGN.md: Standard opened Friday 16:00 is due Wednesday 16:00.
        (Tier.STANDARD, at(20, 16), at(25, 16)),
        # DESIGN.md: Premium opened Friday 18:00 is due Monday 10:00.
        (Tier.PREMIUM, at(20, 18), at(23, 10)),
        # Opened outside hours: counting starts at the next opening.
        (Tier.STANDARD, at(21, 12), at(25, 17)),
        (Tier.PREMIUM, at(23, 6), at(23, 11)),
        # Ends exactly at closing time.
        (Tier.PREMIUM, at(23, 15), at(23, 19)),
        # Premium Plus counts wall-clock hours.
        (Tier.PREMIUM_PLUS, at(21, 23), at(22, 1)),
    ],
)
def test_sla_due(tier: Tier, created: dt.datetime, due: dt.datetime) -> None:
    """The SLA clock counts only the tier's open hours (Premium Plus: wall clock)."""
    assert CAL.sla_due(tier, created) == due


def test_closures_stop_the_sla_clock() -> None:
    """A closed date in the middle pushes the due time by a working day."""
    cal = SupportCalendar(tz=TZ, closed_dates=frozenset({dt.date(2026, 11, 23)}))
    assert cal.sla_due(Tier.STANDARD, at(20, 16)) == at(26, 16)


def test_wall_clock_setting() -> None:
    """With wall_clock_sla every tier counts plain hours."""
    cal = SupportCalendar(tz=TZ, wall_clock_sla=True)
    assert cal.sla_due(Tier.STANDARD, at(20, 16)) == at(21, 16)


def test_dst_spring_forward() -> None:
    """Premium Plus 2 h across the spring-forward night is 2 real hours (03:30 CDT)."""
    created = dt.datetime(2026, 3, 8, 0, 30, tzinfo=TZ)
    due = CAL.sla_due(Tier.PREMIUM_PLUS, created)
    assert due.astimezone(dt.UTC) - created.astimezone(dt.UTC) == dt.timedelta(hours=2)
    assert (due.hour, due.minute, due.tzname()) == (3, 30, "CDT")


def test_dst_fall_back() -> None:
    """Across the fall-back night, 2 real hours lands on the second 01:30 (CST)."""
    created = dt.datetime(2026, 11, 1, 0, 30, tzinfo=TZ)
    due = CAL.sla_due(Tier.PREMIUM_PLUS, created)
    assert due.astimezone(dt.UTC) - created.astimezone(dt.UTC) == dt.timedelta(hours=2)
    assert (due.hour, due.minute, due.tzname()) == (1, 30, "CST")


def test_dst_day_hours_stay_local() -> None:
    """On a DST-change Monday Standard still opens at 09:00 local."""
    assert CAL.next_opening(Tier.STANDARD, dt.datetime(2026, 3, 9, 1, 0, tzinfo=TZ)) == (
        dt.datetime(2026, 3, 9, 9, 0, tzinfo=TZ)
    )


def test_naive_time_rejected() -> None:
    """A time without a zone is a programming error, refused."""
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.is_open(Tier.STANDARD, dt.datetime(2026, 11, 23, 10, 0))  # noqa: DTZ001


QUEUES = Queues()


@pytest.mark.parametrize(
    ("tier", "emergency", "when", "route", "queue", "priority"),
    [
        (Tier.STANDARD, False, at(23, 10), Route.QUEUE, "support-standard", 10),
        (Tier.STANDARD, True, at(23, 10), Route.QUEUE, "support-standard", 15),
        (Tier.PREMIUM, True, at(23, 8), Route.QUEUE, "support-premium", 25),
        (Tier.PREMIUM_PLUS, False, at(23, 10), Route.QUEUE, "support-premium-plus", 30),
        (Tier.PREMIUM_PLUS, True, at(24, 3), Route.ONCALL, "support-premium-plus", 35),
        (Tier.STANDARD, True, at(23, 8), Route.CLOSED, "", 0),
        (Tier.PREMIUM, False, at(28, 12), Route.CLOSED, "", 0),
    ],
)
def test_route_call(
    tier: Tier,
    emergency: bool,
    when: dt.datetime,
    route: Route,
    queue: str,
    priority: int,
) -> None:
    """Open: tier queue by priority; closed: on-call for Premium Plus, else closed."""
    decision = route_call(tier, emergency, when, CAL, QUEUES)
    assert (decision.route, decision.queue, decision.priority) == (route, queue, priority)
    if route is Route.CLOSED:
        assert decision.next_opening == CAL.next_opening(tier, when)


@pytest.mark.parametrize("tier", list(Tier))
def test_expired_contract_routes_to_renewals_at_any_hour(tier: Tier) -> None:
    """Not covered: renewals, in open hours and after them."""
    for when in (at(23, 10), at(24, 3)):
        decision = route_call(tier, True, when, CAL, QUEUES, covered=False)
        assert (decision.route, decision.queue) == (Route.RENEWALS, "support-renewals")


def test_priorities_order_tiers_then_emergencies() -> None:
    """Premium Plus > Premium > Standard; an emergency first within its tier only."""
    order = [
        queue_priority(Tier.STANDARD, False),
        queue_priority(Tier.STANDARD, True),
        queue_priority(Tier.PREMIUM, False),
        queue_priority(Tier.PREMIUM, True),
        queue_priority(Tier.PREMIUM_PLUS, False),
        queue_priority(Tier.PREMIUM_PLUS, True),
    ]
    assert order == sorted(order)
    assert len(set(order)) == len(order)


RULES = CalendarRules(tz=TZ, holiday_country="US", holiday_subdiv="", wall_clock_sla=False)


def with_holidays(
    around: dt.datetime,
    closures: frozenset[dt.date] = frozenset(),
    openings: frozenset[dt.date] = frozenset(),
) -> SupportCalendar:
    """The calendar a call would get: federal holidays plus the administrator's dates."""
    return CalendarStore.build_from(RULES, around, closures, openings)


@pytest.mark.parametrize(
    ("tier", "when", "is_open"),
    [
        (Tier.STANDARD, at(26, 10), False),  # Thanksgiving
        (Tier.PREMIUM, at(26, 10), False),
        (Tier.PREMIUM_PLUS, at(26, 10), True),
        (Tier.STANDARD, at(27, 10), True),  # the Friday after is not a federal holiday
        (Tier.PREMIUM, dt.datetime(2026, 12, 25, 12, tzinfo=TZ), False),  # Christmas
        (Tier.PREMIUM, dt.datetime(2027, 1, 1, 7, tzinfo=TZ), False),  # New Year's Day
    ],
)
def test_federal_holidays_close_the_centre(tier: Tier, when: dt.datetime, is_open: bool) -> None:
    """Federal holidays close Standard and Premium; Premium Plus stays open."""
    assert with_holidays(when).is_open(tier, when) is is_open


@pytest.mark.parametrize(
    ("tier", "created", "due"),
    [
        # Across Thanksgiving: Wed 1 h, (Thu holiday), Fri 8, Mon 8, Tue 7 -> Tuesday 16:00.
        (Tier.STANDARD, at(25, 16), dt.datetime(2026, 12, 1, 16, tzinfo=TZ)),
        # Premium across the holiday night: Wednesday 18:00 -> Friday 10:00.
        (Tier.PREMIUM, at(25, 18), at(27, 10)),
        # Across Christmas and a weekend: Thu 24 Dec 16:00 has 3 h, then Monday 07:00-08:00.
        (Tier.PREMIUM, dt.datetime(2026, 12, 24, 16, tzinfo=TZ),
         dt.datetime(2026, 12, 28, 8, tzinfo=TZ)),
        # Premium Plus ignores holidays: wall clock.
        (Tier.PREMIUM_PLUS, at(26, 23), at(27, 1)),
    ],
)  # fmt: skip
def test_sla_across_holidays(tier: Tier, created: dt.datetime, due: dt.datetime) -> None:
    """SLA clocks stop on holidays, nights and weekends."""
    assert with_holidays(created).sla_due(tier, created) == due


def test_administrator_closure_and_opening() -> None:
    """An added closure closes a working day; an extra opening opens a holiday."""
    calendar = with_holidays(
        at(23, 8),
        closures=frozenset({dt.date(2026, 11, 24)}),
        openings=frozenset({dt.date(2026, 11, 26)}),
    )
    assert not calendar.is_open(Tier.STANDARD, at(24, 10))
    assert calendar.is_open(Tier.STANDARD, at(26, 10))
    assert calendar.next_opening(Tier.STANDARD, at(23, 18)) == at(25, 9)
