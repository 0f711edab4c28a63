"""``ivr route``: where a call of a tier (or a warranty request) would go at a time, and why."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Sequence
from typing import TextIO

from ivr.commands.common import fail, open_services
from ivr.config import Settings
from ivr.domain.after_hours import settle_oncall
from ivr.domain.calendar import SupportCalendar, why_closed
from ivr.domain.holidays import holidays_between
from ivr.domain.records import TicketKind, Tier
from ivr.domain.routing import route_call, route_warranty
from ivr.domain.times import parse_local_time
from ivr.runtime.clock import now_utc
from ivr.store.calendar import DayEntry


async def run(args: argparse.Namespace, settings: Settings, _stdin: TextIO) -> int:
    """Print the routing decision (``--json`` for scripts)."""
    kind = TicketKind(args.kind)
    if kind is TicketKind.SUPPORT and args.tier is None:
        return fail("--tier is required for a support request (or give --kind warranty)", 2)
    if kind is TicketKind.WARRANTY and (args.tier is not None or args.emergency):
        return fail(
            "--kind warranty takes no --tier or --emergency: warranty requests are best "
            "effort, in Standard hours",
            2,
        )
    try:
        at = parse_local_time(args.at, settings.timezone) if args.at else now_utc()
    except ValueError as exc:
        return fail(f"--at: {exc} (e.g. 2026-11-25T22:00 or 2026-11-25T22:00:00-06:00)", 2)
    async with open_services(settings) as stores:
        calendar = await stores.calendars.calendar(at)
        chain = await stores.oncall.chain(at)
        entries = await stores.calendars.entries()
    # A warranty request keeps Standard's hours and has no SLA clock.
    tier = Tier.STANDARD if kind is TicketKind.WARRANTY else Tier(args.tier)
    if kind is TicketKind.WARRANTY:
        decided = route_warranty(at, calendar, settings.queues)
        sla_due = None
    else:
        decided = route_call(tier, args.emergency, at, calendar, settings.queues)
        sla_due = calendar.sla_due(tier, at).isoformat()
    # The call flow's own rule: on-call with nobody on call is the general queue.
    routed = settle_oncall(decided, chain, settings.queues)
    decision = routed.decision
    data = {
        "at": at.astimezone(calendar.tz).isoformat(),
        "kind": kind.value,
        "tier": tier.value if kind is TicketKind.SUPPORT else None,
        "emergency": args.emergency,
        "hours": tier.value,  # whose open hours decide: a warranty request keeps Standard's
        "route": decision.route.value,
        "queue": decision.queue or None,
        "priority": decision.priority if decision.queue else None,
        "open": calendar.is_open(tier, at),
        "closed_because": _why_closed(tier, at, calendar, entries, settings),
        "next_open": calendar.next_opening(tier, at).isoformat(),
        "sla_due": sla_due,
    }
    if routed.summary():
        data["oncall"] = routed.summary()
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        for key, value in data.items():
            if kind is TicketKind.WARRANTY and key in {"tier", "emergency"}:
                continue  # a warranty request has neither
            if key == "closed_because" and value is None:
                continue  # open
            shown = "none (best effort)" if key == "sla_due" and value is None else _word(value)
            print(f"{key.replace('_', ' '):>14}: {shown}")
    return 0


def _why_closed(
    tier: Tier,
    at: dt.datetime,
    calendar: SupportCalendar,
    entries: Sequence[DayEntry],
    settings: Settings,
) -> str | None:
    """The holiday, the closure or the hours that close the tier's support at ``at``."""
    day = at.astimezone(calendar.tz).date()
    holidays = holidays_between(settings.holiday_country, settings.holiday_subdiv, day, day)
    closures = {e.day: e.reason for e in entries if e.kind == "closed"}
    return why_closed(tier, at, calendar, holidays.get(day), closures.get(day))


def _word(value: object) -> object:
    """A value as a person reads it: yes or no, and a dash for nothing."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "-" if value is None else value
