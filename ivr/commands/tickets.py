"""``ivr tickets``: list, show, acknowledge and resolve tickets; helpdesk dead letters."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from ivr.commands.common import fail, open_services
from ivr.config import Settings
from ivr.domain.codec import to_json
from ivr.domain.records import TicketKind
from ivr.domain.ticket_events import Verdict
from ivr.runtime.clock import now_utc
from ivr.store.outbox import dead_letters, redeliver


async def run(args: argparse.Namespace, settings: Settings, _stdin: TextIO) -> int:
    """Dispatch the ``tickets`` sub-commands (none: the newest tickets)."""
    if args.tickets_command in {"ack", "resolve", "redeliver", "dead"}:
        return await _ticket_change(settings, args)
    async with open_services(settings) as stores:
        if args.tickets_command == "show":
            ticket = await stores.tickets.get(args.number)
            if ticket is None:
                return fail(f"no ticket {args.number}")
            pages = await stores.tickets.paging_log(ticket.number)
            audit = await stores.tickets.audit(ticket.number)
            data = to_json(ticket) | {"pages": pages, "audit": audit}
            if args.show_json or args.json:
                print(json.dumps(data, indent=2))
            else:
                for key, value in data.items():
                    best_effort = key == "sla_due" and value is None
                    shown = "none (best effort: a warranty ticket)" if best_effort else value
                    if key not in {"pages", "audit"}:
                        print(f"{key:>18}: {shown}")
                for entry in audit:
                    print(
                        f"{'change':>18}: {entry['at']} {entry['event']} "
                        f"{entry['by']} {entry['note']}"
                    )
                for page in pages:
                    print(
                        f"{'page':>18}: {page.get('at')} round {page.get('round', '-')} "
                        f"step {page.get('step')} {page.get('engineer')}: {page.get('outcome')}"
                    )
            return 0
        tickets = await stores.tickets.recent(args.limit)
    if args.json:
        print(json.dumps([to_json(t) for t in tickets], indent=2))
        return 0
    if not tickets:
        print("no tickets")
    for t in tickets:
        flag = "EMERGENCY" if t.emergency else "normal"
        if t.kind is TicketKind.WARRANTY:
            flag = "warranty"
        print(
            f"{t.number}  {t.created.astimezone(settings.timezone):%Y-%m-%d %H:%M}  "
            f"{t.status.value:<12} {t.tier.value:<12} {flag:<9} {t.host_id}  {t.end_customer}"
        )
    return 0


async def _ticket_change(settings: Settings, args: argparse.Namespace) -> int:
    """``ivr tickets ack|resolve|redeliver|dead``."""
    command = args.tickets_command
    if command in {"ack", "resolve"} and not args.by.strip():
        return fail("--by names who does it", 2)
    async with open_services(settings) as stores:
        store = stores.tickets
        if command == "redeliver":
            count = await redeliver(stores.redis, args.ticket)
            print(f"{count} events back on the helpdesk outbox")
            return 0
        if command == "dead":
            for letter in await dead_letters(stores.redis):
                print(f"{letter['ticket']}  {letter['kind']:<18} {letter['key']}  "
                      f"{letter['attempts']} attempts: {letter['error']}")  # fmt: skip
            return 0
        now = now_utc()
        if command == "ack":
            result = await store.acknowledge(args.number, args.by.strip(), now)
        else:
            result = await store.resolve(args.number, args.by.strip(), now, args.note)
    if result.verdict is Verdict.NOT_FOUND:
        return fail(f"no ticket {args.number}")
    status = result.ticket.status.value if result.ticket else ""
    if result.verdict is Verdict.REFUSED:
        verb = "acknowledged" if command == "ack" else "resolved"
        return fail(f"ticket {args.number} is {status}: it cannot be {verb}")
    done = "now" if result.verdict is Verdict.CHANGED else "already"
    print(f"ticket {args.number} {done} {status}")
    return 0
