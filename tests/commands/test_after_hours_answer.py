"""After hours, one answer: ``ivr route``, ``ivr oncall show``, a real call and the tester.

A Premium Plus emergency at night goes to the on-call chain when a rotation is
configured, and to the general queue (and the caller is told so) when nobody is
on call; the ticket pages only when there is a chain to page.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from redis.asyncio import Redis

from ivr.agi.simulator import SimulatedCall
from ivr.cli import main
from ivr.config import Settings
from ivr.domain.records import OnCallState
from ivr.services import call_tester_line
from ivr.store.pins import PinHasher
from ivr.store.stores import Stores
from ivr.tester.engine import CallTester
from ivr.tester.rules import TestCall
from tests.support.calls import EMERGENCY, UNKNOWN_CALLER, played
from tests.support.harness import AFTER_HOURS, Clock, Line
from tests.support.oncall import ROTATION


def _cli_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Any:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("rotation", "route", "queue"),
    [(False, "queue", "support-general"), (True, "oncall", "support-premium-plus")],
)
async def test_route_oncall_show_a_call_and_the_tester_agree(
    redis_url: str,
    redis: Redis,
    stores: Stores,
    settings: Settings,
    fast_pins: PinHasher,
    line: Line,
    clock: Clock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    rotation: bool,
    route: str,
    queue: str,
) -> None:
    """The same route and queue from all four; nobody on call is said, never "contacting"."""
    if rotation:
        await stores.oncall.set_rotation(ROTATION)
    monkeypatch.setenv("IVR_REDIS_URL", redis_url)
    at = AFTER_HOURS.isoformat()
    routed = await asyncio.to_thread(
        _cli_json, ["route", "--tier", "premium_plus", "--emergency", "--at", at], capsys
    )
    shown = await asyncio.to_thread(_cli_json, ["oncall", "show", "--at", at], capsys)
    clock.now = AFTER_HOURS
    call = await line.call(EMERGENCY)
    tester = CallTester(redis, settings, call_tester_line(settings, fast_pins))
    try:
        tested = await tester.place(
            TestCall(UNKNOWN_CALLER, AFTER_HOURS, tuple(SimulatedCall.parse_dtmf(EMERGENCY)))
        )
    finally:
        await tester.aclose()

    assert (routed["route"], routed["queue"]) == (route, queue)
    call_ends = shown["premium_plus_call"]
    assert (call_ends["route"], call_ends["queue"]) == (route, queue)
    assert (call.variables["IVR_ROUTE"], call.variables["IVR_QUEUE"]) == (route, queue)
    assert (tested["ends"]["route"], tested["ends"]["queue"]) == (route, queue)
    assert routed["oncall"] == call_ends["oncall"]
    heard = played(call)
    tester_heard = [s["prompt"] for s in tested["steps"] if s["kind"] == "play"]
    ticket = await stores.tickets.get(call.variables["IVR_TICKET"])
    assert ticket is not None
    if rotation:
        assert "transfer-oncall" in heard
        assert "oncall-unavailable" not in heard
        assert call.variables["IVR_ONCALL_STEPS"] == "3"
        assert ticket.oncall_state == OnCallState.PAGING.value
        assert routed["oncall"] == "Ana Ruiz (primary), Ben Okafor (secondary), Sam Lee (manager)"
    else:
        assert "transfer-oncall" not in heard
        assert heard[-2:] == ["oncall-unavailable", "transfer-general"]
        assert tester_heard[-2:] == heard[-2:]
        assert "IVR_ONCALL_STEPS" not in call.variables
        assert ticket.oncall_state == ""
        assert "no on-call engineer configured" in routed["oncall"]
