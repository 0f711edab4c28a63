"""Opening a ticket in two Redis round trips (a snapshot, one checking script), on a real
Redis: the round trips counted on the client's connections, races, the live channel."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import Connection

from ivr.domain.records import FIRST_TICKET_NUMBER, NewTicket
from ivr.store import keys
from ivr.store.ticket_opening import Indexes, OpeningScript, Writes
from ivr.store.tickets import TicketStore
from tests.support.tickets import new_ticket


class CountingConnection(Connection):
    """A connection that counts what it sends at once: one send is one round trip (a
    pipeline's commands go in one send, a script call is one command)."""

    sends = 0

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        type(self).sends += 1
        await super().send_packed_command(command, check_health)


@pytest.fixture
async def counted(redis: Redis, redis_url: str) -> AsyncIterator[Redis]:
    """A client of the test's (emptied) Redis whose connections count their round trips."""
    pool: ConnectionPool = ConnectionPool.from_url(
        redis_url, decode_responses=True, connection_class=CountingConnection
    )
    client: Redis = Redis.from_pool(pool)
    await client.ping()  # the connection's own set-up is not counted
    try:
        yield client
    finally:
        await client.aclose()


async def trips(work: Any) -> int:
    """The round trips one awaited piece of store work takes."""
    before = CountingConnection.sends
    await work
    return CountingConnection.sends - before


def call(index: int, host_id: str = "123456", *, emergency: bool = True) -> NewTicket:
    return dataclasses.replace(
        new_ticket(host_id, emergency=emergency), call_id=f"c{index}", scenario=f"r{index}"
    )


async def test_opening_and_joining_take_two_round_trips_each(counted: Redis) -> None:
    """A new emergency, a repeat call joining it, and a normal ticket: 2 round trips each
    once the script is loaded (loading it is the first call's, once per Redis)."""
    store = TicketStore(counted, outbox=True)
    await store.create(call(0, "999999"))  # loads the script
    assert await trips(store.create(call(1))) == 2
    assert await trips(store.create(call(2))) == 2  # joins the open emergency
    assert await trips(store.create(call(3, emergency=False))) == 2
    ticket = await store.get(str(FIRST_TICKET_NUMBER + 1))
    assert ticket is not None
    assert ticket.repeat_calls == 1
    assert [e["event"] for e in await store.audit(ticket.number)] == ["created", "repeat_call"]


async def test_a_script_lost_by_redis_is_loaded_again(counted: Redis) -> None:
    """After SCRIPT FLUSH (a restarted Redis) the next ticket still opens, and the one
    after it is back to two round trips."""
    store = TicketStore(counted)
    await store.create(call(0))
    await counted.script_flush()
    assert (await store.create(call(1, "222222"))).number == str(FIRST_TICKET_NUMBER + 1)
    assert await trips(store.create(call(2, "333333"))) == 2


async def test_many_repeat_emergencies_at_once_make_one_ticket(redis: Redis) -> None:
    """50 concurrent emergency calls for one Host ID: one ticket, 49 repeat calls, no
    number taken by the others (the next new ticket gets the next number)."""
    store = TicketStore(redis, outbox=True)
    tickets = await asyncio.gather(*(store.create(call(i)) for i in range(50)))
    assert {t.number for t in tickets} == {str(FIRST_TICKET_NUMBER)}
    ticket = await store.get(str(FIRST_TICKET_NUMBER))
    assert ticket is not None
    assert ticket.repeat_calls == 49
    assert [e["seq"] for e in await store.audit(ticket.number)] == list(range(1, 51))
    assert await redis.xlen(keys.HELPDESK_OUTBOX) == 50
    assert (await store.create(call(50, "777777"))).number == str(FIRST_TICKET_NUMBER + 1)


async def test_distinct_calls_at_once_get_distinct_numbers_around_the_helpdesks(
    redis: Redis,
) -> None:
    """50 concurrent calls for 50 Host IDs: 50 consecutive numbers, skipping the numbers
    the helpdesk's tickets hold, each with its ticket, audit entry and call index."""
    held = {str(FIRST_TICKET_NUMBER + 3), str(FIRST_TICKET_NUMBER + 10)}
    for number in held:
        await redis.hset(keys.ticket(number), mapping={"number": number})
    store = TicketStore(redis)
    tickets = await asyncio.gather(*(store.create(call(i, f"{500000 + i}")) for i in range(50)))
    numbers = sorted(int(t.number) for t in tickets)
    expected = list(range(FIRST_TICKET_NUMBER, FIRST_TICKET_NUMBER + 52))
    assert numbers == [n for n in expected if str(n) not in held]
    for i, ticket in enumerate(tickets):
        assert ticket.host_id == f"{500000 + i}"
        assert await redis.get(keys.call_ticket(f"c{i}")) == ticket.number
        assert await redis.llen(keys.ticket_audit(ticket.number)) == 1
    assert await redis.get(keys.TICKET_SEQUENCE) == "52"


async def test_a_commit_on_a_snapshot_that_moved_writes_nothing(redis: Redis) -> None:
    """The script's check: another call took the number (or the index moved) after the
    snapshot; the commit writes nothing and answers the fresh snapshot."""
    script = OpeningScript(redis, FIRST_TICKET_NUMBER)
    indexes = Indexes(keys.open_emergency("1001", "123456"), keys.helpdesk_open("1001", "123456"),
                      emergency=True)  # fmt: skip
    seen = await script.snapshot(indexes)
    assert (seen.current, seen.newest, seen.number) == ("", "", str(FIRST_TICKET_NUMBER))
    opened = await TicketStore(redis).create(call(1))  # took the number and the index
    writes = Writes()
    writes.set("ivr:test:written", "1")
    moved = await script.commit(indexes, seen, seen.number, writes)
    assert moved is not None
    assert (moved.current, moved.number) == (opened.number, str(FIRST_TICKET_NUMBER + 1))
    assert moved.current_hash["number"] == opened.number
    assert await redis.exists("ivr:test:written") == 0
    await redis.hset(keys.ticket(opened.number), "status", "resolved")  # the hash moves
    assert await script.commit(indexes, moved, "", writes) is not None
    assert await redis.exists("ivr:test:written") == 0
    assert await script.commit(indexes, await script.snapshot(indexes), "", writes) is None
    assert await redis.get("ivr:test:written") == "1"


async def test_the_live_notice_goes_to_the_channel_given_or_nowhere(redis: Redis) -> None:
    """``live_channel`` names the channel of the notices; None publishes nothing."""
    pubsub = redis.pubsub()
    await pubsub.subscribe("ivr:test:live", keys.LIVE)
    await pubsub.get_message(timeout=1)
    await pubsub.get_message(timeout=1)
    await TicketStore(redis, live_channel=None).create(call(1))
    await TicketStore(redis, live_channel="ivr:test:live").create(call(2, "222222"))
    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
    assert message is not None
    assert message["channel"] == "ivr:test:live"
    assert '"number": "10002"' in message["data"]
    assert await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2) is None
    await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
