"""Hardware warranty terms: cover on a day, registry defaults, extensions, and its routing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ivr.config import Queues
from ivr.domain.calendar import SupportCalendar
from ivr.domain.records import WARRANTY_TITLE, Route, System, Ticket, TicketKind, Tier
from ivr.domain.routing import route_ticket, route_warranty
from ivr.domain.warranty import (
    WarrantyCover,
    extension_problem,
    telephone_warranty_problem,
    warranty_cover,
    warranty_instead,
    years_after,
)

TZ = ZoneInfo("America/Chicago")
CAL = SupportCalendar(tz=TZ)
QUEUES = Queues()
SYSTEM = System(
    host_id="678901",
    reseller_account="1001",
    end_customer="Frontier Pharmacy",
    system_type="UCX450",
    software_release="7.1.3",
    tier=Tier.STANDARD,
    support_expires=dt.date(2026, 9, 15),
    warranty_expires=dt.date(2026, 9, 15),
    purchased=dt.date(2025, 9, 15),
)
EXTENDED = dataclasses.replace(SYSTEM, warranty_extended_until=dt.date(2027, 9, 15))


def at(day: int, hour: int, month: int = 11) -> dt.datetime:
    """A local Chicago time in 2026 (2026-11-23 is a Monday)."""
    return dt.datetime(2026, month, day, hour, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    ("system", "day", "cover"),
    [
        (SYSTEM, dt.date(2026, 9, 15), WarrantyCover(True, dt.date(2026, 9, 15), extended=False)),
        (SYSTEM, dt.date(2026, 9, 16), WarrantyCover(False, dt.date(2026, 9, 15))),
        (EXTENDED, dt.date(2026, 9, 15), WarrantyCover(True, dt.date(2027, 9, 15), extended=False)),
        (EXTENDED, dt.date(2026, 9, 16), WarrantyCover(True, dt.date(2027, 9, 15), extended=True)),
        (EXTENDED, dt.date(2027, 9, 15), WarrantyCover(True, dt.date(2027, 9, 15), extended=True)),
        (EXTENDED, dt.date(2027, 9, 16), WarrantyCover(False, dt.date(2027, 9, 15))),
        (dataclasses.replace(SYSTEM, warranty_expires=None), dt.date(2020, 1, 1),
         WarrantyCover(False, None)),
    ],
)  # fmt: skip
def test_warranty_cover_on_a_day(system: System, day: dt.date, cover: WarrantyCover) -> None:
    """Active through its last day (original or extended); the extension's own days are marked."""
    assert warranty_cover(system, day) == cover


def test_warranty_instead_only_when_support_expired_and_warranty_active() -> None:
    """Option 4 is offered on an expired contract only while the warranty is active."""
    assert not warranty_instead(EXTENDED, dt.date(2026, 9, 15))  # support still active
    assert warranty_instead(EXTENDED, dt.date(2026, 9, 16))
    assert not warranty_instead(SYSTEM, dt.date(2026, 9, 16))  # both ended


@pytest.mark.parametrize(
    ("day", "later"),
    [
        (dt.date(2025, 9, 15), dt.date(2026, 9, 15)),
        (dt.date(2024, 2, 29), dt.date(2025, 2, 28)),
        (dt.date(2023, 2, 28), dt.date(2024, 2, 28)),
    ],
)
def test_one_year_after(day: dt.date, later: dt.date) -> None:
    """A year later is the same date; 29 February becomes 28 February."""
    assert years_after(day, 1) == later


@pytest.mark.parametrize(
    ("extended", "problem"),
    [
        (dt.date(2027, 9, 15), None),
        (dt.date(2027, 3, 1), None),
        (dt.date(2027, 9, 16), "more than one year past the original warranty (2026-09-15)"),
        (dt.date(2026, 9, 15), "is not after the original warranty"),
        (dt.date(2026, 1, 1), "is not after the original warranty"),
    ],
)
def test_extension_at_most_a_year_past_the_original(extended: dt.date, problem: str | None) -> None:
    """An extension ends after the original warranty and at most a year past it."""
    found = extension_problem(dt.date(2026, 9, 15), extended)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found
    missing = extension_problem(None, dt.date(2027, 1, 1))
    assert missing is not None
    assert "needs the original warranty" in missing


def test_telephone_sets_are_never_extended() -> None:
    """A telephone set's warranty is at most the year from its purchase."""
    bought = dt.date(2025, 9, 15)
    assert telephone_warranty_problem(bought, dt.date(2026, 9, 15)) is None
    assert telephone_warranty_problem(None, dt.date(2030, 1, 1)) is None
    problem = telephone_warranty_problem(bought, dt.date(2026, 9, 16))
    assert problem is not None
    assert "excluded from extended warranty" in problem


@pytest.mark.parametrize(
    ("when", "route", "queue", "priority"),
    [
        (at(23, 9), Route.QUEUE, "support-warranty", 10),
        (at(23, 16), Route.QUEUE, "support-warranty", 10),
        (at(23, 8), Route.CLOSED, "", 0),  # Premium would be open: warranty keeps Standard's
        (at(23, 17), Route.CLOSED, "", 0),
        (at(28, 12), Route.CLOSED, "", 0),  # Saturday
    ],
)
def test_route_warranty_in_standard_hours(
    when: dt.datetime, route: Route, queue: str, priority: int
) -> None:
    """The warranty queue in Standard hours; otherwise closed until Standard opens, no on-call."""
    decision = route_warranty(when, CAL, QUEUES)
    assert (decision.route, decision.queue, decision.priority) == (route, queue, priority)
    if route is Route.CLOSED:
        assert decision.next_opening == CAL.next_opening(Tier.STANDARD, when)


def test_expired_warranty_routes_to_renewals() -> None:
    """Not covered: renewals, whatever the hour."""
    for when in (at(23, 10), at(24, 3)):
        decision = route_warranty(when, CAL, QUEUES, covered=False)
        assert (decision.route, decision.queue) == (Route.RENEWALS, "support-renewals")


def _ticket(kind: TicketKind, tier: Tier) -> Ticket:
    return Ticket(
        number="10001", created=at(20, 10), reseller_account="1001", host_id="678901",
        end_customer="Frontier Pharmacy", system_type="UCX450", software_release="7.1.3",
        tier=tier, emergency=False, title=WARRANTY_TITLE, sla_due=None, call_id="c", kind=kind,
    )  # fmt: skip


def test_route_ticket_follows_the_tickets_kind() -> None:
    """A call about a ticket goes where its kind goes: a warranty ticket to the warranty queue
    even on a Premium Plus system at night, a support ticket by its tier."""
    night = at(24, 3)
    warranty = route_ticket(_ticket(TicketKind.WARRANTY, Tier.PREMIUM_PLUS), night, CAL, QUEUES)
    assert warranty.route is Route.CLOSED
    day = route_ticket(_ticket(TicketKind.WARRANTY, Tier.PREMIUM_PLUS), at(23, 10), CAL, QUEUES)
    assert day.queue == "support-warranty"
    support = route_ticket(_ticket(TicketKind.SUPPORT, Tier.PREMIUM_PLUS), night, CAL, QUEUES)
    assert (support.route, support.queue) == (Route.ONCALL, "support-premium-plus")
