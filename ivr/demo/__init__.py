"""Demo data: three resellers, six systems with their telephone sets, and one helpdesk
ticket, for ``ivr serve --demo``, ``ivr demo`` and the README.

Demo PINs are in the CSV on purpose (it is sample data); they are hashed on load
like any import. The helpdesk ticket (77001, reseller 1001, Host ID 234567) is
taken in as the helpdesk's own, so option 1 can escalate it:
``ivr call --from 2145550100 --dtmf "1 2468# 77001# 1 #"``.
"""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources

from ivr.domain.helpdesk_sync import parse_event
from ivr.store.directory import Directory
from ivr.store.helpdesk_sync import HelpdeskSync
from ivr.store.imports import import_resellers, import_systems, import_telephones
from ivr.store.pins import PinHasher


async def load_demo(directory: Directory, pins: PinHasher) -> None:
    """Load (or reload) the demo resellers, systems and telephone sets."""
    folder = resources.files("ivr.demo")
    await import_resellers(directory, pins, folder.joinpath("resellers.csv").read_text("utf-8"))
    await import_systems(directory, folder.joinpath("systems.csv").read_text("utf-8"))
    await import_telephones(directory, folder.joinpath("telephones.csv").read_text("utf-8"))


async def load_demo_helpdesk(sync: HelpdeskSync, at: dt.datetime) -> None:
    """Take in the demo helpdesk ticket (again: unchanged, even once escalated)."""
    text = resources.files("ivr.demo").joinpath("helpdesk.jsonl").read_text("utf-8")
    events = [parse_event(json.loads(line)) for line in text.splitlines() if line.strip()]
    await sync.apply(events, at)
