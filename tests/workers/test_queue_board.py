"""The AMI consumer against the strict fake AMI over TCP, with the board in a real Redis."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from ivr.ami.client import AmiSettings
from ivr.domain.records import WARRANTY_TITLE, CallRecord, TicketKind
from ivr.store import keys
from ivr.store.live import LiveStore
from ivr.store.stores import Stores
from ivr.workers.queue_board import AmiConsumer
from tests.support.fake_ami import (
    FakeAmi,
    FakeEntry,
    queue_with_agent,
    recorded_events,
)
from tests.support.harness import OPEN_HOURS, Clock

SECRET = "s3cret-for-tests"
QUEUE = "support-premium"


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Poll an async condition until it holds (the consumer writes asynchronously)."""
    async with asyncio.timeout(timeout):
        while not await check():  # noqa: ASYNC110  (the state lives in Redis, not an Event)
            await asyncio.sleep(0.02)


@pytest.fixture
async def ami() -> AsyncIterator[FakeAmi]:
    """A fake Asterisk with one queue and one available agent."""
    async with queue_with_agent(SECRET, QUEUE) as fake:
        yield fake


@pytest.fixture
def live(redis: Redis, settings: Any) -> LiveStore:
    """The live store over the test Redis."""
    return LiveStore(redis, settings.timezone)


@pytest.fixture
async def consumer(ami: FakeAmi, live: LiveStore) -> AsyncIterator[AmiConsumer]:
    """A consumer logged in to the fake, its first rebuild done."""
    port = ami._server.sockets[0].getsockname()[1] if ami._server else 0
    consumer = AmiConsumer(
        AmiSettings(host="127.0.0.1", port=port, username="ivr", secret=SECRET),
        live,
        Clock(OPEN_HOURS),
        ping_interval=0.2,
        ping_timeout=0.5,
    )
    await consumer.start()
    async with asyncio.timeout(10):
        await consumer.rebuilt.wait()
    try:
        yield consumer
    finally:
        await consumer.close()


def _join(uid: str, position: int = 1) -> str:
    return (
        f"Event: QueueCallerJoin\nPrivilege: agent,all\nChannel: PJSIP/trunk-{uid}\n"
        f"CallerIDNum: 2145550100\nCallerIDName: Acme\nUniqueid: {uid}\nLinkedid: {uid}\n"
        f"Queue: {QUEUE}\nPosition: {position}\nCount: {position}"
    )


async def _callers(live: LiveStore) -> list[dict[str, Any]]:
    board = await live.board(OPEN_HOURS)
    queue = next((q for q in board["queues"] if q["name"] == QUEUE), None)
    return list(queue["callers"]) if queue else []


async def test_first_login_rebuilds_from_queue_status(
    consumer: AmiConsumer, ami: FakeAmi, live: LiveStore
) -> None:
    """After login the board holds the queue's agents, and AMI is marked up."""
    board = await live.board(OPEN_HOURS)
    assert [q["name"] for q in board["queues"]] == [QUEUE]
    assert board["queues"][0]["agents"][0]["name"] == "Dana"
    assert board["ami"]["state"] == "up"
    assert ami.count("QueueStatus") == 1
    assert ami.count("QueueSummary") == 1


async def test_caller_joins_identified_from_the_call_record_and_leaves(
    consumer: AmiConsumer, ami: FakeAmi, live: LiveStore, stores: Stores, redis: Redis
) -> None:
    """A caller the IVR handled shows reseller, tier, Host ID and SLA; leaving is counted."""
    ticket = await stores.tickets.create(_new_ticket())
    await stores.calls.save(
        CallRecord(
            call_id="1795570949.13",
            started=OPEN_HOURS,
            caller_id="2145550100",
            route_name="support-line",
            reseller_account="1001",
            host_id="234567",
            ticket=ticket.number,
            decision="queue",
        )
    )
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.LIVE)
    await ami.emit(_join("1795570949.13"))
    await eventually(lambda: _has_identified_caller(live))
    caller = (await _callers(live))[0]
    assert caller["reseller"] == "1001"
    assert caller["reseller_name"]  # the demo reseller's name
    assert caller["tier"] == "premium"
    assert caller["host_id"] == "234567"
    assert caller["ticket"] == ticket.number
    assert ticket.sla_due is not None
    assert caller["sla_due"] == ticket.sla_due.isoformat()
    assert caller["emergency"] is True

    await ami.emit(
        f"Event: QueueCallerLeave\nQueue: {QUEUE}\nUniqueid: 1795570949.13\nPosition: 1\nCount: 0",
        f"Event: AgentConnect\nQueue: {QUEUE}\nUniqueid: 1795570949.13\nInterface: PJSIP/dana\n"
        "MemberName: Dana\nHoldTime: 12\nRingTime: 3",
    )

    async def gone() -> bool:
        return await _callers(live) == []

    await eventually(gone)
    board = await live.board(OPEN_HOURS)
    today = board["queues"][0]["today"]
    assert (today["offered"], today["answered"], today["abandoned"]) == (1, 1, 0)
    assert today["average_wait"] == 12.0
    record = await redis.hgetall(keys.call("1795570949.13"))
    assert (record["queue"], record["queue_wait"], record["queue_outcome"]) == (
        QUEUE, "12.0", "answered",
    )  # fmt: skip
    kinds: list[str] = []
    async with asyncio.timeout(5):
        while len(kinds) < 2:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message:
                kinds.append(message["data"])
    assert all('"kind": "queue"' in k for k in kinds)
    await pubsub.aclose()  # type: ignore[no-untyped-call]


async def _has_identified_caller(live: LiveStore) -> bool:
    callers = await _callers(live)
    return bool(callers) and bool(callers[0]["tier"])


async def test_recorded_queue_events_replayed(consumer: AmiConsumer, live: LiveStore,
                                              ami: FakeAmi) -> None:  # fmt: skip
    """The real recording's events, replayed: a caller appears, then leaves answered."""
    events = recorded_events("ami-queue-events-slow.txt")
    join_at = next(i for i, e in enumerate(events) if e.startswith("Event: QueueCallerJoin"))
    await ami.emit(*events[: join_at + 1])

    async def joined() -> bool:
        board = await live.board(OPEN_HOURS)
        return any(q["name"] == "support-slow" and q["callers"] for q in board["queues"])

    await eventually(joined)
    await ami.emit(*events[join_at + 1 :])

    async def answered() -> bool:
        board = await live.board(OPEN_HOURS)
        slow = [q for q in board["queues"] if q["name"] == "support-slow"]
        return bool(slow) and not slow[0]["callers"] and slow[0]["today"]["answered"] == 1

    await eventually(answered)


async def test_link_drop_marks_stale_then_rebuilds(
    consumer: AmiConsumer, ami: FakeAmi, live: LiveStore
) -> None:
    """A dropped link is stale at once; after reconnecting, QueueStatus is the truth."""
    await ami.emit(_join("gone-during-outage"))

    async def one_caller() -> bool:
        return len(await _callers(live)) == 1

    await eventually(one_caller)
    ami.queues[QUEUE].entries = [FakeEntry("arrived-during-outage", "4695550101", wait=30)]
    ami.drop()

    async def stale() -> bool:
        return bool((await live.ami_status())["state"] == "down")

    await eventually(stale)
    await ami.wait_logins(2)

    async def rebuilt() -> bool:
        callers = await _callers(live)
        status = await live.ami_status()
        return status["state"] == "up" and [c["uniqueid"] for c in callers] == [
            "arrived-during-outage"
        ]

    await eventually(rebuilt)
    assert ami.count("QueueStatus") == 2


async def test_unanswered_ping_drops_and_reconnects(
    consumer: AmiConsumer, ami: FakeAmi, live: LiveStore
) -> None:
    """A half-open link (pings unanswered) is dropped and replaced by a new login."""
    ami.mute_ping = True
    await ami.wait_logins(2, timeout=15)
    ami.mute_ping = False
    await consumer.rebuilt.wait()
    assert ami.count("QueueStatus") >= 2


async def test_link_cut_mid_event_list_recovers(
    consumer: AmiConsumer, ami: FakeAmi, live: LiveStore
) -> None:
    """A drop while QueueStatus is being answered: the next login rebuilds completely."""
    ami.status_delay = 0.5
    ami.drop()
    async with asyncio.timeout(10):
        while ami.count("QueueStatus") < 2:  # noqa: ASYNC110  (counted by the fake's handler)
            await asyncio.sleep(0.02)
    ami.drop()  # while the consumer waits for the list
    ami.status_delay = 0.0
    await ami.wait_logins(3, timeout=15)

    async def up() -> bool:
        return bool((await live.ami_status())["state"] == "up")

    await eventually(up, timeout=15)


def _new_ticket() -> Any:
    from ivr.domain.records import (  # noqa: PLC0415
        EMERGENCY_TITLE,
        NewTicket,
        Tier,
    )

    return NewTicket(
        created=OPEN_HOURS, reseller_account="1001", host_id="234567", end_customer="Contoso",
        system_type="UCX450", software_release="7.1", tier=Tier.PREMIUM, emergency=True,
        title=EMERGENCY_TITLE, sla_due=OPEN_HOURS + dt.timedelta(hours=4), call_id="1795570949.13",
    )  # fmt: skip


async def test_warranty_queue_is_on_the_board_like_any_other(
    live: LiveStore, stores: Stores
) -> None:
    """The warranty queue comes from AMI like the tier queues; its caller shows reseller,
    Host ID and the warranty ticket, with no SLA countdown."""
    warranty_queue = "support-warranty"
    async with queue_with_agent(SECRET, warranty_queue) as fake:
        port = fake._server.sockets[0].getsockname()[1] if fake._server else 0
        consumer = AmiConsumer(
            AmiSettings(host="127.0.0.1", port=port, username="ivr", secret=SECRET),
            live, Clock(OPEN_HOURS), ping_interval=0.2, ping_timeout=0.5,
        )  # fmt: skip
        await consumer.start()
        try:
            async with asyncio.timeout(10):
                await consumer.rebuilt.wait()
            ticket = await stores.tickets.create(
                dataclasses.replace(
                    _new_ticket(), host_id="678901", emergency=False, sla_due=None,
                    kind=TicketKind.WARRANTY, title=WARRANTY_TITLE, call_id="1795570950.14",
                )
            )  # fmt: skip
            await stores.calls.save(
                CallRecord(
                    call_id="1795570950.14", started=OPEN_HOURS, caller_id="2145550100",
                    route_name="support-line", reseller_account="1001", host_id="678901",
                    ticket=ticket.number, decision="queue",
                )
            )  # fmt: skip
            joined = _join("1795570950.14").replace(f"Queue: {QUEUE}", f"Queue: {warranty_queue}")
            await fake.emit(joined)

            async def shown() -> bool:
                board = await live.board(OPEN_HOURS)
                queue = next(q for q in board["queues"] if q["name"] == warranty_queue)
                return bool(queue["callers"]) and bool(queue["callers"][0]["ticket"])

            await eventually(shown)
            board = await live.board(OPEN_HOURS)
            [queue] = board["queues"]
            [caller] = queue["callers"]
            assert (caller["reseller"], caller["host_id"], caller["ticket"]) == (
                "1001",
                "678901",
                ticket.number,
            )
            assert (caller["sla_due"], caller["emergency"]) == ("", False)
            assert queue["agents"][0]["name"] == "Dana"
        finally:
            await consumer.close()
