"""The helpdesk's 10,000-ticket bulk sync: ``ivr helpdesk sync FILE`` as an operator runs it.

A JSON Lines export of 10,000 new tickets (the demo reseller's four systems) is
synced by the whole command, a process of its own against a private
``redis-server`` (interpreter start, file reading, parsing, the rules and the
batched WATCH/MULTI writes included), then synced again (every line unchanged).
The peer is the floor of the Redis work: the same 10,000 ticket hashes written
with plain pipelined ``HSET`` in batches of the same size, no rules, no
transaction.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from argon2 import PasswordHasher
from redis.asyncio import Redis

from bench.common import ROOT, Figure, ivr_environ, ratio, redis_server
from ivr.demo import load_demo
from ivr.store import keys
from ivr.store.directory import Directory
from ivr.store.helpdesk_sync import BATCH
from ivr.store.pins import PinHasher

TICKETS = 10_000
FIRST = 100_001  # far above the phone line's own numbers
HOSTS = ("123456", "234567", "345678", "456789")  # the demo reseller 1001's systems
GOAL_SECONDS = 10.0


def export_line(index: int) -> str:
    """One line of the export: a ticket created in the helpdesk."""
    at = f"2026-11-{1 + index % 20:02d}T{8 + index % 9:02d}:{index % 60:02d}:00-06:00"
    ticket = {
        "number": str(FIRST + index), "reseller_account": "1001",
        "host_id": HOSTS[index % len(HOSTS)], "status": "open",
        "title": f"Exported ticket {index}", "call_scenario": "Imported from the helpdesk.",
        "created_at": at, "updated_at": at,
    }  # fmt: skip
    return json.dumps({"event": "created", "ticket": ticket})


def run_sync(url: str, export: Path, data: str) -> float:
    """Seconds of one whole ``ivr helpdesk sync`` process (it exits 0: nothing rejected)."""
    started = time.perf_counter()
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "ivr.cli", "helpdesk", "sync", str(export)],
        env=ivr_environ(url, data), cwd=ROOT, check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return time.perf_counter() - started


async def plain_writes(url: str) -> float:
    """Seconds to write the same number of ticket hashes with pipelined HSET (the floor)."""
    client = Redis.from_url(url, decode_responses=True)
    try:
        started = time.perf_counter()
        for start in range(0, TICKETS, BATCH):
            async with client.pipeline(transaction=False) as pipe:
                for index in range(start, min(start + BATCH, TICKETS)):
                    ticket = json.loads(export_line(index))["ticket"]
                    pipe.hset(keys.ticket(ticket["number"]), mapping=ticket)
                await pipe.execute()
        return time.perf_counter() - started
    finally:
        await client.aclose()


async def _demo(url: str) -> None:
    client = Redis.from_url(url, decode_responses=True)
    try:
        fast = PinHasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        await load_demo(Directory(client), fast)
    finally:
        await client.aclose()


def measure() -> list[Figure]:
    """The first sync and the second (all unchanged), each beside its peer."""
    with tempfile.TemporaryDirectory() as data:
        export = Path(data) / "export.jsonl"
        export.write_text("\n".join(export_line(i) for i in range(TICKETS)) + "\n")
        with redis_server() as url:
            asyncio.run(_demo(url))
            first = run_sync(url, export, data)
            again = run_sync(url, export, data)
        with redis_server() as url:
            floor = asyncio.run(plain_writes(url))
    return [
        Figure(
            f"helpdesk bulk sync, {TICKETS:,} new tickets, whole `ivr helpdesk sync` "
            "(s; peer: the same hashes by pipelined HSET)",
            round(first, 2), round(floor, 2), round(ratio(first, floor), 1),
            f"<= {GOAL_SECONDS:g} s", first <= GOAL_SECONDS,
        ),
        Figure(
            f"helpdesk bulk sync again, {TICKETS:,} unchanged (s; peer: the first run)",
            round(again, 2), round(first, 2), round(ratio(again, first), 2),
            "<= the first run (safe to run twice)", again <= first,
        ),
    ]  # fmt: skip
