"""Menu option 4 (hardware warranty) and the expired-contract message, over TCP on real Redis.

Demo data (ivr/demo): 678901 (Frontier Pharmacy) was bought 2025-09-15, so its
Standard support ended 2026-09-15 and its warranty, extended, runs to 2027-09-15;
456789 (Delta Freight) has support ended 2024-03-31 and warranty ended 2023-03-31;
123456 has support and its original warranty (to 2027-06-30); 345678 has no
warranty on record. The clock is Wednesday 2026-11-25 10:00 in Chicago.
"""

from __future__ import annotations

import datetime as dt

import pytest
from redis.asyncio import Redis

from ivr.domain.records import WARRANTY_TITLE, TicketKind, TicketStatus, Tier
from ivr.store import keys
from ivr.store.stores import Stores
from tests.support.calls import played, said
from tests.support.harness import AFTER_HOURS, CHICAGO, Clock, Line

WARRANTY_CALL = "4 1001# 2468# 678901# 1 #"


async def test_active_warranty_on_expired_support_opens_a_warranty_ticket(
    line: Line, stores: Stores, redis: Redis
) -> None:
    """Option 4, warranty active, support expired: warranty ticket, warranty queue, no SLA."""
    result = await line.call(WARRANTY_CALL)
    assert result.variables == {
        "IVR_ROUTE": "queue",
        "IVR_QUEUE": "support-warranty",
        "IVR_QUEUE_PRIORITY": "10",
        "IVR_RESELLER": "1001",
        "IVR_HOST_ID": "678901",
        "IVR_TIER": "standard",
        "IVR_TICKET": "10001",
        "IVR_EMERGENCY": "0",
    }
    ticket = await stores.tickets.get("10001")
    assert ticket is not None
    assert (ticket.kind, ticket.title) == (TicketKind.WARRANTY, WARRANTY_TITLE)
    assert ticket.sla_due is None
    assert (ticket.host_id, ticket.end_customer, ticket.system_type, ticket.software_release) == (
        "678901",
        "Frontier Pharmacy",
        "UCX450",
        "7.1.3",
    )
    assert ticket.scenario.endswith(".wav")
    assert ticket.status is TicketStatus.OPEN
    assert await redis.zscore(keys.SLA_WATCH, "10001") is None
    assert "digits 678901" in said(result)
    assert "digits 10001" in said(result)
    heard = played(result)
    assert "contract-expired" not in heard
    assert "sla-response-by" not in heard
    assert heard[-6:] == [
        "warranty-extension-only",
        "describe-hardware-fault",
        "beep",
        "warranty-ticket-created",
        "warranty-best-effort",
        "transfer-warranty",
    ]
    record = await stores.calls.get((await stores.calls.recent_ids())[0])
    assert record is not None
    assert record.steps == ["menu:4", "authenticated", "host_id", "warranty:active", "ticket"]
    assert (record.decision, record.ticket) == ("queue", "10001")


async def test_original_warranty_is_not_called_an_extension(line: Line, stores: Stores) -> None:
    """A system on its first year of warranty: no word about the extension's exclusions."""
    result = await line.call("4 1001# 2468# 123456# 1 #")
    assert result.variables["IVR_QUEUE"] == "support-warranty"
    assert "warranty-extension-only" not in played(result)
    ticket = await stores.tickets.get(result.variables["IVR_TICKET"])
    assert ticket is not None
    assert (ticket.kind, ticket.tier, ticket.emergency) == (
        TicketKind.WARRANTY,
        Tier.PREMIUM_PLUS,
        False,
    )


async def test_warranty_after_hours_is_closed_with_a_callback(
    line: Line, clock: Clock, redis: Redis
) -> None:
    """Outside Standard hours: the ticket stands, the callback is the next Standard opening."""
    clock.now = AFTER_HOURS
    result = await line.call(WARRANTY_CALL)
    assert result.variables["IVR_ROUTE"] == "closed"
    assert "IVR_QUEUE" not in result.variables
    assert "IVR_SLA_DUE" not in result.variables
    assert played(result)[-4:] == [
        "warranty-best-effort",
        "closed-warranty",
        "callback-scheduled",
        "goodbye",
    ]
    # Thursday is Thanksgiving: Standard hours next open Friday 09:00.
    friday = dt.datetime(2026, 11, 27, 9, 0, tzinfo=CHICAGO)
    assert await redis.zscore(keys.CALLBACKS, result.variables["IVR_TICKET"]) == friday.timestamp()


async def test_expired_warranty_goes_to_renewals_without_a_ticket(
    line: Line, stores: Stores
) -> None:
    """Option 4 with the warranty expired: told so with the date, renewals, no ticket."""
    result = await line.call("4 1001# 2468# 456789# 1 #")
    assert result.variables == {
        "IVR_ROUTE": "renewals",
        "IVR_QUEUE": "support-renewals",
        "IVR_QUEUE_PRIORITY": "0",
        "IVR_RESELLER": "1001",
        "IVR_HOST_ID": "456789",
        "IVR_TIER": "premium",
    }
    assert played(result)[-3:] == ["warranty-not-covered", "warranty-ended-on", "transfer-renewals"]
    assert any(s.startswith("date Friday March 31 2023") for s in said(result))
    assert await stores.tickets.recent() == []
    record = await stores.calls.get((await stores.calls.recent_ids())[0])
    assert record is not None
    assert "warranty:expired" in record.steps
    assert record.decision == "renewals"


async def test_no_warranty_on_record_is_not_covered(line: Line, stores: Stores) -> None:
    """A system with no warranty date: not covered, no date to say, renewals."""
    result = await line.call("4 1001# 2468# 345678# 1 #")
    assert result.variables["IVR_ROUTE"] == "renewals"
    assert played(result)[-2:] == ["warranty-not-covered", "transfer-renewals"]
    assert not any(s.startswith("date") for s in said(result))
    assert await stores.tickets.recent() == []


@pytest.mark.parametrize("option", ["1", "2"])
async def test_expired_contract_names_the_terms_and_offers_option_4(
    line: Line, stores: Stores, option: str
) -> None:
    """Options 1 and 2 on an expired contract with an active warranty: terms, then option 4."""
    in_hand = "# " if option == "1" else ""  # option 1 first asks for a helpdesk ticket
    result = await line.call(f"{option} 1001# 2468# {in_hand}678901# 1")
    assert result.variables["IVR_ROUTE"] == "renewals"
    assert played(result)[-4:] == [
        "contract-expired",
        "contract-expired-terms",
        "warranty-instead",
        "transfer-renewals",
    ]
    assert any(s.startswith("date Tuesday September 15 2026") for s in said(result))
    assert await stores.tickets.recent() == []


async def test_pressing_4_after_the_expired_contract_opens_the_warranty_request(
    line: Line, stores: Stores
) -> None:
    """4 pressed at the offer: the same system goes straight to the warranty request."""
    result = await line.call("1 1001# 2468# # 678901# 1 4 #")
    assert result.variables["IVR_QUEUE"] == "support-warranty"
    ticket = await stores.tickets.get(result.variables["IVR_TICKET"])
    assert ticket is not None
    assert (ticket.kind, ticket.emergency, ticket.sla_due) == (TicketKind.WARRANTY, False, None)
    assert played(result).count("enter-host-id") == 1
    record = await stores.calls.get((await stores.calls.recent_ids())[0])
    assert record is not None
    assert record.steps[-4:] == ["host_id", "coverage:expired", "warranty:active", "ticket"]


async def test_expired_contract_and_warranty_no_offer(line: Line) -> None:
    """Warranty expired too: the terms, no option-4 offer, renewals."""
    result = await line.call("1 1001# 2468# # 456789# 1")
    assert played(result)[-3:] == [
        "contract-expired",
        "contract-expired-terms",
        "transfer-renewals",
    ]
    assert result.variables["IVR_ROUTE"] == "renewals"


async def test_a_warranty_ticket_keeps_its_cover_after_the_warranty_ends(
    line: Line, clock: Clock, stores: Stores
) -> None:
    """Opened on the warranty's last day; the next day option 3 still reaches the warranty team,
    while a new option 4 request is sent to renewals."""
    clock.now = dt.datetime(2027, 9, 15, 10, 0, tzinfo=CHICAGO)
    opened = await line.call(WARRANTY_CALL)
    number = opened.variables["IVR_TICKET"]
    clock.now = dt.datetime(2027, 9, 16, 10, 0, tzinfo=CHICAGO)
    status = await line.call(f"3 1001# 2468# {number}# 1")
    assert (status.variables["IVR_ROUTE"], status.variables["IVR_QUEUE"]) == (
        "queue",
        "support-warranty",
    )
    assert "IVR_SLA_DUE" not in status.variables
    assert played(status)[-1] == "transfer-warranty"
    again = await line.call(WARRANTY_CALL)
    assert again.variables["IVR_ROUTE"] == "renewals"
    ticket = await stores.tickets.get(number)
    assert ticket is not None
    assert ticket.kind is TicketKind.WARRANTY


async def test_a_support_ticket_keeps_its_cover_after_the_contract_ends(
    line: Line, clock: Clock, stores: Stores, redis: Redis
) -> None:
    """Opened on the contract's last day; the next day option 3 still reaches the tier's queue
    (not renewals) and the ticket stays on its SLA clock, while a new request goes to renewals."""
    clock.now = dt.datetime(2026, 9, 15, 10, 0, tzinfo=CHICAGO)  # 678901's support ends today
    opened = await line.call("2 1001# 2468# 678901# 1 #")
    number = opened.variables["IVR_TICKET"]
    assert opened.variables["IVR_QUEUE"] == "support-standard"
    clock.now = dt.datetime(2026, 9, 16, 10, 0, tzinfo=CHICAGO)
    status = await line.call(f"3 1001# 2468# {number}# 1")
    assert (status.variables["IVR_ROUTE"], status.variables["IVR_QUEUE"]) == (
        "queue",
        "support-standard",
    )
    assert status.variables["IVR_SLA_DUE"] == opened.variables["IVR_SLA_DUE"]
    assert await redis.zscore(keys.SLA_WATCH, number) is not None
    again = await line.call("2 1001# 2468# 678901# 1")
    assert again.variables["IVR_ROUTE"] == "renewals"


async def test_hang_up_at_every_step_of_a_warranty_call(line: Line, stores: Stores) -> None:
    """Hanging up anywhere in option 4: the socket closed, the call record written."""
    full = await line.call(WARRANTY_CALL)
    total = len(full.commands)
    for index in range(total):
        await stores.redis.delete(keys.CALLS)
        result = await line.call(WARRANTY_CALL, hangup_at=index, caller=f"97255{index:05d}")
        assert result.closed_by_service, index
        ids = await stores.calls.recent_ids()
        assert len(ids) == 1, index
        record = await stores.calls.get(ids[0])
        assert record is not None
        assert record.ended is not None
        assert record.outcome in {"hangup", "queue"}, index
