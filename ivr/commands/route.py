"""``ivr route``: where a call of a tier would go at a given time, and why."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from ivr.commands.common import fail, open_services
from ivr.config import Settings
from ivr.domain.records import Tier
from ivr.domain.routing import route_call
from ivr.domain.times import parse_aware_time
from ivr.runtime.clock import now_utc


async def run(args: argparse.Namespace, settings: Settings, _stdin: TextIO) -> int:
    """Print the routing decision (``--json`` for scripts)."""
    try:
        at = parse_aware_time(args.at) if args.at else now_utc()
    except ValueError as exc:
        return fail(f"--at: {exc}", 2)
    tier = Tier(args.tier)
    async with open_services(settings) as stores:
        calendar = await stores.calendars.calendar(at)
    decision = route_call(tier, args.emergency, at, calendar, settings.queues)
    local = at.astimezone(calendar.tz)
    data = {
        "at": local.isoformat(),
        "tier": tier.value,
        "emergency": args.emergency,
        "route": decision.route.value,
        "queue": decision.queue or None,
        "priority": decision.priority if decision.queue else None,
        "open": calendar.is_open(tier, at),
        "next_open": calendar.next_opening(tier, at).isoformat(),
        "sla_due": calendar.sla_due(tier, at).isoformat(),
    }
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        for key, value in data.items():
            print(f"{key:>10}: {value}")
    return 0
