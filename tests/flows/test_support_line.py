"""The support-line call flow, end to end over TCP: strict fake Asterisk, real Redis.

Demo data (ivr/demo): reseller 1001 (PIN 2468, phones 2145550100 and 4695550101)
owns 123456 (Premium Plus), 234567 (Premium), 345678 (Standard) and 456789
(expired); reseller 1002 (PIN 1357) owns 567890; 1003 is suspended (PIN 9753).
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from redis.asyncio import Redis

from ivr.agi.simulator import SimulatedCall
from ivr.config import Settings
from ivr.domain.records import EMERGENCY_TITLE, NORMAL_TITLE, TicketStatus
from ivr.services import build_agi_server, build_stores, redis_client
from ivr.store import keys
from ivr.store.pins import PinHasher
from ivr.store.stores import Stores
from tests.support.calls import EMERGENCY, UNKNOWN_CALLER, played, said
from tests.support.harness import AFTER_HOURS, CHICAGO, Clock, Line, free_port
from tests.support.oncall import ROTATION


async def test_emergency_call_opens_ticket_and_routes_to_queue(line: Line, stores: Stores) -> None:
    """Option 1 in open hours: emergency ticket, number and SLA read back, tier queue first."""
    result = await line.call(EMERGENCY)
    assert result.variables == {
        "IVR_ROUTE": "queue",
        "IVR_QUEUE": "support-premium-plus",
        "IVR_QUEUE_PRIORITY": "35",
        "IVR_RESELLER": "1001",
        "IVR_HOST_ID": "123456",
        "IVR_TIER": "premium_plus",
        "IVR_TICKET": "10001",
        "IVR_EMERGENCY": "1",
        "IVR_SLA_DUE": "2026-11-25T12:00:00-06:00",
    }
    ticket = await stores.tickets.get("10001")
    assert ticket is not None
    assert ticket.title == EMERGENCY_TITLE
    assert ticket.emergency
    assert (ticket.end_customer, ticket.system_type, ticket.software_release) == (
        "Acme Hospital",
        "UCX450",
        "7.1.3",
    )
    assert ticket.status is TicketStatus.OPEN
    assert ticket.scenario.endswith(".wav")
    assert "digits 10001" in said(result)
    assert played(result)[-3:] == ["emergency-ticket-created", "sla-response-by", "transfer-queue"]
    assert result.closed_by_service
    assert result.hung_up_by == ""  # handed back to the dialplan, not hung up


async def test_call_record_written(line: Line, stores: Stores) -> None:
    """Every call leaves one record with its steps, decision, ticket and outcome."""
    result = await line.call(EMERGENCY)
    ids = await stores.calls.recent_ids()
    assert len(ids) == 1
    record = await stores.calls.get(ids[0])
    assert record is not None
    assert record.steps == [
        "menu:1",
        "authenticated",
        "host_id",
        "coverage:active",
        "ticket",
    ]
    assert (record.decision, record.outcome, record.ticket) == ("queue", "queue", "10001")
    assert record.caller_id == UNKNOWN_CALLER
    assert record.ended is not None
    assert result.variables["IVR_TICKET"] == record.ticket


async def test_normal_request_is_not_emergency(line: Line, stores: Stores) -> None:
    """Option 2: a normal ticket, Premium priority without the emergency bonus."""
    result = await line.call("2 1001# 2468# 234567# 1 #")
    assert result.variables["IVR_QUEUE"] == "support-premium"
    assert result.variables["IVR_QUEUE_PRIORITY"] == "20"
    assert result.variables["IVR_EMERGENCY"] == "0"
    ticket = await stores.tickets.get(result.variables["IVR_TICKET"])
    assert ticket is not None
    assert ticket.title == NORMAL_TITLE
    assert "ticket-created" in played(result)


async def test_premium_plus_after_hours_goes_to_oncall(
    line: Line, clock: Clock, stores: Stores
) -> None:
    """A Premium Plus emergency at night is routed to the on-call engineer."""
    clock.now = AFTER_HOURS
    await stores.oncall.set_rotation(ROTATION)
    result = await line.call(EMERGENCY)
    assert result.variables["IVR_ROUTE"] == "oncall"
    assert "transfer-oncall" in played(result)


async def test_standard_after_hours_is_closed_with_callback(
    line: Line, clock: Clock, redis: Redis
) -> None:
    """Standard after hours: hours and SLA spoken, ticket stands, callback at next opening."""
    clock.now = AFTER_HOURS
    result = await line.call("2 1001# 2468# 345678# 1 #")
    assert result.variables["IVR_ROUTE"] == "closed"
    number = result.variables["IVR_TICKET"]
    assert [
        p for p in played(result) if p in {"closed-standard", "callback-scheduled", "goodbye"}
    ] == ["closed-standard", "callback-scheduled", "goodbye"]
    callback = await redis.zscore(keys.CALLBACKS, number)
    # Thursday is Thanksgiving (a federal holiday): Standard next opens Friday 09:00.
    next_opening = dt.datetime(2026, 11, 27, 9, 0, tzinfo=CHICAGO)
    assert callback == next_opening.timestamp()
    # 24 open hours counted from Friday 09:00: Friday, Monday, Tuesday until 17:00 CST.
    assert result.variables["IVR_SLA_DUE"] == "2026-12-01T17:00:00-06:00"


@pytest.mark.parametrize(
    ("dtmf", "invalid_prompts"),
    [
        ("* 1 1001# 2468# # 123456# 1 #", 0),
        ("7 1 1001# 2468# # 123456# 1 #", 1),
        (" 1 1001# 2468# # 123456# 1 #", 0),
    ],
)
async def test_menu_repeat_invalid_and_timeout(line: Line, dtmf: str, invalid_prompts: int) -> None:
    """Star repeats the menu; a wrong key is told so; silence just repeats; then it goes on."""
    result = await line.call(dtmf)
    assert result.variables["IVR_QUEUE"] == "support-premium-plus"
    assert played(result).count("main-menu") == 2
    assert played(result).count("invalid-option") == invalid_prompts


@pytest.mark.parametrize("dtmf", ["", "7 8 9", "0  #"])
async def test_menu_gives_up_after_three_to_general_queue(line: Line, dtmf: str) -> None:
    """Three failed menu attempts send the caller to the general queue."""
    result = await line.call(dtmf)
    assert played(result).count("main-menu") == 3
    assert result.variables == {"IVR_ROUTE": "queue", "IVR_QUEUE": "support-general",
                                "IVR_QUEUE_PRIORITY": "0"}  # fmt: skip


async def test_wrong_pin_once_then_right(line: Line) -> None:
    """One wrong PIN: told it could not be verified, asked again, then through."""
    result = await line.call("1 1001# 1111# 1001# 2468# # 123456# 1 #")
    assert played(result).count("auth-failed") == 1
    assert result.variables["IVR_TICKET"] == "10001"


async def test_three_wrong_pins_go_to_general_queue(line: Line, stores: Stores) -> None:
    """Three wrong PINs in a call: cannot be verified, general queue, no ticket."""
    result = await line.call("1 1001# 1111# 1001# 2222# 1001# 3333#")
    assert played(result).count("auth-failed") == 2
    assert played(result)[-2:] == ["auth-unavailable", "transfer-general"]
    assert result.variables["IVR_QUEUE"] == "support-general"
    assert await stores.tickets.recent() == []


async def test_unknown_account_sounds_like_wrong_pin(line: Line) -> None:
    """Caller hears the same whether the account or the PIN was wrong."""
    wrong_pin = await line.call("1 1001# 1111# 1001# 2222# 1001# 3333#", caller="9725550111")
    wrong_account = await line.call("1 9999# 2468# 9998# 2468# 9997# 2468#", caller="9725550112")
    assert played(wrong_pin) == played(wrong_account)
    assert wrong_pin.variables == wrong_account.variables


async def test_lockout_across_calls(line: Line, redis: Redis) -> None:
    """Two calls with three wrong PINs each lock the account for the next call."""
    wrong = "1 1001# 1111# 1001# 2222# 1001# 3333#"
    for _ in range(2):
        await line.call(wrong, caller="9725550123")
    locked = await line.call("1 1001# 2468# # 123456# 1 #", caller="9725550123")
    assert played(locked)[-2:] == ["auth-unavailable", "transfer-general"]
    assert "auth-failed" not in played(locked)
    assert "IVR_TICKET" not in locked.variables
    # The account is locked for every calling number, not only this one.
    other = await line.call("1 1001# 2468# # 123456# 1 #", caller="9725550999")
    assert "IVR_TICKET" not in other.variables
    audit = await redis.xrange(keys.AUDIT)
    assert audit is not None
    assert any(
        entry is not None and entry["scope"] == "account" and entry["subject"] == "1001"
        for _, entry in audit
    )


async def test_calling_number_locked_across_accounts(line: Line) -> None:
    """Guessing across accounts from one number locks that number."""
    for account in ("2001", "2002"):
        await line.call(
            f"1 {account}# 1111# {account}# 2222# {account}# 3333#", caller="9725550777"
        )
    result = await line.call("1 1002# 1357# # 567890# 1 #", caller="9725550777")
    assert "IVR_TICKET" not in result.variables
    allowed = await line.call("1 1002# 1357# # 567890# 1 #", caller="9725550778")
    assert "IVR_TICKET" in allowed.variables


async def test_caller_id_recognised_skips_account(line: Line) -> None:
    """A caller ID of one reseller: welcome back, PIN only."""
    result = await line.call("1 2468# # 123456# 1 #", caller="+1 (214) 555-0100")
    assert played(result)[:4] == ["welcome", "main-menu", "welcome-back", "enter-pin-or-star"]
    assert "enter-account" not in played(result)
    assert result.variables["IVR_RESELLER"] == "1001"


async def test_caller_id_star_uses_another_account(line: Line) -> None:
    """Star at the PIN prompt lets a known phone use another account."""
    result = await line.call("1 * 1002# 1357# # 567890# 1 #", caller="2145550100")
    assert result.variables["IVR_RESELLER"] == "1002"
    assert result.variables["IVR_HOST_ID"] == "567890"


async def test_suspended_reseller_goes_to_general_queue(line: Line) -> None:
    """A suspended reseller is not verified and goes to the general queue."""
    result = await line.call("1 1003# 9753# 123456# 1 #")
    assert result.variables["IVR_QUEUE"] == "support-general"
    assert "IVR_TICKET" not in result.variables


@pytest.mark.parametrize("host_id", ["999999", "567890"])
async def test_host_id_not_found_or_not_yours(line: Line, host_id: str) -> None:
    """Unknown Host IDs and other resellers' Host IDs get the same not-found answer."""
    result = await line.call(f"1 1001# 2468# # {host_id}# 1 123456# 1 #")
    assert played(result).count("host-id-not-found") == 1
    assert result.variables["IVR_HOST_ID"] == "123456"


async def test_host_id_three_failures_to_general_queue(line: Line) -> None:
    """Three failed Host IDs send the caller to the general queue."""
    result = await line.call("1 1001# 2468# # 999999# 1 567890# 1 888888# 1")
    assert played(result).count("host-id-not-found") == 3
    assert result.variables["IVR_QUEUE"] == "support-general"
    assert result.variables["IVR_RESELLER"] == "1001"


async def test_host_id_read_back_and_reentry(line: Line) -> None:
    """The Host ID is read back digit by digit; 2 re-enters it."""
    result = await line.call("1 1001# 2468# # 123457# 2 123456# 1 #")
    assert "digits 123457" in said(result)
    assert "digits 123456" in said(result)
    assert "host-id-not-found" not in played(result)
    assert result.variables["IVR_HOST_ID"] == "123456"


async def test_expired_contract_goes_to_renewals(line: Line, stores: Stores) -> None:
    """An expired contract: told at once with the date, renewals, no ticket."""
    result = await line.call("1 1001# 2468# # 456789# 1")
    assert result.variables["IVR_ROUTE"] == "renewals"
    assert result.variables["IVR_QUEUE"] == "support-renewals"
    assert "contract-expired" in played(result)
    assert any(s.startswith("date Sunday March 31 2024") for s in said(result))
    assert "describe-problem" not in played(result)
    assert await stores.tickets.recent() == []


async def test_ticket_status_and_connect(line: Line) -> None:
    """Option 3: status of one's own ticket is spoken; 1 connects to the queue."""
    await line.call(EMERGENCY)
    result = await line.call("3 1001# 2468# 10001# 1")
    assert "digits 10001" in said(result)
    assert "status-open" in played(result)
    assert result.variables["IVR_ROUTE"] == "queue"
    assert result.variables["IVR_TICKET"] == "10001"


async def test_ticket_status_without_connect_says_goodbye(line: Line) -> None:
    """Option 3 without pressing 1 ends politely."""
    await line.call(EMERGENCY)
    result = await line.call("3 1001# 2468# 10001# ")
    assert played(result)[-1] == "goodbye"
    assert result.variables["IVR_ROUTE"] == "hangup"


@pytest.mark.parametrize("number", ["99999", "10001"])
async def test_ticket_status_unknown_or_other_resellers(line: Line, number: str) -> None:
    """Unknown tickets and other resellers' tickets are both 'not found'."""
    await line.call(EMERGENCY)  # ticket 10001 belongs to 1001
    result = await line.call(f"3 1002# 1357# {number}# {number}# {number}#")
    assert played(result).count("ticket-not-found") == 3
    assert result.variables["IVR_QUEUE"] == "support-general"


async def test_hang_up_at_every_step(line: Line, stores: Stores) -> None:
    """Hanging up at any command: socket closed, no violation, call record still written."""
    full = await line.call(EMERGENCY)
    total = len(full.commands)
    assert total > 15
    for index in range(total):
        await stores.redis.delete(keys.CALLS)
        result = await line.call(EMERGENCY, hangup_at=index, caller=f"97255{index:05d}")
        assert result.closed_by_service, index
        ids = await stores.calls.recent_ids()
        assert len(ids) == 1, index
        record = await stores.calls.get(ids[0])
        assert record is not None
        assert record.ended is not None
        if record.outcome != "hangup":
            # Hung up during the final SET VARIABLEs: the flow had already finished.
            assert record.outcome == "queue", index


async def test_pin_never_leaks(
    line: Line, stores: Stores, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """The PIN is in no log line, channel variable, ticket, call record or Redis value."""
    caplog.set_level(logging.DEBUG)
    result = await line.call("1 1001# 8642# 1001# 2468# # 123456# 1 #")
    assert "IVR_TICKET" in result.variables
    for pin in ("2468", "8642"):
        assert pin not in caplog.text
        assert all(pin not in value for value in result.variables.values())
        for key in await redis.keys("*"):
            kind = await redis.type(key)
            if kind == "hash":
                assert all(pin not in v for v in (await redis.hgetall(key)).values()), key
            elif kind == "string":
                assert pin not in (await redis.get(key) or ""), key
    stored = await redis.hget(keys.reseller("1001"), "pin_hash")
    assert isinstance(stored, str)
    assert stored.startswith("$argon2id$")


async def test_missing_prompt_sends_caller_to_general_queue(line: Line) -> None:
    """A prompt missing on Asterisk (GET DATA -1 on a live channel): general queue, not silence."""
    result = await line.asterisk.place(
        SimulatedCall(
            caller_id=UNKNOWN_CALLER,
            answers=SimulatedCall.parse_dtmf(EMERGENCY),
            sound_exists=lambda name: name != "ivr/main-menu",
            strict=False,
        )
    )
    assert result.variables["IVR_QUEUE"] == "support-general"
    assert result.closed_by_service


async def test_redis_down_sends_caller_to_general_queue(
    settings: Settings, clock: Clock, fast_pins: PinHasher
) -> None:
    """With Redis unreachable, the caller still hears a prompt and goes to the general queue."""
    dead: Redis = redis_client(f"redis://127.0.0.1:{free_port()}/0")
    stores = build_stores(dead, settings, pins=fast_pins)
    server = build_agi_server(stores, settings, clock)
    host, port = await server.start("127.0.0.1", 0)
    try:
        result = await Line(server, host, port).call(EMERGENCY)
    finally:
        await server.close()
        await dead.aclose()
    assert result.variables["IVR_QUEUE"] == "support-general"
    assert "transfer-general" in played(result)


async def test_unwritable_recording_still_opens_ticket(line: Line, stores: Stores) -> None:
    """If Asterisk cannot write the recording, the ticket is opened without it."""
    result = await line.asterisk.place(
        SimulatedCall(
            caller_id=UNKNOWN_CALLER,
            answers=SimulatedCall.parse_dtmf(EMERGENCY),
            recording_writable=False,
            strict=False,
        )
    )
    assert result.variables["IVR_ROUTE"] == "queue"
    ticket = await stores.tickets.get(result.variables["IVR_TICKET"])
    assert ticket is not None
    assert ticket.scenario == ""
