"""``ivr oncall``: the rotation, dated overrides, and who is on call at a time."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import TextIO

from ivr.commands.common import fail, open_services
from ivr.config import Settings
from ivr.domain.after_hours import settle_oncall
from ivr.domain.oncall import override_from_dict, rotation_from_dict
from ivr.domain.records import Route, Tier
from ivr.domain.routing import route_call
from ivr.domain.times import parse_aware_time
from ivr.runtime.clock import now_utc


async def run(args: argparse.Namespace, settings: Settings, _stdin: TextIO) -> int:
    """``show``, ``set`` or ``override add|list|remove``."""
    try:
        if args.oncall_command == "set":
            text = await asyncio.to_thread(args.file.read_text, encoding="utf-8")
            rotation = rotation_from_dict(json.loads(text), default_tz=settings.timezone)
        elif args.oncall_command == "override" and args.override_command == "add":
            new_override = override_from_dict(
                {"start": args.start, "end": args.end, "name": args.name,
                 "dial": args.dial, "role": args.role}
            )  # fmt: skip
        at = parse_aware_time(args.at) if getattr(args, "at", None) else now_utc()
    except (OSError, ValueError, KeyError) as exc:
        return fail(str(exc))
    async with open_services(settings) as stores:
        store = stores.oncall
        if args.oncall_command == "set":
            await store.set_rotation(rotation)
            print(f"rotation set: {len(rotation.engineers)} engineers")
            return 0
        if args.oncall_command == "override":
            if args.override_command == "add":
                print(f"override {await store.add_override(new_override)} added")
                return 0
            if args.override_command == "remove":
                if not await store.remove_override(args.id):
                    return fail(f"no override {args.id}")
                print(f"override {args.id} removed")
                return 0
            _, overrides = await store.state()
            for key, o in sorted(overrides.items(), key=lambda item: item[1].start):
                print(f"{key}  {o.start.isoformat()} .. {o.end.isoformat()}  {o.role.value:<9} "
                      f"{o.engineer.name} ({o.engineer.dial})")  # fmt: skip
            return 0
        chain = await store.chain(at)
        calendar = await stores.calendars.calendar(at)
    # What a Premium Plus emergency at that time gets: the call flow's own rule.
    decided = route_call(Tier.PREMIUM_PLUS, True, at, calendar, settings.queues)
    routed = settle_oncall(decided, chain, settings.queues)
    call = {
        "route": routed.decision.route.value,
        "queue": routed.decision.queue or None,
        "oncall": routed.summary() or None,
    }
    steps = [
        {"role": s.role.value, "name": s.engineer.name, "dial": s.engineer.dial,
         "timeout": s.timeout_seconds}
        for s in chain
    ]  # fmt: skip
    if args.json:
        print(
            json.dumps({"at": at.isoformat(), "chain": steps, "premium_plus_call": call}, indent=2)
        )
        return 0
    if not steps:
        print("nobody is on call: no rotation configured")
    for step in steps:
        print(f"{step['role']:<9} {step['name']} ({step['dial']}, {step['timeout']} s)")
    if routed.decision.route is Route.ONCALL:
        where = "the on-call chain above"
    else:
        where = f"{call['route']} {call['queue'] or ''}".strip()
    why = f" ({routed.reason})" if routed.reason else ""
    print(f"a Premium Plus emergency then goes to: {where}{why}")
    return 0
