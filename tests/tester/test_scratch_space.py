"""Nothing a test call does is seen outside its scratch space, and it answers as the real line.

Pub/sub ignores database numbers, so a live notice published through the scratch
database's client reaches every dashboard of the server; the helpdesk outbox,
the service's journal and its log are outside the scratch database too.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from ivr.cli import main
from ivr.commands.call import call_json
from ivr.config import Settings
from ivr.domain.variables import Var
from ivr.services import call_tester_line
from ivr.store import keys
from ivr.store.live import LiveStore
from ivr.store.pins import PinHasher
from ivr.store.stores import Stores
from ivr.tester.engine import CallTester
from ivr.tester.rules import TestCall, copied
from tests.support.calls import EMERGENCY, UNKNOWN_CALLER
from tests.support.harness import CHICAGO, OPEN_HOURS, Line

NORMAL = "2 1001# 2468# 123456# 1 #"  # option 2: a normal ticket for Host ID 123456
TICKET_LINE = re.compile(r"\bticket\b\D*\d", re.IGNORECASE)


def _tester(redis: Redis, settings: Settings, pins: PinHasher) -> CallTester:
    return CallTester(redis, settings, call_tester_line(settings, pins))


async def _test_call(tester: CallTester, dtmf: str, at: dt.datetime = OPEN_HOURS) -> Any:
    answers = tuple(a or None for a in dtmf.split(" "))
    return await tester.place(TestCall(UNKNOWN_CALLER, at, answers))


async def _snapshot(redis: Redis) -> dict[str, bytes | None]:
    """Every key of the production database with its serialized value."""
    found = sorted([k async for k in redis.scan_iter(count=1000)])
    return {k: await redis.dump(k) for k in found}


@contextlib.asynccontextmanager
async def _monitor(redis_url: str) -> AsyncIterator[list[str]]:
    """Every command the Redis server runs while the block runs, in any database
    (MONITOR), as ``db command...`` strings."""
    client = Redis.from_url(redis_url, decode_responses=True)
    seen: list[str] = []
    end = "end-of-monitor"
    try:
        async with client.monitor() as monitor:

            async def collect() -> None:
                while True:
                    command = await monitor.next_command()
                    seen.append(f"{command['db']} {command['command']}")
                    if end in command["command"]:
                        return

            task = asyncio.create_task(collect())
            yield seen
            async with Redis.from_url(redis_url) as other:
                await other.echo(end)
            await asyncio.wait_for(task, timeout=10)
    finally:
        await client.aclose()


async def test_a_test_call_is_invisible_outside_its_scratch_space(
    redis: Redis,
    redis_url: str,
    settings: Settings,
    stores: Stores,
    fast_pins: PinHasher,
    line: Line,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A dashboard subscribed to the production Redis hears nothing of a test call; the
    call queues no helpdesk event (the webhook is configured), changes no production
    key or metric, and leaves no INFO line naming a ticket in the service's log. The
    same call on the real line is heard: the subscription works."""
    hooked = settings.with_overrides(helpdesk_url="http://127.0.0.1:9/hook",
                                     helpdesk_secret="s" * 32)  # fmt: skip
    tester = _tester(redis, hooked, fast_pins)
    board = LiveStore(redis, CHICAGO)
    dashboard = Redis.from_url(redis_url, decode_responses=True)  # database 0: production
    pubsub = dashboard.pubsub()
    await pubsub.subscribe(keys.LIVE)
    subscribed = await pubsub.get_message(timeout=2)
    assert subscribed is not None
    assert subscribed["type"] == "subscribe"
    try:
        before, metrics_before = await _snapshot(redis), await board.board(OPEN_HOURS)
        caplog.clear()
        caplog.set_level(logging.INFO)
        async with _monitor(redis_url) as commands:
            result = await _test_call(tester, EMERGENCY)
        service_log = [r for r in caplog.records if r.levelno >= logging.INFO]
        heard = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        after, metrics_after = await _snapshot(redis), await board.board(OPEN_HOURS)

        assert result["ends"]["ticket"], result  # the test call did open a (scratch) ticket
        assert heard is None, heard
        assert not [c for c in commands if keys.HELPDESK_OUTBOX in c], "a helpdesk event queued"
        assert not [c for c in commands if "PUBLISH" in c.upper()], "something published"
        assert after == before
        assert metrics_after == metrics_before
        named = [r.getMessage() for r in service_log if TICKET_LINE.search(r.getMessage())]
        assert named == [], named
        # The call's own lines come with the answer instead.
        assert any(f"ticket {result['ends']['ticket']} opened" in x for x in result["log"])

        real = await line.call(EMERGENCY)
        notice = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2.0)
        assert notice is not None
        assert real.variables[Var.TICKET.value] in notice["data"]
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
        await dashboard.aclose()
        await tester.aclose()


async def test_redis_failing_in_a_test_call_leaves_the_service_journal_alone(
    redis: Redis, settings: Settings, stores: Stores, fast_pins: PinHasher
) -> None:
    """Redis refusing the ticket mid-call: the caller gets a journal number, as on the
    real line, from a journal of the test call's own; the service's data directory
    gets no journal line (its replay would create the ticket in production), and the
    answer says plainly what happened."""
    # A real Redis error at the moment of opening the ticket: the counter is no counter.
    await redis.delete(keys.TICKET_SEQUENCE)
    await redis.hset(keys.TICKET_SEQUENCE, "not", "a counter")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    listing = sorted(p.name for p in settings.data_dir.iterdir())
    tester = _tester(redis, settings, fast_pins)
    try:
        result = await _test_call(tester, NORMAL)
    finally:
        await tester.aclose()
    assert sorted(p.name for p in settings.data_dir.iterdir()) == listing
    assert not (settings.data_dir / "tickets.journal").exists()
    number = result["ends"]["ticket"]
    assert number.startswith("0"), result["ends"]  # a journal number, as the caller heard
    assert result["journaled"] == [number]
    assert "Redis failed" in result["note"]
    assert number in result["note"]
    assert result["ends"]["ticket_outcome"] == f"ticket {number} kept in the journal (Redis failed)"
    assert result["ends"]["route"] == "queue"
    assert result["failed"]


async def test_tester_and_real_line_agree_on_a_repeat_emergency(
    redis: Redis,
    settings: Settings,
    stores: Stores,
    fast_pins: PinHasher,
    line: Line,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With an emergency open for Host ID 123456, a test call and a real call both join
    it: same ticket, same route; the transcript, the JSON and the log say "joined ticket
    N (repeat call)", never "ticket N opened". The production ticket is not touched."""
    first = await line.call(EMERGENCY)
    number = first.variables[Var.TICKET.value]
    assert Var.TICKET_JOINED.value not in first.variables
    opened = await redis.hgetall(keys.ticket(number))

    tester = _tester(redis, settings, fast_pins)
    try:
        tested = await _test_call(tester, EMERGENCY)
    finally:
        await tester.aclose()
    assert await redis.hgetall(keys.ticket(number)) == opened  # read, never written

    caplog.clear()
    caplog.set_level(logging.INFO)
    real = await line.call(EMERGENCY)
    joined = f"joined ticket {number} (repeat call)"
    real_ends = {name: real.variables.get(var.value, "") for name, var in (
        ("route", Var.ROUTE), ("queue", Var.QUEUE), ("priority", Var.QUEUE_PRIORITY),
        ("ticket", Var.TICKET), ("oncall_dial", Var.ONCALL_DIAL), ("sla_due", Var.SLA_DUE),
    )}  # fmt: skip
    assert real_ends["ticket"] == number
    assert {k: tested["ends"][k] for k in real_ends} == real_ends
    assert real.variables[Var.TICKET_JOINED.value] == "repeat_call"
    # The JSON (the tester's and ivr call's), the transcript and the logs.
    assert tested["ends"]["ticket_outcome"] == joined
    assert call_json(real)["ticket_outcome"] == joined
    assert {"kind": "note", "text": joined} in tested["steps"]
    note = tested["steps"].index({"kind": "note", "text": joined})
    assert tested["steps"][note - 1] == {"kind": "say", "text": f"digits {number}"}
    assert any(joined in x for x in tested["log"]), tested["log"]
    assert not any(f"ticket {number} opened" in x for x in tested["log"])
    messages = [r.getMessage() for r in caplog.records]
    assert any(joined in m for m in messages), messages
    assert not any(f"ticket {number} opened" in m for m in messages)


async def test_ivr_call_says_joined_for_a_repeat_emergency(
    redis_url: str,
    stores: Stores,
    line: Line,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``ivr call`` prints what the call did with its ticket in the same words: a first
    emergency "ticket N opened", the repeat call "joined ticket N (repeat call)"."""
    monkeypatch.setenv("IVR_REDIS_URL", redis_url)
    argv = ["call", "--from", UNKNOWN_CALLER, "--dtmf", EMERGENCY,
            "--agi-host", line.host, "--agi-port", str(line.port)]  # fmt: skip
    assert await asyncio.to_thread(main, argv) == 0
    first = capsys.readouterr().out
    number = re.findall(r"-> ticket (\d+) opened", first)
    assert len(number) == 1, first
    assert await asyncio.to_thread(main, [*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ticket_outcome"] == f"joined ticket {number[0]} (repeat call)"
    assert await asyncio.to_thread(main, argv) == 0
    again = capsys.readouterr().out
    assert f"-> joined ticket {number[0]} (repeat call)" in again
    assert f"ticket {number[0]} opened" not in again


async def test_redis_failing_before_the_ticket_is_said_plainly(
    redis: Redis,
    settings: Settings,
    stores: Stores,
    fast_pins: PinHasher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis refusing the caller's phone lookup: the caller goes to the general queue, as
    on the real line, and the answer says so with the error; the service's log is told
    of a failure, not of the call's lines."""
    await redis.set(keys.phone(UNKNOWN_CALLER), "not a set of accounts")
    tester = _tester(redis, settings, fast_pins)
    caplog.set_level(logging.INFO)
    try:
        result = await _test_call(tester, NORMAL)
    finally:
        await tester.aclose()
    assert result["failed"]
    assert result["ends"]["queue"] == "support-general"
    assert "failed part-way" in result["note"]
    assert "WRONGTYPE" in result["note"]
    assert "support-general" in result["note"]
    assert any(r.levelno == logging.WARNING and "tester: a test call met a failure"
               in r.getMessage() for r in caplog.records)  # fmt: skip
    assert not any("call=tester-" in r.getMessage() for r in caplog.records)


def test_the_open_emergency_per_host_id_is_copied() -> None:
    """The index a repeat emergency call joins by is reference data for the tester."""
    assert copied(keys.open_emergency("1001", "123456"))
    assert not copied(keys.open_emergency("1001", "123456") + ":x")
