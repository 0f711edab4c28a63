"""``ivr helpdesk sync FILE``: the helpdesk's tickets from a JSON Lines export.

For a first sync, or to repair after an outage of the webhook. Each line is one
event as ``POST /api/helpdesk/events`` takes it (or a ticket object alone), with
the same rules: a line is applied or rejected on its own, with its line number and
reason; a ticket's version decides, so running the same file twice changes
nothing the second time. Exit status 1 when any line was rejected.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import BinaryIO, TextIO

from ivr.commands.common import fail, open_services
from ivr.config import Settings
from ivr.domain.helpdesk_sync import (
    MAX_BODY_BYTES,
    InboundEvent,
    Problem,
    Rejected,
    parse_event,
)
from ivr.runtime.clock import now_utc
from ivr.store.helpdesk_sync import BATCH, Applied, HelpdeskSync

_EXPLAINED = {
    "unchanged": "that version was already here",
    "stale": "older than the version here: ignored",
}


async def run(args: argparse.Namespace, settings: Settings, stdin: TextIO) -> int:
    """``ivr helpdesk sync FILE`` (``-``: standard input)."""
    name = "standard input" if str(args.file) == "-" else str(args.file)
    try:
        handle = (
            stdin.buffer if str(args.file) == "-" else await asyncio.to_thread(_open, args.file)
        )
    except OSError as exc:
        return fail(f"cannot read {args.file}: {exc.strerror or exc}")
    started = time.monotonic()
    counts: Counter[str] = Counter()
    rejects: list[tuple[int, str]] = []
    try:
        async with open_services(settings) as stores:
            sync = HelpdeskSync(stores.redis, stores.calendars)
            line_no = 0
            while lines := await asyncio.to_thread(_read, handle, BATCH):
                events: list[InboundEvent] = []
                places: list[int] = []
                for raw in lines:
                    line_no += 1
                    try:
                        event = _parse(raw, first=line_no == 1)
                    except Rejected as exc:
                        rejects.append(_reject(line_no, exc))
                        continue
                    if event is not None:
                        events.append(event)
                        places.append(line_no)
                counts["lines"] += len(lines)
                for place, result in zip(places, await sync.apply(events, now_utc()), strict=True):
                    if isinstance(result, Applied):
                        counts[result.outcome.value] += 1
                    else:
                        rejects.append(_reject(place, result))
    finally:
        if handle is not stdin.buffer:
            handle.close()
    _report(name, counts, rejects, time.monotonic() - started)
    return 1 if rejects else 0


def _open(path: Path) -> BinaryIO:
    return path.open("rb")


def _read(handle: BinaryIO, count: int) -> list[bytes]:
    return list(itertools.islice(handle, count))


def _parse(raw: bytes, *, first: bool) -> InboundEvent | None:
    """One line's event; None for a blank line."""
    if first:
        raw = raw.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark some exporters write
    if len(raw) > MAX_BODY_BYTES:
        raise Rejected(Problem.TOO_LARGE, f"the line is over {MAX_BODY_BYTES} bytes")
    text = raw.strip()
    if not text:
        return None
    try:
        data = json.loads(text.decode("utf-8"))
    except UnicodeDecodeError:
        raise Rejected(Problem.MALFORMED, "the line is not UTF-8") from None
    except json.JSONDecodeError as exc:
        where = f"{exc.msg} at column {exc.colno}"
        raise Rejected(Problem.MALFORMED, f"the line is not JSON ({where})") from None
    return parse_event(data)


def _reject(line: int, exc: Rejected) -> tuple[int, str]:
    return line, f"line {line} rejected ({int(exc.problem)}): {exc.reason}"


def _report(
    name: str, counts: Counter[str], rejects: list[tuple[int, str]], seconds: float
) -> None:
    print(f"helpdesk sync of {name}: {counts['lines']:,} lines in {seconds:.1f} s")
    for outcome in ("created", "updated", "unchanged", "stale"):
        why = f"  ({_EXPLAINED[outcome]})" if outcome in _EXPLAINED else ""
        print(f"  {outcome:<10}{counts[outcome]:>9,}{why}")
    print(f"  {'rejected':<10}{len(rejects):>9,}")
    for _, text in sorted(rejects):
        print(text, file=sys.stderr)
