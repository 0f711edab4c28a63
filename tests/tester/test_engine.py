"""The administrators' call tester: the real flow on a scratch database, nothing kept."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from ivr.agi.simulator import Step
from ivr.config import Settings
from ivr.services import call_tester_line
from ivr.store import keys
from ivr.store.pins import PinHasher
from ivr.store.stores import Stores
from ivr.tester import engine
from ivr.tester.engine import CallTester
from ivr.tester.rules import HIDDEN, copied, parse_test_call, transcript
from tests.support.harness import CHICAGO
from tests.support.oncall import ROTATION
from tests.support.web_harness import (
    ADMIN,
    SUPERVISOR,
    Web,
    browser,
    csrf_of,
    running_dashboard,
    sign_in,
)

PIN = "2468"
EMERGENCY = f"1 1001# {PIN}# # 123456# 1 #"
NIGHT = "2026-11-25T22:00"  # Wednesday 22:00 in Chicago: only Premium Plus is open
SCRATCH_DB = 15


@pytest.fixture
async def web(
    redis: Redis, settings: Settings, stores: Stores, fast_pins: PinHasher
) -> AsyncIterator[Web]:
    """The dashboard with the demo data and a call tester on scratch database 15."""
    tester = CallTester(redis, settings, call_tester_line(settings, fast_pins))
    async with running_dashboard(redis, settings, call_tester=tester) as running:
        yield running


@pytest.fixture
async def scratch(redis_url: str) -> AsyncIterator[Redis]:
    """A client of the scratch database, to look at it from outside."""
    client = Redis.from_url(redis_url.rsplit("/", 1)[0] + f"/{SCRATCH_DB}", decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


async def _snapshot(redis: Redis) -> dict[str, bytes | None]:
    """Every key of the production database with its serialized value."""
    found = sorted([k async for k in redis.scan_iter(count=1000)])
    return {k: await redis.dump(k) for k in found}


async def _place(
    client: aiohttp.ClientSession, web: Web, body: dict[str, str], *, csrf: bool = True
) -> tuple[int, Any]:
    headers = {"X-CSRF-Token": await csrf_of(client, web.base)} if csrf else {}
    async with client.post(f"{web.base}/api/tester/call", json=body, headers=headers) as response:
        text = await response.text()
        return response.status, (await response.json()) if response.status == 200 else text


def test_copied_keys_are_the_reference_data() -> None:
    """Directory, registry, tickets, calendar and on-call are copied; state a call writes is not."""
    for key in (keys.RESELLERS, keys.reseller("1001"), keys.phone("2145550100"),
                keys.system("123456"), keys.ticket("10001"), keys.TICKET_SEQUENCE,
                keys.ONCALL_ROTATION, keys.CALENDAR_CLOSURES,
                keys.helpdesk_open("1001", "234567")):  # fmt: skip
        assert copied(key), key
    for key in (keys.lock_account("1001"), keys.pin_failures_caller("2145550100"),
                keys.call("1.2"), keys.CALLS, keys.ticket_paging_log("10001"), keys.SLA_WATCH,
                keys.user("ada"), keys.web_session("x"), keys.AUDIT,
                keys.helpdesk_inbound("hd-1")):  # fmt: skip
        assert not copied(key), key


def test_transcript_hides_what_was_keyed_at_a_pin_prompt() -> None:
    """The input after enter-pin shows as hidden; other inputs and timeouts show as keyed."""
    steps = [
        Step("play", "ivr/enter-account"), Step("input", "1001#"),
        Step("play", "ivr/enter-pin"), Step("input", "2468#"),
        Step("play", "ivr/enter-pin-or-star"), Step("input", "(no key: timeout)"),
        Step("play", "ivr/enter-host-id"), Step("input", "123456#"),
    ]  # fmt: skip
    shown = transcript(steps, {"enter-pin": "Please enter your PIN."})
    assert [s["text"] for s in shown if s["kind"] == "input"] == [
        "1001#", HIDDEN, "(no key: timeout)", "123456#"
    ]  # fmt: skip
    assert shown[2]["words"] == "Please enter your PIN."


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"caller": "abc", "at": NIGHT, "dtmf": "1"}, "caller"),
        ({"caller": "2145550100", "at": "tonight", "dtmf": "1"}, "at"),
        ({"caller": "2145550100", "at": NIGHT, "dtmf": "1 x#"}, "dtmf"),
        ({"caller": "2145550100", "at": NIGHT, "dtmf": " ".join(["1"] * 41)}, "at most"),
        (["not", "an", "object"], "JSON object"),
    ],
)
def test_bad_test_calls_are_refused(body: object, reason: str) -> None:
    """Bad callers, times, keys or too many answers are refused, naming the field."""
    with pytest.raises(ValueError, match=reason):
        parse_test_call(body, CHICAGO)


def test_local_time_is_the_support_centres() -> None:
    """A datetime-local value is read in the support centre's zone."""
    call = parse_test_call({"caller": "2145550100", "at": NIGHT, "dtmf": "1"}, CHICAGO)
    assert call.at.isoformat() == "2026-11-25T22:00:00-06:00"


async def test_emergency_after_hours_ends_on_call_and_keeps_nothing(
    web: Web, redis: Redis, scratch: Redis, stores: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    """A whole Premium Plus emergency at night goes on-call; production is untouched,
    the scratch database is empty again, and the PIN appears neither in the answer
    nor in the log."""
    caplog.set_level(logging.DEBUG)
    await stores.oncall.set_rotation(ROTATION)
    async with browser() as client:
        assert await sign_in(client, web.base, *ADMIN) == 200
        before = await _snapshot(redis)
        status, result = await _place(
            client, web, {"caller": "9725550199", "at": NIGHT, "dtmf": EMERGENCY}
        )
        after = await _snapshot(redis)
    assert status == 200, result
    assert result["ends"]["route"] == "oncall"
    assert result["ends"]["tier"] == "premium_plus"
    assert result["ends"]["ticket"]
    assert result["problems"] == []
    prompts = [s["prompt"] for s in result["steps"] if s["kind"] == "play"]
    assert "transfer-oncall" in prompts
    assert any(s["words"] for s in result["steps"] if s["kind"] == "play")
    assert HIDDEN in [s["text"] for s in result["steps"] if s["kind"] == "input"]
    assert after == before  # no ticket, no call record, no lockout counter
    assert not [k async for k in redis.scan_iter(match="ivr:lock:*")]
    assert await scratch.dbsize() == 0
    answer = str(result)
    assert f"{PIN}#" not in answer
    assert f"{PIN}#" not in caplog.text
    assert f"result={PIN}" not in caplog.text


async def test_warranty_request_runs_the_same_flow(web: Web, redis: Redis) -> None:
    """Option 4 in the tester: the warranty ticket, the warranty queue and no SLA, as on the
    phone line; the words of the new prompts are shown; production is untouched."""
    async with browser() as client:
        assert await sign_in(client, web.base, *ADMIN) == 200
        before = await _snapshot(redis)
        status, result = await _place(
            client,
            web,
            {"caller": "2145550100", "at": "2026-11-25T10:00", "dtmf": f"4 {PIN}# 678901# 1 #"},
        )
        after = await _snapshot(redis)
    assert status == 200, result
    ends = result["ends"]
    assert (ends["route"], ends["queue"], ends["sla_due"]) == ("queue", "support-warranty", "")
    assert ends["ticket"]
    words = {s["prompt"]: s["words"] for s in result["steps"] if s["kind"] == "play"}
    assert "hardware warranty ticket number" in words["warranty-ticket-created"]
    assert "best effort" in words["warranty-best-effort"]
    assert "press 4" in words["main-menu"]
    assert after == before


async def test_failed_pins_in_the_tester_lock_out_nobody(web: Web, redis: Redis) -> None:
    """Wrong PINs in test calls leave no failure counter or lockout in production."""
    async with browser() as client:
        assert await sign_in(client, web.base, *ADMIN) == 200
        for _ in range(3):
            status, result = await _place(
                client, web, {"caller": "9725550199", "at": NIGHT,
                              "dtmf": "1 1001# 97531# 97531# 97531#"},
            )  # fmt: skip
            assert status == 200, result
            assert result["ends"]["queue"] == "support-general"
    assert not [k async for k in redis.scan_iter(match="ivr:pinfail:*")]
    assert not [k async for k in redis.scan_iter(match="ivr:lock:*")]


async def test_tester_is_for_administrators_with_csrf(web: Web) -> None:
    """Supervisors get 403 on the page, script and API; anonymous 302/401; no CSRF 403."""
    body = {"caller": "9725550199", "at": NIGHT, "dtmf": "1"}
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.get(f"{web.base}/tester", allow_redirects=False) as page:
            assert page.status == 302
        async with anonymous.post(f"{web.base}/api/tester/call", json=body) as api:
            assert api.status == 401
    async with browser() as client:
        assert await sign_in(client, web.base, *SUPERVISOR) == 200
        for path in ("/tester", "/static/tester.js"):
            async with client.get(web.base + path) as response:
                assert response.status == 403, path
        status, _ = await _place(client, web, body)
        assert status == 403
    async with browser() as client:
        assert await sign_in(client, web.base, *ADMIN) == 200
        status, _ = await _place(client, web, body, csrf=False)
        assert status == 403
        async with client.get(f"{web.base}/tester") as page:
            assert page.status == 200
            assert 'type="datetime-local"' in await page.text()


async def test_a_second_call_waits_then_is_told_the_tester_is_busy(
    web: Web, scratch: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One test call at a time per scratch database: while it is held, 429."""
    monkeypatch.setattr(engine, "LOCK_WAIT_SECONDS", 0.2)
    await scratch.set(keys.TESTER_LOCK, "someone-else", px=10_000)
    async with browser() as client:
        assert await sign_in(client, web.base, *ADMIN) == 200
        status, text = await _place(client, web, {"caller": "1", "at": NIGHT, "dtmf": "1"})
    assert status == 429
    assert "another test call" in text
    assert await scratch.get(keys.TESTER_LOCK) == "someone-else"  # not flushed by the loser


async def test_tester_refuses_to_run_on_the_production_database(
    redis: Redis, settings: Settings, stores: Stores
) -> None:
    """IVR_TESTER_DB equal to the production database: 503, nothing flushed."""
    tester = CallTester(redis, settings.with_overrides(tester_db=0), call_tester_line(settings))
    async with running_dashboard(redis, settings, call_tester=tester) as web, browser() as client:
        assert await sign_in(client, web.base, *ADMIN) == 200
        status, text = await _place(client, web, {"caller": "1", "at": NIGHT, "dtmf": "1"})
    assert status == 503
    assert "production database" in text
    assert await redis.exists(keys.system("123456"))
