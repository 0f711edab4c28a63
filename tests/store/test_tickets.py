"""Ticket lifecycle on a real Redis: ack, resolve, audit, repeat emergencies, the CLI."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import cast

import pytest
from redis.asyncio import Redis

from ivr.cli import main
from ivr.domain.records import WARRANTY_TITLE, TicketKind, TicketStatus
from ivr.domain.ticket_events import Verdict
from ivr.store import keys
from ivr.store.journal import TicketJournal
from ivr.store.tickets import TicketStore
from tests.support.harness import OPEN_HOURS
from tests.support.tickets import new_ticket


async def test_twenty_workers_at_once_open_one_emergency(redis: Redis) -> None:
    """Concurrent emergency calls for one Host ID: one ticket, the others are repeat calls."""
    store = TicketStore(redis, outbox=True)
    calls = [
        dataclasses.replace(new_ticket(), call_id=f"c{i}", scenario=f"r{i}") for i in range(20)
    ]
    tickets = await asyncio.gather(*(store.create(c) for c in calls))
    assert {t.number for t in tickets} == {tickets[0].number}
    ticket = await store.get(tickets[0].number)
    assert ticket is not None
    assert ticket.repeat_calls == 19
    assert sorted(ticket.scenario.split("\n")) == sorted(f"r{i}" for i in range(20))
    events = [e["event"] for e in await store.audit(ticket.number)]
    assert events == ["created"] + ["repeat_call"] * 19
    assert await redis.xlen(keys.HELPDESK_OUTBOX) == 20


async def test_resolved_emergency_lets_the_next_call_open_a_new_ticket(redis: Redis) -> None:
    """Once resolved, an emergency no longer takes repeat calls; normal tickets never merge."""
    store = TicketStore(redis)
    first = await store.create(new_ticket())
    await store.resolve(first.number, "Ana", OPEN_HOURS)
    second = await store.create(new_ticket())
    normal = await store.create(new_ticket(emergency=False))
    assert len({first.number, second.number, normal.number}) == 3


async def test_ack_then_resolve_is_audited_and_resolved_refuses_ack(redis: Redis) -> None:
    """open -> acknowledged -> resolved, each with who and when; then ack is refused."""
    store = TicketStore(redis)
    number = (await store.create(new_ticket())).number
    acked = await store.acknowledge(number, "Ana Ruiz", OPEN_HOURS)
    assert acked.verdict is Verdict.CHANGED
    assert (await store.acknowledge(number, "Ben", OPEN_HOURS)).verdict is Verdict.UNCHANGED
    done = await store.resolve(number, "Ben Okafor", OPEN_HOURS, "PSU replaced")
    assert done.ticket is not None
    assert done.ticket.status is TicketStatus.RESOLVED
    raw = await redis.hgetall(keys.ticket(number))
    assert raw["status"] == "resolved"
    assert (raw["acknowledged_by"], raw["resolved_by"]) == ("Ana Ruiz", "Ben Okafor")
    assert raw["resolved_at"] == OPEN_HOURS.isoformat()
    assert (await store.acknowledge(number, "Cy", OPEN_HOURS)).verdict is Verdict.REFUSED
    audit = await store.audit(number)
    assert [(e["event"], e["by"]) for e in audit] == [
        ("created", ""), ("acknowledged", "Ana Ruiz"), ("resolved", "Ben Okafor")
    ]  # fmt: skip
    assert audit[-1]["note"] == "PSU replaced"
    assert (await store.resolve("99999", "x", OPEN_HOURS)).verdict is Verdict.NOT_FOUND


async def test_changes_are_published_on_the_live_channel(redis: Redis) -> None:
    """Every change tells the web layer (kind "ticket") in the same transaction."""
    store = TicketStore(redis)
    async with redis.pubsub() as pubsub:
        await pubsub.subscribe(keys.LIVE)
        number = (await store.create(new_ticket())).number
        await store.acknowledge(number, "Ana", OPEN_HOURS)
        seen = []
        for _ in range(10):  # the subscribe confirmation reads as None
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
            if message is not None:
                seen.append(json.loads(message["data"]))
            if len(seen) == 2:
                break
    assert [(m["kind"], m["event"], m["number"]) for m in seen] == [
        ("ticket", "created", number), ("ticket", "acknowledged", number)
    ]  # fmt: skip


async def test_cli_ack_and_resolve(
    redis: Redis,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`ivr tickets ack N --by` and `resolve N --by --note` as a user types them."""
    number = (await TicketStore(redis).create(new_ticket())).number
    monkeypatch.setenv("IVR_REDIS_URL", redis_url)
    assert await asyncio.to_thread(main, ["tickets", "ack", number, "--by", "Ana"]) == 0
    assert f"ticket {number} now acknowledged" in capsys.readouterr().out
    argv = ["tickets", "resolve", number, "--by", "Ana", "--note", "fixed"]
    assert await asyncio.to_thread(main, argv) == 0
    assert await asyncio.to_thread(main, ["tickets", "ack", number, "--by", "Ana"]) == 1
    assert "cannot be acknowledged" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["tickets", "ack", "424242", "--by", "Ana"]) == 1
    ticket = await TicketStore(redis).get(number)
    assert ticket is not None
    assert (ticket.status, ticket.resolution_note) == (TicketStatus.RESOLVED, "fixed")


async def test_journal_replay_of_a_call_redis_did_record_adds_no_second_ticket(
    redis: Redis,
) -> None:
    """Redis applied the create but its reply was lost, so the caller heard a journal number:
    the replay makes that number a second name of the same ticket, with one event saying so."""
    store = TicketStore(redis, outbox=True)
    created = await store.create(new_ticket())  # the reply that never reached the call
    replayed = await store.create(new_ticket(), number="0010001")  # the journal's replay
    again = await store.create(new_ticket(), number="0010001")  # a second replay
    assert replayed.number == again.number == created.number
    assert not await redis.exists(keys.ticket("0010001"))
    heard = await store.get("0010001")  # option 3 with the number the caller holds
    assert heard is not None
    assert heard.number == created.number
    events = [e["event"] for e in await store.audit(created.number)]
    assert events == ["created", "also_known_as"]
    outbox = cast(list[tuple[str, dict[str, str]]], await redis.xrange(keys.HELPDESK_OUTBOX))
    assert [(e["kind"], e["ticket"]) for _id, e in outbox] == [
        ("created", created.number), ("also_known_as", created.number),
    ]  # fmt: skip
    assert await redis.zcard(keys.TICKETS) == 1


async def test_journal_ticket_of_a_call_redis_never_saw_is_created_under_its_number(
    redis: Redis,
) -> None:
    """The usual outage: nothing in Redis for the call, so the journal number is the ticket."""
    store = TicketStore(redis)
    ticket = await store.create(new_ticket(), number="0010001")
    assert ticket.number == "0010001"
    assert await redis.get(keys.call_ticket("call-1")) == "0010001"


async def test_warranty_ticket_journaled_and_replayed_stays_off_the_sla_clock(
    redis: Redis, tmp_path: Path
) -> None:
    """A warranty ticket written to the journal while Redis was away comes back whole (kind,
    no SLA), goes to the helpdesk with both, and never enters the SLA watch."""
    journal = TicketJournal(tmp_path, worker_id=1)
    new = dataclasses.replace(
        new_ticket(emergency=False), kind=TicketKind.WARRANTY, sla_due=None, title=WARRANTY_TITLE
    )
    number = (await journal.append(new)).number
    store = TicketStore(redis, outbox=True)
    assert await journal.replay(store) == 1
    ticket = await store.get(number)
    assert ticket is not None
    assert (ticket.kind, ticket.sla_due, ticket.title) == (
        TicketKind.WARRANTY,
        None,
        WARRANTY_TITLE,
    )
    assert await redis.zscore(keys.SLA_WATCH, number) is None
    entries = cast(list[tuple[str, dict[str, str]]], await redis.xrange(keys.HELPDESK_OUTBOX))
    [(_id, fields)] = entries
    payload = json.loads(fields["payload"])["ticket"]
    assert (payload["kind"], payload["sla_due"]) == ("warranty", None)
