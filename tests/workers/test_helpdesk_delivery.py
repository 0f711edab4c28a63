"""Delivery to a real webhook server: failures, slowness, outages, dead letters, dead consumers."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from ivr.cli import main
from ivr.domain.helpdesk import RetryPolicy, sign, verify
from ivr.store import keys
from ivr.store.outbox import Attempts, HelpdeskOutbox, OutboxEntry, dead_letters
from ivr.store.tickets import TicketStore
from ivr.workers.helpdesk_delivery import Deliverer, Webhook, due_entries
from tests.support.harness import OPEN_HOURS, wait_for
from tests.support.helpdesk_receiver import SECRET, Receiver, eventually
from tests.support.tickets import new_ticket

FAST = RetryPolicy(max_attempts=4, base_seconds=0.02, max_seconds=0.1)


@pytest.fixture
def store(redis: Redis) -> TicketStore:
    """Tickets whose events go to the helpdesk outbox."""
    return TicketStore(redis, outbox=True)


async def outbox_empty(redis: Redis) -> bool:
    """No event is waiting for delivery."""
    return int(await redis.xlen(keys.HELPDESK_OUTBOX)) == 0


async def deliver_until(
    redis: Redis, receiver: Receiver, done: object, *, policy: RetryPolicy = FAST, **kw: float
) -> None:
    """Run a deliverer until ``done()`` holds and the outbox is empty (all settled)."""
    deliverer = Deliverer(
        HelpdeskOutbox(redis, "test"),
        Webhook(receiver.url, SECRET, timeout_seconds=kw.get("timeout", 2.0)),
        policy,
        claim_idle_seconds=kw.get("claim_idle", 60.0),
    )
    task = asyncio.create_task(deliverer.run())
    try:
        await wait_for(done, timeout=kw.get("wait", 10.0))  # type: ignore[arg-type]
        await eventually(lambda: outbox_empty(redis))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_backoff_doubles_up_to_the_cap_and_gives_up_after_the_budget() -> None:
    """1, 2, 4, 8 ... seconds, capped; the eighth failure dead-letters."""
    policy = RetryPolicy(max_attempts=8, base_seconds=1, max_seconds=10)
    assert [policy.delay(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert not policy.gives_up(7)
    assert policy.gives_up(8)


def test_due_entries_waits_for_the_earliest_retry() -> None:
    """Only entries past their due time are tried; the wait is until the next one."""
    a, b = (OutboxEntry(i, "k", "created", "1", "{}") for i in ("1-0", "2-0"))
    due, wait = due_entries([a, b], {"2-0": Attempts(1, due=100.5)}, now=100.0)
    assert due == [a]
    assert wait == pytest.approx(0.5)


def test_signature_is_hmac_sha256_of_the_body() -> None:
    """The receiver's check accepts the body as sent and refuses any change or other secret."""
    header = sign(b'{"a":1}', SECRET)
    assert header.startswith("sha256=")
    assert verify(b'{"a":1}', SECRET, header)
    assert not verify(b'{"a":2}', SECRET, header)
    assert not verify(b'{"a":1}', "another-secret-0123456", header)


async def test_failing_receiver_gets_the_ticket_exactly_once_after_retries(
    redis: Redis, store: TicketStore, receiver: Receiver
) -> None:
    """The first three POSTs fail with 503: the fourth lands, signed, with the full payload."""
    receiver.fail_first = 3
    ticket = await store.create(new_ticket())
    await deliver_until(redis, receiver, lambda: receiver.accepted)
    assert receiver.requests == 4
    [delivery] = receiver.accepted
    assert delivery.signed
    assert delivery.key == f"ivr-ticket-{ticket.number}-1"
    body = delivery.payload
    assert body["event"] == "created"
    assert ticket.sla_due is not None
    expected = {
        "number": ticket.number, "end_customer": "Acme Hospital", "system_type": "UCX450",
        "host_id": "123456", "software_release": "7.2", "emergency": True,
        "tier": "premium_plus", "sla_due": ticket.sla_due.isoformat(),
        "scenario": "/var/spool/asterisk/ivr/call-1",
    }  # fmt: skip
    assert {k: body["ticket"][k] for k in expected} == expected
    assert await redis.xlen(keys.HELPDESK_OUTBOX) == 0  # delivered entries are dropped
    assert await redis.hlen(keys.HELPDESK_ATTEMPTS) == 0


async def test_slow_receiver_gets_duplicates_with_one_idempotency_key(
    redis: Redis, store: TicketStore, receiver: Receiver
) -> None:
    """Answers slower than the timeout are retried; every copy has the same key."""
    receiver.delay, receiver.slow_first = 0.6, 2
    await store.create(new_ticket())
    await deliver_until(redis, receiver, lambda: receiver.requests >= 3, timeout=0.2)
    await wait_for(lambda: len(receiver.accepted) >= 3)  # the slow handlers finish too
    assert len(receiver.keys()) == 1
    assert len(receiver.distinct()) == 1


async def test_receiver_down_then_up_gets_every_event_once(
    redis: Redis, store: TicketStore, receiver: Receiver
) -> None:
    """Connection refused while down; once it listens again, create and ack arrive, in order."""
    await receiver.stop()
    ticket = await store.create(new_ticket())
    await store.acknowledge(ticket.number, "Ana Ruiz", OPEN_HOURS)
    slow = RetryPolicy(max_attempts=50, base_seconds=0.05, max_seconds=0.2)
    deliverer = Deliverer(HelpdeskOutbox(redis, "test"), Webhook(receiver.url, SECRET), slow, 60)
    task = asyncio.create_task(deliverer.run())
    try:
        await eventually(lambda: redis.hlen(keys.HELPDESK_ATTEMPTS))
        await receiver.start()
        await wait_for(lambda: len(receiver.accepted) == 2)
        await eventually(lambda: outbox_empty(redis))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [d.payload["event"] for d in receiver.accepted] == ["created", "acknowledged"]
    assert receiver.keys() == {
        f"ivr-ticket-{ticket.number}-1": 1, f"ivr-ticket-{ticket.number}-2": 1
    }  # fmt: skip


async def test_dead_letter_after_the_budget_then_redeliver_from_the_cli(
    redis: Redis,
    redis_url: str,
    store: TicketStore,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Four failures dead-letter the event; `ivr tickets redeliver` sends it, once."""
    receiver.fail_first = 4
    ticket = await store.create(new_ticket())
    await deliver_until(redis, receiver, lambda: receiver.requests >= 4)
    await eventually(lambda: redis.llen(keys.HELPDESK_DEAD))
    letters = await dead_letters(redis)
    assert [(d["ticket"], d["attempts"], d["error"]) for d in letters] == [
        (ticket.number, "4", "HTTP 503")
    ]
    assert receiver.accepted == []
    monkeypatch.setenv("IVR_REDIS_URL", redis_url)
    assert await asyncio.to_thread(main, ["tickets", "dead"]) == 0
    assert ticket.number in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["tickets", "redeliver"]) == 0
    assert "1 events back" in capsys.readouterr().out
    await deliver_until(redis, receiver, lambda: receiver.accepted)
    assert receiver.keys() == {f"ivr-ticket-{ticket.number}-1": 1}
    assert await dead_letters(redis) == []


async def test_entries_of_a_dead_consumer_are_claimed_and_delivered(
    redis: Redis, store: TicketStore, receiver: Receiver
) -> None:
    """A consumer read the event and died before delivering: another claims it (XAUTOCLAIM)."""
    ticket = await store.create(new_ticket())
    dead = HelpdeskOutbox(redis, "dead-worker")
    await dead.ensure_group()
    assert [e.ticket for e in await dead.new(10, 0.1)] == [ticket.number]
    await deliver_until(redis, receiver, lambda: receiver.accepted, claim_idle=0.1)
    assert receiver.keys() == {f"ivr-ticket-{ticket.number}-1": 1}
    pending = await redis.xpending(keys.HELPDESK_OUTBOX, keys.HELPDESK_GROUP)
    assert pending["pending"] == 0
