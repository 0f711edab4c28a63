"""``ivr calendar``: holidays, dated closures and extra openings."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TextIO

from ivr.commands.common import fail, open_services
from ivr.config import Settings
from ivr.domain.holidays import holidays_between
from ivr.runtime.clock import now_utc


async def run(args: argparse.Namespace, settings: Settings, _stdin: TextIO) -> int:
    """``show``, ``close``, ``open`` or ``clear``."""
    async with open_services(settings) as stores:
        store = stores.calendars
        if args.calendar_command in {"close", "open"}:
            kind = "closed" if args.calendar_command == "close" else "open"
            await store.set_day(args.date, kind, args.reason)
            print(f"{args.date.isoformat()} marked {kind}")
            return 0
        if args.calendar_command == "clear":
            if not await store.clear_day(args.date):
                return fail(f"no entry for {args.date.isoformat()}")
            print(f"{args.date.isoformat()} cleared")
            return 0
        entries = await store.entries()
    first = args.first or now_utc().astimezone(settings.timezone).date()
    last = first + dt.timedelta(days=args.days)
    rows = [(d, "holiday", name) for d, name in holidays_between(
        settings.holiday_country, settings.holiday_subdiv, first, last
    ).items()]  # fmt: skip
    rows += [(e.day, e.kind, e.reason) for e in entries if first <= e.day <= last]
    for day, kind, text in sorted(rows):
        print(f"{day.isoformat()}  {day:%a}  {kind:<8} {text}")
    if not rows:
        print(f"no holidays or entries from {first.isoformat()} to {last.isoformat()}")
    return 0
