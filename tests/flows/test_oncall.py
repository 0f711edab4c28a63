"""The after-hours Premium Plus path: chain, screening, message, AMI re-paging."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from ivr.agi.simulator import SimulatedCall
from ivr.ami.originate import AmiOriginator
from ivr.config import Settings
from ivr.domain.records import OnCallState, TicketStatus
from ivr.services import build_agi_server
from ivr.store import keys
from ivr.store.stores import Stores
from ivr.workers.repager import Pager, PagingPolicy
from tests.support.calls import EMERGENCY, UNKNOWN_CALLER, played
from tests.support.fake_ami import FakeAmi, originator_on_fake
from tests.support.harness import AFTER_HOURS, Clock, Line
from tests.support.oncall import ROTATION


@pytest.fixture
async def after_hours(stores: Stores, clock: Clock) -> Stores:
    """Night time, with a rotation of Ana and Ben and Sam as manager."""
    clock.now = AFTER_HOURS
    await stores.oncall.set_rotation(ROTATION)
    return stores


async def emergency_ticket(line: Line) -> str:
    """Place an after-hours emergency; return its ticket number."""
    result = await line.call(EMERGENCY)
    assert result.variables["IVR_ROUTE"] == "oncall"
    return result.variables["IVR_TICKET"]


async def test_oncall_chain_handed_to_dialplan(line: Line, after_hours: Stores) -> None:
    """After hours a Premium Plus emergency gets the chain: primary, secondary, manager."""
    result = await line.call(EMERGENCY)
    variables = result.variables
    assert variables["IVR_ROUTE"] == "oncall"
    assert variables["IVR_ONCALL_STEPS"] == "3"
    assert [variables[f"IVR_ONCALL_DIAL_{i}"] for i in (1, 2, 3)] == [
        "PJSIP/201",
        "PJSIP/202",
        "PJSIP/299@trunk",
    ]
    assert [variables[f"IVR_ONCALL_TIMEOUT_{i}"] for i in (1, 2, 3)] == ["30", "30", "45"]
    ticket = await after_hours.tickets.get(variables["IVR_TICKET"])
    assert ticket is not None
    assert ticket.oncall_state == OnCallState.PAGING.value


async def test_no_rotation_is_the_general_queue_and_the_caller_is_told(
    line: Line, stores: Stores, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """With no rotation: the general queue, said as such; the ticket is not paging; a warning."""
    clock.now = AFTER_HOURS
    result = await line.call(EMERGENCY)
    assert result.variables["IVR_ROUTE"] == "queue"
    assert result.variables["IVR_QUEUE"] == "support-general"
    assert result.variables["IVR_QUEUE_PRIORITY"] == "35"
    assert "IVR_ONCALL_STEPS" not in result.variables
    assert played(result)[-2:] == ["oncall-unavailable", "transfer-general"]
    assert "transfer-oncall" not in played(result)
    ticket = await stores.tickets.get(result.variables["IVR_TICKET"])
    assert ticket is not None
    assert ticket.oncall_state == ""
    assert await stores.tickets.oncall_chain(ticket.number) == ""
    assert "no on-call engineer configured" in caplog.text


async def test_second_engineer_accepts(line: Line, after_hours: Stores) -> None:
    """The primary passes (2), the secondary presses 1: the ticket is Ben's, with the time."""
    number = await emergency_ticket(line)
    first = await line.call("2", caller="201", script=f"oncall-accept?ticket={number}&step=1")
    assert first.variables == {"IVR_ACCEPTED": "0"}
    assert "digits 123456" in [s.text for s in first.steps if s.kind == "say"]
    second = await line.call("1", caller="202", script=f"oncall-accept?ticket={number}&step=2")
    assert second.variables == {"IVR_ACCEPTED": "1"}
    ticket = await after_hours.tickets.get(number)
    assert ticket is not None
    assert (ticket.acknowledged_by, ticket.status) == ("Ben Okafor", TicketStatus.ACKNOWLEDGED)
    assert ticket.acknowledged_at == AFTER_HOURS
    assert ticket.oncall_state == OnCallState.ACCEPTED.value
    pages = await after_hours.tickets.paging_log(number)
    assert [(p["engineer"], p["outcome"]) for p in pages] == [
        ("Ana Ruiz", "declined"),
        ("Ben Okafor", "accepted"),
    ]


async def test_only_first_acceptance_counts(line: Line, after_hours: Stores) -> None:
    """A later engineer hears the ticket is taken; the first acceptance stands."""
    number = await emergency_ticket(line)
    await line.call("1", script=f"oncall-accept?ticket={number}&step=1")
    late = await line.call("1", script=f"oncall-accept?ticket={number}&step=3")
    assert late.variables == {"IVR_ACCEPTED": "0"}
    ticket = await after_hours.tickets.get(number)
    assert ticket is not None
    assert ticket.acknowledged_by == "Ana Ruiz"


async def test_nobody_accepts_caller_leaves_message(
    line: Line, after_hours: Stores, redis: Redis
) -> None:
    """Chain exhausted: the caller records a message; the ticket is unaccepted and re-paged."""
    number = await emergency_ticket(line)
    for step in ("1", "2", "3"):
        await line.call("", script=f"oncall-accept?ticket={number}&step={step}")
    result = await line.call("#", script=f"oncall-message?ticket={number}")
    assert result.variables == {"IVR_ROUTE": "hangup"}
    assert [s.kind for s in result.steps].count("record") == 1
    ticket = await after_hours.tickets.get(number)
    assert ticket is not None
    assert ticket.oncall_state == OnCallState.UNACCEPTED.value
    first_page = await redis.zscore(keys.REPAGE, number)
    gap = dt.timedelta(seconds=Settings().oncall_round_gap_seconds)
    assert first_page == (AFTER_HOURS + gap).timestamp()  # one round gap after the chain
    outcomes = [p["outcome"] for p in await after_hours.tickets.paging_log(number)]
    assert outcomes == ["no-answer", "no-answer", "no-answer"]


async def test_caller_hangs_up_while_chain_is_dialled(
    line: Line, after_hours: Stores, redis: Redis
) -> None:
    """The h extension's call on a dead channel still marks the ticket and schedules pages."""
    number = await emergency_ticket(line)
    result = await line.call("", script=f"oncall-message?ticket={number}", hangup_at=0)
    assert result.closed_by_service
    ticket = await after_hours.tickets.get(number)
    assert ticket is not None
    assert ticket.oncall_state == OnCallState.UNACCEPTED.value
    assert await redis.zscore(keys.REPAGE, number) is not None


async def test_acknowledged_while_the_caller_records_is_not_unaccepted(
    line: Line,
    after_hours: Stores,
    clock: Clock,
    redis: Redis,
    ami: tuple[FakeAmi, AmiOriginator],
) -> None:
    """A supervisor who takes the ticket during the message wins: no unaccepted, no re-page."""
    fake, originator = ami
    number = await emergency_ticket(line)

    async def supervisor_acknowledges(command: str) -> None:
        if command.startswith("RECORD FILE"):
            await after_hours.tickets.acknowledge(number, "Dana (supervisor)", clock())

    call = SimulatedCall(
        caller_id=UNKNOWN_CALLER,
        answers=["#"],
        script=f"oncall-message?ticket={number}",
        before_answer=supervisor_acknowledges,
    )
    result = await line.asterisk.place(call)
    assert result.violations == []
    assert result.variables == {"IVR_ROUTE": "hangup"}
    ticket = await after_hours.tickets.get(number)
    assert ticket is not None
    assert (ticket.status, ticket.acknowledged_by) == (
        TicketStatus.ACKNOWLEDGED,
        "Dana (supervisor)",
    )
    assert ticket.oncall_state != OnCallState.UNACCEPTED.value
    events = [e["event"] for e in await after_hours.tickets.audit(number)]
    assert events == ["created", "acknowledged"]
    assert await redis.zscore(keys.REPAGE, number) is None
    pager = Pager(redis, after_hours.tickets, originator, PagingPolicy(), clock)
    for _ in range(4):
        clock.now += dt.timedelta(minutes=5)
        assert await pager.tick() == 0
    assert fake.originates() == []


async def test_a_resolved_ticket_is_never_marked_unaccepted(
    line: Line, after_hours: Stores, clock: Clock, redis: Redis
) -> None:
    """Resolved before the message ends: the ticket keeps its state and nothing is scheduled."""
    number = await emergency_ticket(line)
    await after_hours.tickets.resolve(number, "Dana (supervisor)", clock(), "fixed remotely")
    assert not await after_hours.tickets.mark_unaccepted(number, clock() + dt.timedelta(minutes=5))
    events = [e["event"] for e in await after_hours.tickets.audit(number)]
    assert events == ["created", "resolved"]
    assert await redis.zscore(keys.REPAGE, number) is None


@pytest.fixture
async def ami() -> AsyncIterator[tuple[FakeAmi, AmiOriginator]]:
    """A fake AMI and a logged-in originator."""
    async with originator_on_fake() as pair:
        yield pair


async def unaccepted_ticket(line: Line, stores: Stores) -> str:
    """An after-hours ticket whose chain passed and whose caller left a message."""
    number = await emergency_ticket(line)
    await line.call("#", script=f"oncall-message?ticket={number}")
    return number


async def test_repaging_rounds_are_bounded_and_recorded(
    line: Line,
    after_hours: Stores,
    clock: Clock,
    redis: Redis,
    ami: tuple[FakeAmi, AmiOriginator],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every step of every round is originated once, then paging gives up, all recorded."""
    fake, originator = ami
    number = await unaccepted_ticket(line, after_hours)
    policy = PagingPolicy(max_rounds=2, round_gap=dt.timedelta(minutes=5))
    pager = Pager(redis, after_hours.tickets, originator, policy, clock)
    clock.now += dt.timedelta(minutes=5)
    sent = []
    for _ in range(12):
        sent.append(await pager.tick())
        assert await pager.tick() == 0  # nothing is due twice
        clock.now += dt.timedelta(minutes=5)
    assert sum(sent) == 6  # 2 rounds x 3 steps
    channels = [o["Channel"][0] for o in fake.originates()]
    assert channels == ["PJSIP/201", "PJSIP/202", "PJSIP/299@trunk"] * 2
    first = fake.originates()[0]
    assert first["Context"] == ["ivr-oncall-page"]
    assert sorted(first["Variable"]) == sorted(
        [f"IVR_TICKET={number}", "IVR_ONCALL_STEP=1", "IVR_PAGE_ROUND=1"]
    )
    assert first["Timeout"] == ["30000"]
    pages = [p for p in await after_hours.tickets.paging_log(number) if p.get("via") == "originate"]
    assert [p["outcome"] for p in pages] == ["paged"] * 6 + ["gave up: rounds used up"]
    assert await redis.zscore(keys.REPAGE, number) is None
    assert "s3cret-for-tests" not in caplog.text


async def test_acceptance_stops_repaging(
    line: Line,
    after_hours: Stores,
    clock: Clock,
    redis: Redis,
    ami: tuple[FakeAmi, AmiOriginator],
) -> None:
    """Once an engineer accepts a re-page, no further page goes out."""
    fake, originator = ami
    number = await unaccepted_ticket(line, after_hours)
    pager = Pager(redis, after_hours.tickets, originator, PagingPolicy(), clock)
    clock.now += dt.timedelta(minutes=5)
    assert await pager.tick() == 1
    accepted = await line.call("1", script=f"oncall-accept?ticket={number}&step=1&round=1")
    assert accepted.variables == {"IVR_ACCEPTED": "1"}
    for _ in range(5):
        clock.now += dt.timedelta(minutes=5)
        assert await pager.tick() == 0
    assert len(fake.originates()) == 1
    ticket = await after_hours.tickets.get(number)
    assert ticket is not None
    assert ticket.acknowledged_by == "Ana Ruiz"


async def test_refused_originate_is_recorded(
    line: Line,
    after_hours: Stores,
    clock: Clock,
    redis: Redis,
    ami: tuple[FakeAmi, AmiOriginator],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Asterisk refusing an Originate is logged and recorded on the ticket."""
    fake, originator = ami
    fake.refuse_originate = True
    number = await unaccepted_ticket(line, after_hours)
    pager = Pager(redis, after_hours.tickets, originator, PagingPolicy(), clock)
    clock.now += dt.timedelta(minutes=5)
    caplog.set_level(logging.INFO)
    assert await pager.tick() == 0
    pages = await after_hours.tickets.paging_log(number)
    assert pages[-1]["outcome"] == "originate failed"
    assert "refused" in caplog.text


async def test_the_first_repage_waits_the_configured_round_gap(
    stores: Stores, settings: Settings, clock: Clock, redis: Redis
) -> None:
    """IVR_ONCALL_ROUND_GAP_SECONDS sets when the first re-page goes out after the message."""
    clock.now = AFTER_HOURS
    await stores.oncall.set_rotation(ROTATION)
    quick = settings.with_overrides(oncall_round_gap_seconds=12)
    server = build_agi_server(stores, quick, clock)
    host, port = await server.start("127.0.0.1", 0)
    try:
        line = Line(server, host, port)
        number = await emergency_ticket(line)
        await line.call("#", script=f"oncall-message?ticket={number}")
    finally:
        await server.close()
    first_page = await redis.zscore(keys.REPAGE, number)
    assert first_page == (AFTER_HOURS + dt.timedelta(seconds=12)).timestamp()
