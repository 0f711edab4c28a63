"""``ivr route``: where a call of a tier (or a warranty request) would go at a time, and why."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from ivr.commands.common import fail, open_services
from ivr.config import Settings
from ivr.domain.after_hours import settle_oncall
from ivr.domain.records import TicketKind, Tier
from ivr.domain.routing import route_call, route_warranty
from ivr.domain.times import parse_aware_time
from ivr.runtime.clock import now_utc


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
        at = parse_aware_time(args.at) if args.at else now_utc()
    except ValueError as exc:
        return fail(f"--at: {exc}", 2)
    async with open_services(settings) as stores:
        calendar = await stores.calendars.calendar(at)
        chain = await stores.oncall.chain(at)
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
            shown = "none (best effort)" if key == "sla_due" and value is None else value
            print(f"{key:>10}: {shown}")
    return 0
