"""The call tester: one simulated call through the real support line, with no side effects.

The same engine as ``ivr call`` (``FakeAsterisk`` + ``SimulatedCall`` against a
``FastAgiServer`` running the real route table), but the server lives only for
the call, on a loopback port chosen by the system, and its stores use a scratch
Redis logical database (``IVR_TESTER_DB``) of the same server:

1. take the scratch database's lock (one test call at a time across every web
   process; a second waits a few seconds, then is told the tester is busy);
2. empty it and copy in the reference data: resellers, phones, systems, tickets
   (for the status option), calendar and on-call keys, read with SCAN and copied
   server-side with ``COPY key key DB n REPLACE``, pipelined;
3. run the call with the clock fixed at the chosen time and no AMI at all (no
   re-pager, no SLA watch: nothing pages anybody), bounded in time;
4. empty the scratch database again.

The ticket, call record and PIN-failure counters the call writes land in the
scratch database and vanish with it. Nothing else leaves the scratch space: the
line's ticket store publishes no live notice (pub/sub ignores database numbers,
so a notice would reach every dashboard of the server) and queues no helpdesk
event; a ticket Redis fails to take goes to a journal of the call's own in a
temporary directory, never the service's (whose replay would create it in
production), and the answer says so; the call's log lines are kept from the
service's log and returned with the answer (``call_log``). A repeat emergency
joins the open emergency copied from production, as the real line does, and the
answer says "joined ticket N (repeat call)". The caller's PIN is never logged and
never returned: the transcript hides whatever was keyed at a PIN prompt.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import RedisError

from ivr.agi.server import FastAgiServer
from ivr.agi.simulator import CallResult, FakeAsterisk, SimulatedCall
from ivr.audio.catalogue import prompt_words
from ivr.config import Settings
from ivr.domain.variables import Var
from ivr.flows.prompts import sound_exists
from ivr.runtime.clock import Clock
from ivr.store import keys
from ivr.store.journal import TicketJournal
from ivr.tester.call_log import captured
from ivr.tester.rules import (
    TestCall,
    TesterBusy,
    TesterUnavailable,
    call_end,
    copied,
    failure_note,
    redis_failure_note,
    transcript,
    with_ticket_note,
)

log = logging.getLogger("ivr.tester")

LineFactory = Callable[[Redis, Clock, TicketJournal], FastAgiServer]
"""Builds the support line over a Redis client, a clock and the call's own journal
(``ivr.services.call_tester_line``)."""

LOCK_WAIT_SECONDS = 5.0
SCAN_COUNT = 1000
COPY_BATCH = 500
# Empties the scratch database only while this tester still holds its lock.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('flushdb')
  return 1
end
return 0
"""


class CallTester:
    """Places test calls against a throw-away copy of the reference data."""

    def __init__(self, production: Redis, settings: Settings, make_line: LineFactory) -> None:
        self._production = production
        self._db = settings.tester_db
        self._worker_id = settings.worker_id
        self._call_seconds = settings.tester_call_seconds
        self._sounds_prefix = settings.sounds_prefix
        self._make_line = make_line
        self._scratch: Redis | None = None
        self._words: dict[str, str] | None = None

    def _scratch_client(self) -> Redis:
        if self._scratch is None:
            pool = self._production.connection_pool
            kwargs = dict(pool.connection_kwargs)
            if int(kwargs.get("db", 0) or 0) == self._db:
                raise TesterUnavailable(
                    f"IVR_TESTER_DB={self._db} is the production database: choose another"
                )
            kwargs["db"] = self._db
            scratch = ConnectionPool(
                connection_class=pool.connection_class, max_connections=4, **kwargs
            )
            self._scratch = Redis.from_pool(scratch)
        return self._scratch

    async def aclose(self) -> None:
        """Close the scratch database's connections."""
        if self._scratch is not None:
            await self._scratch.aclose()
            self._scratch = None

    async def place(self, call: TestCall) -> dict[str, Any]:
        """Run one test call; what the caller heard and where the call ends."""
        scratch = self._scratch_client()
        token = secrets.token_hex(8)
        lock_ms = int((self._call_seconds + 30) * 1000)
        await self._lock(scratch, token, lock_ms)
        journal_dir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="ivr-tester-"))
        emptied = False
        try:
            async with scratch.pipeline(transaction=True) as pipe:
                pipe.flushdb()  # leftovers of a process that died mid-call
                pipe.set(keys.TESTER_LOCK, token, px=lock_ms)
                await pipe.execute()
            copied_keys = await self._copy()
            journal = TicketJournal(journal_dir, self._worker_id)
            with captured() as lines:
                result = await self._run(scratch, call, journal)
            journaled = await journal.pending()
        finally:
            await asyncio.to_thread(shutil.rmtree, journal_dir, ignore_errors=True)
            emptied = await self._release(scratch, token)
        if self._words is None:
            self._words = await asyncio.to_thread(prompt_words)
        variables = {k: v for k, v in result.variables.items() if k.startswith("IVR_")}
        ends = call_end(variables, journaled)
        log.info("tester: call %s at %s ended %s", call.caller_id, call.at.isoformat(),
                 variables.get(Var.ROUTE.value, "(no route)"))  # fmt: skip
        failures = [line for line in lines if line.startswith(("ERROR ", "CRITICAL "))]
        note = "a test call: its ticket and call record were discarded"
        if journaled:
            note = redis_failure_note(journaled)
        elif failures:
            note = failure_note(ends, failures[0])
        if failures:  # the service's log hears of the trouble, never of the test ticket
            log.warning("tester: a test call met a failure (%d log lines, shown to the "
                        "administrator)", len(failures))  # fmt: skip
        if not emptied:
            note += (f" (the scratch database {self._db} could not be emptied: "
                     "the next test call empties it)")  # fmt: skip
        return {
            "caller": call.caller_id,
            "at": call.at.isoformat(),
            "ends": ends,
            "variables": variables,
            "steps": with_ticket_note(
                transcript(result.steps, self._words), ends["ticket_outcome"], ends["ticket"]
            ),
            "hung_up_by": result.hung_up_by or None,
            "problems": result.violations,
            "copied_keys": copied_keys,
            "seconds": round(result.seconds, 3),
            "journaled": journaled,
            "failed": bool(failures or journaled),
            "log": lines,
            "note": note,
        }

    async def _release(self, scratch: Redis, token: str) -> bool:
        """Empty the scratch database and free the lock; False when Redis failed (the
        lock expires, and the next test call empties the database first)."""
        try:
            await scratch.eval(_RELEASE, 1, keys.TESTER_LOCK, token)
        except (RedisError, OSError) as exc:
            log.warning("tester: scratch database %d not emptied: %s", self._db, exc)
            return False
        return True

    async def _lock(self, scratch: Redis, token: str, lock_ms: int) -> None:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while not await scratch.set(keys.TESTER_LOCK, token, nx=True, px=lock_ms):
            if time.monotonic() > deadline:
                raise TesterBusy("another test call is running: try again in a moment")
            await asyncio.sleep(0.1)

    async def _copy(self) -> int:
        """Copy the reference keys from production into the scratch database, server-side."""
        count = 0
        batch: list[str] = []
        async for key in self._production.scan_iter(count=SCAN_COUNT):
            name = cast(str, key)
            if copied(name):
                batch.append(name)
            if len(batch) >= COPY_BATCH:
                count += await self._copy_batch(batch)
                batch = []
        if batch:
            count += await self._copy_batch(batch)
        return count

    async def _copy_batch(self, names: list[str]) -> int:
        async with self._production.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.copy(name, name, destination_db=str(self._db), replace=True)
            return sum(1 for done in await pipe.execute() if done)

    async def _run(self, scratch: Redis, call: TestCall, journal: TicketJournal) -> CallResult:
        at = call.at
        server = self._make_line(scratch, lambda: at, journal)
        host, port = await server.start("127.0.0.1", 0)
        try:
            return await FakeAsterisk(host, port).place(
                SimulatedCall(
                    caller_id=call.caller_id,
                    answers=list(call.answers),
                    dialed=call.dialed,
                    unique_id=f"tester-{secrets.token_hex(6)}",
                    caller_name="Call tester",
                    sound_exists=sound_exists(self._sounds_prefix),
                ),
                timeout=self._call_seconds,
            )
        finally:
            await server.close()
