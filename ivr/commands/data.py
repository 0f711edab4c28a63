"""``ivr import``, ``ivr pin set`` and ``ivr demo``: loading resellers, systems and sets."""

from __future__ import annotations

import argparse
import asyncio
import getpass
from pathlib import Path
from typing import TextIO

from ivr.commands.common import fail, open_services
from ivr.config import Settings
from ivr.demo import load_demo, load_demo_helpdesk
from ivr.domain.imports import ImportRejected
from ivr.domain.records import PIN_RE
from ivr.runtime.clock import now_utc
from ivr.store.helpdesk_sync import HelpdeskSync
from ivr.store.imports import import_resellers, import_systems, import_telephones


async def run(args: argparse.Namespace, settings: Settings, stdin: TextIO) -> int:
    """Dispatch ``import``, ``pin`` and ``demo``."""
    if args.command == "import":
        return await _import(settings, args.kind, args.file)
    if args.command == "pin":
        return await _pin_set(settings, args.account, stdin)
    async with open_services(settings) as stores:
        await load_demo(stores.directory, stores.pins)
        await load_demo_helpdesk(HelpdeskSync(stores.redis, stores.calendars), now_utc())
    print("demo data loaded (resellers, systems, helpdesk ticket 77001)")
    return 0


async def _import(settings: Settings, kind: str, path: Path) -> int:
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return fail(f"cannot read {path}: {exc}")
    async with open_services(settings) as stores:
        try:
            if kind == "resellers":
                count = await import_resellers(stores.directory, stores.pins, text)
            elif kind == "telephones":
                count = await import_telephones(stores.directory, text)
            else:
                count = await import_systems(stores.directory, text)
        except ImportRejected as exc:
            return fail(f"{path} rejected, nothing imported:\n{exc}")
    print(f"imported {count} {kind} from {path}")
    return 0


async def _pin_set(settings: Settings, account: str, stdin: TextIO) -> int:
    pin = (getpass.getpass("New PIN: ") if stdin.isatty() else stdin.readline()).strip()
    if not PIN_RE.match(pin):
        return fail("a PIN is 4 to 12 digits (read from stdin)")
    async with open_services(settings) as stores:
        pin_hash = await stores.pins.hash(pin)
        if not await stores.directory.set_pin_hash(account, pin_hash):
            return fail(f"no reseller with account {account}")
    print(f"PIN set for account {account}")
    return 0
