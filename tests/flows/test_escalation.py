"""Option 1 with a ticket in hand, and option 3 on a helpdesk ticket: whole calls on the strict
fake Asterisk, real Redis, the real web endpoint and a real helpdesk webhook.

Demo data (ivr/demo): reseller 1001 (PIN 2468) owns 123456 (Premium Plus, Acme
Hospital), 234567 (Premium, Baker Law Offices) and 456789 (Premium, expired
2024-03-31); reseller 1002 (PIN 1357) owns 567890.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from redis.asyncio import Redis

from ivr.config import Settings
from ivr.domain.helpdesk import RetryPolicy
from ivr.domain.oncall import Engineer, Rotation
from ivr.domain.records import EMERGENCY_TITLE, OnCallState, TicketSource, TicketStatus
from ivr.store import keys
from ivr.store.outbox import HelpdeskOutbox
from ivr.store.stores import Stores
from ivr.workers.helpdesk_delivery import Deliverer, Webhook
from tests.support.calls import played, said
from tests.support.harness import AFTER_HOURS, CHICAGO, Clock, Line, wait_for
from tests.support.helpdesk_receiver import Receiver
from tests.support.helpdesk_sender import PATH, SECRET, event_body, post_event, take_in
from tests.support.web_harness import running_dashboard

# Option 1, account 1001, PIN 2468, ticket 77001, 1 to confirm the read-back, # ends the recording.
WITH_TICKET = "1 1001# 2468# 77001# 1 #"
AN_HOUR_BEFORE = "2026-11-25T09:00:00-06:00"
ROTATION = Rotation(
    engineers=(Engineer("Ana Ruiz", "PJSIP/201"), Engineer("Ben Okafor", "PJSIP/202")),
    starts=dt.datetime(2026, 11, 23, 9, 0, tzinfo=CHICAGO),
    tz=CHICAGO,
    manager=Engineer("Sam Lee", "PJSIP/299@trunk"),
)
READ_BACK = ["ticket-in-hand", "ticket-in-hand-read-back", "ticket-in-hand-customer",
             "ticket-in-hand-host-id", "host-id-confirm"]  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path, receiver: Receiver) -> Settings:
    """The helpdesk webhook configured both ways: events out to the receiver, in signed."""
    return Settings(data_dir=tmp_path / "data", helpdesk_url=receiver.url, helpdesk_secret=SECRET)


async def deliver(redis: Redis, receiver: Receiver, count: int) -> None:
    """Run the outbox's deliverer until the receiver has ``count`` events."""
    policy = RetryPolicy(max_attempts=3, base_seconds=0.05, max_seconds=0.1)
    deliverer = Deliverer(HelpdeskOutbox(redis, "test"), Webhook(receiver.url, SECRET), policy, 60)
    task = asyncio.create_task(deliverer.run())
    try:
        await wait_for(lambda: len(receiver.accepted) >= count, timeout=10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_posted_ticket_is_escalated_by_phone_and_the_helpdesk_is_told(
    line: Line, stores: Stores, redis: Redis, settings: Settings, receiver: Receiver
) -> None:
    """Posted signed, escalated with option 1: read back, no Host ID step, emergency priority,
    SLA restarted, recording appended, and a signed ``escalated`` event delivered."""
    async with running_dashboard(redis, settings) as web:
        body = event_body(created_at=AN_HOUR_BEFORE, updated_at=AN_HOUR_BEFORE,
                          sla_due="2026-11-26T09:00:00-06:00")  # fmt: skip
        assert (await post_event(web.base + PATH, body, "hd-77001-1"))[0] == 201
    result = await line.call(WITH_TICKET)
    heard = played(result)
    assert heard[heard.index("ticket-in-hand") :][:5] == READ_BACK
    assert "enter-host-id" not in heard
    assert heard[-3:] == ["emergency-ticket-created", "sla-response-by", "transfer-queue"]
    assert said(result)[:3] == ["digits 77001", "alpha Baker Law Offices", "digits 234567"]
    assert result.variables == {
        "IVR_ROUTE": "queue", "IVR_QUEUE": "support-premium", "IVR_QUEUE_PRIORITY": "25",
        "IVR_RESELLER": "1001", "IVR_HOST_ID": "234567", "IVR_TIER": "premium",
        "IVR_TICKET": "77001", "IVR_EMERGENCY": "1", "IVR_TICKET_JOINED": "escalated",
        "IVR_SLA_DUE": "2026-11-25T14:00:00-06:00",  # 4 Premium hours from the call, sooner
    }  # fmt: skip
    ticket = await stores.tickets.get("77001")
    assert ticket is not None
    assert ticket.emergency
    assert ticket.title == f"{EMERGENCY_TITLE}: Calls dropping"
    assert ticket.scenario.split("\n")[0] == "Calls drop after 30 seconds on every trunk."
    assert ticket.recordings.endswith(".wav")
    assert ticket.scenario.endswith(ticket.recordings)
    assert ticket.sla_start == ticket.escalated_at
    assert await redis.zscore(keys.SLA_WATCH, "77001") is not None
    record = await stores.calls.get((await stores.calls.recent_ids())[0])
    assert record is not None
    assert record.steps == ["menu:1", "authenticated", "ticket_in_hand", "coverage:active",
                            "escalated", "ticket"]  # fmt: skip
    await deliver(redis, receiver, 1)
    [delivery] = receiver.accepted
    assert delivery.signed
    assert delivery.key == "ivr-ticket-77001-2"  # 1: taken in from the helpdesk, not echoed
    assert delivery.payload["event"] == "escalated"
    sent = delivery.payload["ticket"]
    assert (sent["number"], sent["emergency"], sent["title"], sent["source"]) == (
        "77001", True, f"{EMERGENCY_TITLE}: Calls dropping", "helpdesk",
    )  # fmt: skip
    assert sent["sla_due"] == "2026-11-25T14:00:00-06:00"


async def test_premium_plus_after_hours_goes_on_call_and_the_engineer_can_accept(
    line: Line, stores: Stores, clock: Clock
) -> None:
    """A ticket the helpdesk had acknowledged is reopened by the escalation: the on-call chain
    is paged at emergency priority and the first engineer to press 1 owns it."""
    clock.now = AFTER_HOURS
    await stores.oncall.set_rotation(ROTATION)
    await take_in(stores, number="77002", host_id="123456", status="acknowledged",
                  acknowledged_by="Hal at the helpdesk", end_customer="Acme Hospital",
                  created_at=AN_HOUR_BEFORE, updated_at=AN_HOUR_BEFORE)  # fmt: skip
    result = await line.call("1 1001# 2468# 77002# 1 #")
    assert "alpha Acme Hospital" in said(result)
    variables = result.variables
    assert (variables["IVR_ROUTE"], variables["IVR_TICKET"], variables["IVR_ONCALL_STEPS"]) == (
        "oncall", "77002", "3",
    )  # fmt: skip
    assert variables["IVR_QUEUE_PRIORITY"] == "35"
    ticket = await stores.tickets.get("77002")
    assert ticket is not None
    assert (ticket.status, ticket.acknowledged_by, ticket.oncall_state) == (
        TicketStatus.OPEN, "", OnCallState.PAGING.value,
    )  # fmt: skip
    # Acknowledged: the response it waited for was given, so the emergency's clock starts now.
    assert ticket.sla_due == AFTER_HOURS + dt.timedelta(hours=2)
    accept = await line.call("1", script="oncall-accept?ticket=77002&step=1")
    assert accept.variables["IVR_ACCEPTED"] == "1"


async def test_not_found_not_theirs_and_resolved_sound_the_same(line: Line, stores: Stores) -> None:
    """A number that does not exist, another reseller's ticket and a resolved one: one answer,
    then the usual emergency path (Host ID) opens a new ticket."""
    await take_in(stores, number="77010", reseller="1002", host_id="567890")
    await take_in(stores, number="77011", status="resolved", event="resolved")
    results = [await line.call(f"1 1001# 2468# {n}# 123456# 1 #") for n in ("77099", "77010",
                                                                            "77011")]  # fmt: skip
    assert played(results[0]) == played(results[1]) == played(results[2])
    assert said(results[0])[0] == "digits 123456"  # nothing of the ticket was read back
    heard = played(results[0])
    assert heard[heard.index("ticket-in-hand") + 1 :][:2] == [
        "ticket-in-hand-not-found", "enter-host-id",
    ]  # fmt: skip
    assert [r.variables["IVR_TICKET"] for r in results] == ["10001"] * 3  # one emergency, joined
    for number in ("77010", "77011"):
        kept = await stores.tickets.get(number)
        assert kept is not None
        assert not kept.emergency


@pytest.mark.parametrize(
    ("opened", "route", "emergency"),
    [
        ("2024-03-01T10:00:00-06:00", "queue", True),
        ("2024-05-01T10:00:00-05:00", "renewals", False),
    ],
)
async def test_a_ticket_keeps_the_cover_it_was_opened_under(
    line: Line, stores: Stores, opened: str, route: str, emergency: bool
) -> None:
    """Host ID 456789's contract ended 2024-03-31: a ticket opened before keeps its cover and is
    escalated; one opened after goes to renewals, unescalated."""
    await take_in(stores, host_id="456789", end_customer="Delta Freight",
                  created_at=opened, updated_at=opened)  # fmt: skip
    result = await line.call(WITH_TICKET)
    assert result.variables["IVR_ROUTE"] == route
    assert ("contract-expired" in played(result)) is (route == "renewals")
    ticket = await stores.tickets.get("77001")
    assert ticket is not None
    assert ticket.emergency is emergency


async def test_pound_or_another_read_back_answer(line: Line, stores: Stores) -> None:
    """Pound: no ticket in hand, the usual path; 2 at the read-back: the number is asked again."""
    await take_in(stores, host_id="345678", end_customer="Cole Family Dental")
    plain = await line.call("1 1001# 2468# # 123456# 1 #")
    assert plain.variables["IVR_TICKET"] == "10001"
    again = await line.call("1 1001# 2468# 77001# 2 77001# 1 #")
    assert played(again).count("ticket-in-hand") == 2
    assert again.variables["IVR_TICKET"] == "77001"


async def test_an_emergency_call_joins_the_open_helpdesk_ticket_for_its_host_id(
    line: Line, stores: Stores
) -> None:
    """No number given, but the reseller has an open helpdesk ticket for the Host ID: that
    ticket is escalated instead of a second opened; the next call is a repeat call on it."""
    await take_in(stores, number="77020", created_at=AN_HOUR_BEFORE, updated_at=AN_HOUR_BEFORE)
    await take_in(stores, number="77021", status="resolved", event="resolved")
    first = await line.call("1 1001# 2468# # 234567# 1 #")
    second = await line.call("1 1001# 2468# # 234567# 1 #", caller="9725550177")
    assert first.variables["IVR_TICKET"] == second.variables["IVR_TICKET"] == "77020"
    events = [e["event"] for e in await stores.tickets.audit("77020")]
    assert events == ["synced", "escalated", "repeat_call"]
    ticket = await stores.tickets.get("77020")
    assert ticket is not None
    assert (ticket.repeat_calls, len(ticket.recordings.split("\n"))) == (1, 2)


async def test_a_phone_ticket_can_be_escalated_too(line: Line, stores: Stores) -> None:
    """An option 2 request, then option 1 with its number: the same ticket, now an emergency."""
    normal = await line.call("2 1001# 2468# 345678# 1 #")
    number = normal.variables["IVR_TICKET"]
    result = await line.call(f"1 1001# 2468# {number}# 1 #", caller="9725550178")
    assert (result.variables["IVR_TICKET"], result.variables["IVR_EMERGENCY"]) == (number, "1")
    ticket = await stores.tickets.get(number)
    assert ticket is not None
    assert ticket.source is TicketSource.PHONE
    assert ticket.title == f"{EMERGENCY_TITLE}: Support request"


async def test_option_3_reads_a_helpdesk_ticket(line: Line, stores: Stores) -> None:
    """Status of a helpdesk ticket, as of the phone line's own; another reseller's is not found."""
    await take_in(stores, status="acknowledged", acknowledged_by="Hal at the helpdesk")
    await take_in(stores, number="77010", reseller="1002", host_id="567890")
    result = await line.call("3 1001# 2468# 77001# 1")
    assert played(result)[-4:] == [
        "ticket-status-is", "status-acknowledged", "ticket-connect", "transfer-queue",
    ]  # fmt: skip
    assert "digits 77001" in said(result)
    assert (result.variables["IVR_TICKET"], result.variables["IVR_QUEUE"]) == (
        "77001", "support-premium",
    )  # fmt: skip
    other = await line.call("3 1001# 2468# 77010# 77010# 77010#")
    assert played(other).count("ticket-not-found") == 3


async def test_an_overdue_ticket_keeps_its_due_time(line: Line, stores: Stores) -> None:
    """Opened Monday 08:40 and still open on Wednesday: its due time (Monday 12:40) is sooner
    than the emergency's, so it stays, and the caller hears "as soon as possible"."""
    await take_in(stores, created_at="2026-11-23T08:40:00-06:00",
                  updated_at="2026-11-23T08:40:00-06:00")  # fmt: skip
    result = await line.call(WITH_TICKET)
    assert "sla-response-now" in played(result)
    assert "sla-response-by" not in played(result)
    assert result.variables["IVR_SLA_DUE"] == "2026-11-23T12:40:00-06:00"
    ticket = await stores.tickets.get("77001")
    assert ticket is not None
    assert (ticket.sla_from, ticket.sla_start) == (None, ticket.created)
    [escalated] = [e for e in await stores.tickets.audit("77001") if e["event"] == "escalated"]
    assert "SLA restarted" not in str(escalated["note"])
