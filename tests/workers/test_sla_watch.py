"""The SLA watch against a real Redis and a strict fake AMI, on a controlled clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from ivr.ami.originate import AmiOriginator
from ivr.app import start_sla_watch
from ivr.config import Settings
from ivr.domain.records import WARRANTY_TITLE, NewTicket, TicketKind, Tier
from ivr.runtime.clock import now_utc
from ivr.runtime.tasks import stop_task
from ivr.store import keys
from ivr.store.leader import Lease
from ivr.store.sla import SlaStore, sla_standings
from ivr.store.stores import Stores
from ivr.workers.sla_watch import SlaPolicy, SlaWatcher
from tests.support.fake_ami import FakeAmi, originator_on_fake
from tests.support.harness import CHICAGO, Clock

FRIDAY_4PM = dt.datetime(2026, 11, 20, 16, 0, tzinfo=CHICAGO)
CHAIN = json.dumps(
    [
        {"role": "primary", "name": "Ana Ruiz", "dial": "PJSIP/201", "timeout": "30"},
        {"role": "secondary", "name": "Ben Okafor", "dial": "PJSIP/202", "timeout": "30"},
        {"role": "manager", "name": "Sam Lee", "dial": "PJSIP/299@trunk", "timeout": "45"},
    ]
)


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """Chicago time in November 2026 (20th Friday, 23rd Monday, 25th Wednesday)."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=CHICAGO)


async def open_ticket(
    stores: Stores,
    created: dt.datetime,
    tier: Tier,
    *,
    emergency: bool = False,
    chain: str | None = None,
) -> str:
    """Store an open ticket as the call flow does; return its number."""
    calendar = await stores.calendars.calendar(created)
    ticket = await stores.tickets.create(
        NewTicket(
            created=created,
            reseller_account="1001",
            host_id="123456",
            end_customer="Acme Hospital",
            system_type="UCX450",
            software_release="7.2",
            tier=tier,
            emergency=emergency,
            title="Emergency \u2013 System Down" if emergency else "Support request",
            sla_due=calendar.sla_due(tier, created),
            call_id=f"call-{created.timestamp()}",
        ),
        oncall_chain=chain,
    )
    return ticket.number


@pytest.fixture
async def ami() -> AsyncIterator[tuple[FakeAmi, AmiOriginator]]:
    """A fake AMI and a logged-in originator."""
    async with originator_on_fake() as pair:
        yield pair


def watcher(
    stores: Stores,
    clock: Clock,
    originator: AmiOriginator | None = None,
    *,
    ttl: float = 30.0,
    manager: str = "PJSIP/manager",
) -> SlaWatcher:
    """A watcher with its own lease, as one worker would have."""
    return SlaWatcher(
        stores.redis,
        stores.tickets,
        stores.calendars,
        originator,
        SlaPolicy(shares=(0.5, 0.8), manager_dial=manager),
        clock,
        Lease(stores.redis, keys.SLA_LEADER, ttl_seconds=ttl),
    )


@pytest.fixture
async def live(redis: Redis) -> AsyncIterator[PubSub]:
    """A subscriber of the live channel."""
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.LIVE)
    confirmation = await pubsub.get_message(timeout=2)
    assert confirmation is not None
    assert confirmation["type"] == "subscribe"
    try:
        yield pubsub
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped


async def published(pubsub: PubSub) -> list[dict[str, object]]:
    """The SLA alerts published on the live channel so far (ticket notices skipped)."""
    found = []
    while (
        message := await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
    ) is not None:
        data = json.loads(message["data"])
        if data.get("kind") == "sla_alert":
            found.append(data)
    return found


async def test_alerts_at_each_share_then_breach(stores: Stores, clock: Clock, live: PubSub) -> None:
    """A Standard ticket alerts at 50% and 80% of its business-hours SLA, then breaches."""
    number = await open_ticket(stores, FRIDAY_4PM, Tier.STANDARD)
    watch = watcher(stores, clock)
    steps = [
        (local(20, 16, 1), 0),
        (local(23, 16), 0),  # 9 open hours of 24: not yet half
        (local(24, 12), 1),  # 12 open hours: 50%
        (local(24, 13), 0),
        (local(25, 11, 12), 1),  # 80%
        (local(25, 16, 5), 1),  # due at 16:00, seen 5 minutes late
        (local(25, 17), 0),
    ]
    for now, expected in steps:
        clock.now = now
        assert await watch.tick() == expected, now
    alerts = await SlaStore(stores.redis).alerts(number)
    assert [(a.label, a.mark_at, a.at) for a in alerts] == [
        ("50%", local(24, 12), local(24, 12)),
        ("80%", local(25, 11, 12), local(25, 11, 12)),
        ("breach", local(25, 16), local(25, 16, 5)),
    ]
    assert alerts[-1].late_seconds == 300
    messages = await published(live)
    assert [(m["kind"], m["label"], m["breach"]) for m in messages] == [
        ("sla_alert", "50%", False),
        ("sla_alert", "80%", False),
        ("sla_alert", "breach", True),
    ]
    assert messages[0]["ticket"] == number
    assert messages[0]["tier"] == "standard"


async def test_emergency_pages_the_manager_once_per_mark(
    stores: Stores, clock: Clock, ami: tuple[FakeAmi, AmiOriginator]
) -> None:
    """An emergency that never went on-call pages the support manager at each mark, once."""
    fake, originator = ami
    created = local(25, 10)
    number = await open_ticket(stores, created, Tier.PREMIUM, emergency=True)
    watch = watcher(stores, clock, originator)
    for now in (local(25, 12), local(25, 12, 1), local(25, 13, 12), local(25, 14), local(25, 14)):
        clock.now = now
        await watch.tick()
    pages = fake.originates()
    assert [p["Channel"] for p in pages] == [["PJSIP/manager"]] * 3
    assert pages[0]["Context"] == ["ivr-oncall-page"]
    assert sorted(pages[0]["Variable"]) == sorted(
        [f"IVR_TICKET={number}", "IVR_ONCALL_STEP=manager", "IVR_PAGE_ROUND=sla"]
    )
    alerts = await SlaStore(stores.redis).alerts(number)
    assert [a.paged for a in alerts] == ["support manager: paged"] * 3
    log = [p for p in await stores.tickets.paging_log(number) if p["round"] == "sla"]
    assert [p["via"] for p in log] == ["sla 50%", "sla 80%", "sla breach"]


async def test_emergency_on_call_escalates_along_its_chain(
    stores: Stores, clock: Clock, ami: tuple[FakeAmi, AmiOriginator]
) -> None:
    """An after-hours emergency pages its chain: primary at 50%, secondary at 80%, then manager."""
    fake, originator = ami
    number = await open_ticket(
        stores, local(25, 22), Tier.PREMIUM_PLUS, emergency=True, chain=CHAIN
    )
    watch = watcher(stores, clock, originator)
    for now in (local(25, 23), local(25, 23, 36), local(26, 0)):
        clock.now = now
        assert await watch.tick() == 1
    assert [p["Channel"][0] for p in fake.originates()] == [
        "PJSIP/201",
        "PJSIP/202",
        "PJSIP/299@trunk",
    ]
    assert [p["Timeout"][0] for p in fake.originates()] == ["30000", "30000", "45000"]
    assert f"IVR_TICKET={number}" in fake.originates()[2]["Variable"]
    assert "IVR_ONCALL_STEP=3" in fake.originates()[2]["Variable"]


async def test_acknowledged_ticket_raises_nothing_more(
    stores: Stores, clock: Clock, ami: tuple[FakeAmi, AmiOriginator], live: PubSub
) -> None:
    """Once acknowledged, no further alert, page or breach; the ticket leaves the watch."""
    fake, originator = ami
    number = await open_ticket(stores, local(25, 10), Tier.PREMIUM, emergency=True)
    watch = watcher(stores, clock, originator)
    clock.now = local(25, 12)
    assert await watch.tick() == 1
    # What the acknowledge command writes.
    await stores.redis.hset(
        keys.ticket(number),
        mapping={
            "status": "acknowledged",
            "acknowledged_by": "Ana Ruiz",
            "acknowledged_at": local(25, 12, 30).isoformat(),
        },
    )
    for now in (local(25, 13, 12), local(25, 14, 30), local(26, 9)):
        clock.now = now
        assert await watch.tick() == 0
    assert len(fake.originates()) == 1
    assert [m["label"] for m in await published(live)] == ["50%"]
    assert await stores.redis.zscore(keys.SLA_WATCH, number) is None


async def test_catch_up_alerts_only_the_latest_mark(
    stores: Stores, clock: Clock, ami: tuple[FakeAmi, AmiOriginator]
) -> None:
    """After an outage past the due time: one breach page; earlier marks recorded as passed."""
    fake, originator = ami
    number = await open_ticket(stores, local(25, 10), Tier.PREMIUM, emergency=True)
    clock.now = local(25, 15)
    assert await watcher(stores, clock, originator).tick() == 1
    assert len(fake.originates()) == 1
    alerts = await SlaStore(stores.redis).alerts(number)
    assert [(a.label, a.passed_over) for a in alerts] == [
        ("50%", True),
        ("80%", True),
        ("breach", False),
    ]
    assert alerts[-1].late_seconds == 3600
    # Still open and late: watched, so the live page lists it.
    standings = await sla_standings(stores.redis, stores.tickets, stores.calendars, clock.now)
    assert [(s.ticket, s.seconds_left, s.alerts) for s in standings] == [
        (number, -3600.0, ("50%", "80%", "breach"))
    ]


async def test_restart_does_not_page_again(
    stores: Stores, clock: Clock, ami: tuple[FakeAmi, AmiOriginator]
) -> None:
    """A new watcher (a restarted worker) finds the raised marks in Redis: no second page."""
    fake, originator = ami
    number = await open_ticket(stores, local(25, 10), Tier.PREMIUM, emergency=True)
    clock.now = local(25, 12)
    first = watcher(stores, clock, originator)
    assert await first.tick() == 1
    await stores.redis.delete(keys.SLA_LEADER)  # the first worker is gone
    await stores.redis.zadd(keys.SLA_WATCH, {number: 0})  # even if asked to look again
    restarted = watcher(stores, clock, originator)
    assert await restarted.tick() == 0
    assert len(fake.originates()) == 1


async def test_one_watcher_acts_and_another_takes_over_after_expiry(
    stores: Stores, clock: Clock, ami: tuple[FakeAmi, AmiOriginator]
) -> None:
    """Two workers: only the lease holder acts; when it dies the other takes over on expiry."""
    fake, originator = ami
    await open_ticket(stores, local(25, 10), Tier.PREMIUM, emergency=True)
    one = watcher(stores, clock, originator, ttl=0.3)
    two = watcher(stores, clock, originator, ttl=0.3)
    clock.now = local(25, 12)
    assert await one.tick() == 1
    assert await two.tick() is None
    assert len(fake.originates()) == 1
    # "one" stops renewing (it died): "two" gets the watch once the lease expires.
    clock.now = local(25, 13, 12)
    results: list[int | None] = []

    async def two_tries() -> bool:
        results.append(await two.tick())
        return results[-1] is not None

    deadline = asyncio.get_running_loop().time() + 5
    while not await two_tries():
        assert asyncio.get_running_loop().time() < deadline, "the lease never expired"
        await asyncio.sleep(0.05)
    assert results[-1] == 1
    assert await one.tick() is None  # back from the dead: the lease is someone else's
    assert len(fake.originates()) == 2


async def test_clean_stop_hands_the_watch_over_at_once(
    stores: Stores, settings: Settings, redis: Redis
) -> None:
    """``ivr serve``'s watch raises a breach in the background; stopping it frees the lease."""
    created = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    number = await open_ticket(stores, created, Tier.PREMIUM_PLUS)
    task = start_sla_watch(stores, settings.with_overrides(sla_check_seconds=0.5), None, now_utc)
    store = SlaStore(redis)

    async def labels() -> list[str]:
        return [a.label for a in await store.alerts(number)]

    try:
        found: list[str] = []
        deadline = asyncio.get_running_loop().time() + 5
        while "breach" not in found:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
            found = await labels()
        assert await redis.get(keys.SLA_LEADER) is not None
    finally:
        await stop_task(task)
    assert await redis.get(keys.SLA_LEADER) is None


async def test_warranty_tickets_are_never_alerted(stores: Stores, clock: Clock) -> None:
    """A best-effort (warranty) ticket is not watched; put in the watch anyway, it is dropped
    without an alert, a page or a place on the live SLA panel."""
    created = local(20, 10)
    ticket = await stores.tickets.create(
        NewTicket(
            created=created, reseller_account="1001", host_id="678901",
            end_customer="Frontier Pharmacy", system_type="UCX450", software_release="7.1.3",
            tier=Tier.STANDARD, emergency=False, title=WARRANTY_TITLE, sla_due=None,
            call_id="call-w", kind=TicketKind.WARRANTY,
        )
    )  # fmt: skip
    assert await stores.redis.zscore(keys.SLA_WATCH, ticket.number) is None
    await stores.redis.zadd(keys.SLA_WATCH, {ticket.number: created.timestamp()})
    assert await sla_standings(stores.redis, stores.tickets, stores.calendars, local(25, 10)) == []
    clock.now = local(25, 10)
    assert await watcher(stores, clock).tick() == 0
    assert await stores.redis.zscore(keys.SLA_WATCH, ticket.number) is None
    assert await SlaStore(stores.redis).alerts(ticket.number) == []


async def test_an_escalation_restarts_the_marks_from_the_call(stores: Stores, clock: Clock) -> None:
    """Acknowledged, then escalated by phone on Tuesday 13:00: the clock starts again there
    (24 Standard hours, Thanksgiving closed: due Monday 13:00), the earlier 50% alert is
    cleared, and the new 50% falls on Wednesday 17:00."""
    number = await open_ticket(stores, FRIDAY_4PM, Tier.STANDARD)
    watch = watcher(stores, clock)
    clock.now = local(24, 12)
    assert await watch.tick() == 1
    await stores.tickets.acknowledge(number, "Ana Ruiz", local(24, 12, 30))
    at = local(24, 13)
    calendar = await stores.calendars.calendar(at)
    ticket = await stores.tickets.get(number)
    assert ticket is not None
    call = NewTicket(
        created=at, reseller_account="1001", host_id="123456", end_customer="Acme Hospital",
        system_type="UCX450", software_release="7.2", tier=Tier.STANDARD, emergency=True,
        title="Emergency \u2013 System Down", sla_due=calendar.sla_due(Tier.STANDARD, at),
        call_id="escalating-call",
    )  # fmt: skip
    escalated = await stores.tickets.escalate(number, call)
    assert escalated is not None
    assert (escalated.sla_start, escalated.sla_due) == (at, local(30, 13))
    assert await SlaStore(stores.redis).raised(number) == frozenset()
    for now, expected in ((local(25, 16, 59), 0), (local(25, 17), 1)):
        clock.now = now
        assert await watch.tick() == expected, now
    [alert] = await SlaStore(stores.redis).alerts(number)
    assert (alert.label, alert.mark_at) == ("50%", local(25, 17))
