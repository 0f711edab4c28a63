"""``ivr tickets``: list, show, acknowledge and resolve tickets; helpdesk dead letters."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from ivr.commands.common import fail, has_store, open_services, store_name
from ivr.config import Settings
from ivr.domain.codec import to_json
from ivr.domain.display import MINUTE, TIER_NAMES, local_minute
from ivr.domain.records import TicketKind, Tier
from ivr.domain.ticket_events import Verdict
from ivr.runtime.clock import now_utc
from ivr.store.outbox import dead_letters, redeliver


async def run(args: argparse.Namespace, settings: Settings, _stdin: TextIO) -> int:
    """Dispatch the ``tickets`` sub-commands (none: the newest tickets)."""
    if args.tickets_command in {"ack", "resolve", "redeliver", "dead"}:
        return await _ticket_change(settings, args)
    existed = has_store(settings)
    async with open_services(settings) as stores:
        if args.tickets_command == "show":
            ticket = await stores.tickets.get(args.number)
            if ticket is None:
                return fail(f"no ticket {args.number} in {store_name(settings)}")
            pages = await stores.tickets.paging_log(ticket.number)
            audit = await stores.tickets.audit(ticket.number)
            data = to_json(ticket) | {"pages": pages, "audit": audit}
            if args.show_json or args.json:
                print(json.dumps(data, indent=2))
            else:
                _print_ticket(data, settings.timezone)
            return 0
        tickets = await stores.tickets.recent(args.limit)
    if args.json:
        print(json.dumps([to_json(t) for t in tickets], indent=2))
        return 0
    if not tickets:
        print(f"No tickets in {store_name(settings)}.")
        if not existed:
            print(
                f"{settings.data_dir} held no store: is it the data directory of your "
                "ivr serve? Name that one with --data-dir or IVR_DATA_DIR, or give "
                "IVR_REDIS_URL."
            )
        return 0
    rows = [("TICKET", "OPENED", "STATUS", "TIER", "KIND", "HOST ID", "END CUSTOMER")]
    for t in tickets:
        kind = "EMERGENCY" if t.emergency else "normal"
        if t.kind is TicketKind.WARRANTY:
            kind = "warranty"
        opened = t.created.astimezone(settings.timezone).strftime(MINUTE)
        rows.append((t.number, opened, t.status.value, TIER_NAMES[t.tier], kind, t.host_id,
                     t.end_customer))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + f"  {row[-1]}")
    return 0


LABEL = 18  # the width of the labels of ``ivr tickets show``


def _print_ticket(data: dict[str, Any], tz: ZoneInfo) -> None:
    """One ticket, a field a line: local times to the minute, words for yes, no and
    nothing, and a value of several lines (recordings) kept under its first."""
    for key, value in data.items():
        if key in {"pages", "audit"}:
            continue
        if key == "sla_due" and value is None:
            shown = "none (best effort: a warranty ticket)"
        elif key == "tier" and value in TIER_NAMES:
            shown = TIER_NAMES[Tier(value)]
        else:
            shown = _words(value, tz)
        _field(key.replace("_", " "), shown)
    for entry in data["audit"]:
        by = f" by {entry['by']}" if entry.get("by") else ""
        note = f" ({entry['note']})" if entry.get("note") else ""
        _field("change", f"{_words(entry['at'], tz)}  {entry['event']}{by}{note}")
    for page in data["pages"]:
        _field(
            "page",
            f"{_words(page.get('at'), tz)}  round {page.get('round', '-')} step "
            f"{page.get('step')}  {page.get('engineer')}: {page.get('outcome')}",
        )


def _field(label: str, text: str) -> None:
    first, *more = text.splitlines() or [""]
    print(f"{label:>{LABEL}}: {first}")
    for line in more:
        print(f"{'':>{LABEL}}  {line}")


def _words(value: object, tz: ZoneInfo) -> str:
    """A field's value as a person reads it."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "\n".join(_words(item, tz) for item in value) or "-"
    text = str(value)
    return local_minute(text, tz, zone=True) or text


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
