"""The local ticket journal: where a ticket goes when Redis cannot be reached.

An append-only file of JSON lines in the data directory, fsync'd (in a thread)
before the caller hears the number. ``{"type": "ticket", ...}`` holds a ticket;
``{"type": "replayed", "number": ...}`` says it is in Redis. When Redis returns,
every ticket without its ``replayed`` line is created there with its journal
number; creating an existing number is a no-op, so replaying twice counts once.

Numbers: a journal number is ``0`` + the two-digit worker id + the worker's own
sequence (``0010001``, ``0010002``, ... for worker 1). Redis-allocated numbers
never start with ``0`` (they count up from 10001), and workers sharing a Redis
have distinct ids (``IVR_WORKER_ID``), so no journal number can equal a Redis one
or another worker's; the sequence is the largest in the file plus one, so it
survives restarts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from ivr.domain.codec import from_json, to_json
from ivr.domain.records import NewTicket, Ticket
from ivr.store.tickets import TicketStore

log = logging.getLogger("ivr.journal")

FILE_NAME = "tickets.journal"


def journal_number(worker_id: int, seq: int) -> str:
    """The number of a journal ticket: never one Redis allocates (leading zero)."""
    return f"0{worker_id:02d}{seq:04d}"


@dataclass(slots=True)
class _Pending:
    number: str
    new: NewTicket
    callback_at: dt.datetime | None


@dataclass(slots=True)
class _State:
    last_seq: int = 0
    pending: dict[str, _Pending] = field(default_factory=dict)


def _parse(text: str, worker_id: int) -> _State:
    """The journal's state from its lines (a torn last line, from a crash mid-write, is skipped)."""
    state = _State()
    prefix = journal_number(worker_id, 0)[:3]
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        number = str(entry.get("number", ""))
        if entry.get("type") == "ticket":
            callback = entry.get("callback_at")
            state.pending[number] = _Pending(
                number,
                from_json(NewTicket, entry["ticket"]),
                dt.datetime.fromisoformat(callback) if callback else None,
            )
            if number.startswith(prefix):
                state.last_seq = max(state.last_seq, int(number[3:]))
        elif entry.get("type") == "replayed":
            state.pending.pop(number, None)
    return state


def _append_synced(path: Path, line: str) -> None:
    """Append one line and fsync it (runs in a thread)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(line + "\n")
        out.flush()
        os.fsync(out.fileno())


class TicketJournal:
    """Tickets kept on local disk while Redis is away, and their replay."""

    def __init__(self, data_dir: Path, worker_id: int) -> None:
        self.path = data_dir / FILE_NAME
        self._worker_id = worker_id
        self._lock = asyncio.Lock()
        self._state: _State | None = None

    async def _loaded(self) -> _State:
        if self._state is None:
            text = await asyncio.to_thread(self._read)
            self._state = _parse(text, self._worker_id)
        return self._state

    def _read(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    async def append(self, new: NewTicket, callback_at: dt.datetime | None = None) -> Ticket:
        """Give the ticket a journal number and write it durably; only then return it."""
        async with self._lock:
            state = await self._loaded()
            number = journal_number(self._worker_id, state.last_seq + 1)
            line = {
                "type": "ticket",
                "number": number,
                "ticket": to_json(new),
                "callback_at": callback_at.isoformat() if callback_at else None,
            }
            await asyncio.to_thread(_append_synced, self.path, json.dumps(line, sort_keys=True))
            state.last_seq += 1
            state.pending[number] = _Pending(number, new, callback_at)
        return new.numbered(number)

    async def pending(self) -> list[str]:
        """Numbers of journal tickets not yet in Redis."""
        async with self._lock:
            return sorted((await self._loaded()).pending)

    async def replay(self, tickets: TicketStore) -> int:
        """Create every pending journal ticket in Redis (idempotent); how many were pending.

        Stops at the first Redis error (raised); what was replayed stays replayed.
        """
        async with self._lock:
            state = await self._loaded()
            done = 0
            for number, item in sorted(state.pending.items()):
                await tickets.create(item.new, item.callback_at, number=number)
                line = json.dumps({"type": "replayed", "number": number})
                await asyncio.to_thread(_append_synced, self.path, line)
                del state.pending[number]
                done += 1
                log.info("call=%s journal ticket %s replayed into Redis", item.new.call_id, number)
            return done
