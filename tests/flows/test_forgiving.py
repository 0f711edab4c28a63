"""A prompt, a core sound or the recording directory missing never costs a caller the route.

Asterisk 22 fails such a command with ``result=-1`` and marks the whole AGI
session failed (``AGISTATUS=FAILURE``) while the channel is still up. The flow
goes on (``ForgivingChannel``), decides and sets ``IVR_ROUTE``; the dialplan,
walked here by the interpreter that agrees with the real Asterisk, acts on it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from ivr.agi.simulator import CallResult, SimulatedCall
from ivr.flows.prompts import sound_exists
from ivr.store.stores import Stores
from tests.support.calls import EMERGENCY, UNKNOWN_CALLER
from tests.support.dialplan import MAIN_NUMBER, Asterisk
from tests.support.harness import Line

ALL_SOUNDS = sound_exists("ivr")


async def _call(line: Line, **faults: object) -> CallResult:
    call = SimulatedCall(
        caller_id=UNKNOWN_CALLER,
        answers=SimulatedCall.parse_dtmf(EMERGENCY),
        sound_exists=ALL_SOUNDS,
        strict=False,
    )
    for name, value in faults.items():
        setattr(call, name, value)
    return await line.asterisk.place(call)


def _without(*prompts: str) -> Callable[[str], bool]:
    return lambda name: ALL_SOUNDS(name) and name not in prompts


@pytest.mark.parametrize(
    ("fault", "value", "logged"),
    [
        pytest.param("core_sounds", False, "digits was not heard", id="no core sounds"),
        pytest.param("recording_writable", False, "could not write", id="no recording dir"),
        pytest.param(
            "sound_exists", _without("ivr/transfer-queue"),
            "prompt transfer-queue was not heard", id="a prompt missing",
        ),
        pytest.param(
            "sound_exists", _without("ivr/emergency-ticket-created"),
            "prompt emergency-ticket-created was not heard", id="another prompt missing",
        ),
    ],
)  # fmt: skip
async def test_the_caller_still_goes_where_the_service_decided(
    line: Line,
    stores: Stores,
    fault: str,
    value: object,
    logged: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The ticket opens, the route is set, Asterisk reports FAILURE, and the dialplan still
    puts the emergency in the Premium Plus queue at its priority (not the general queue)."""
    with caplog.at_level(logging.WARNING):
        result = await _call(line, **{fault: value})
    assert result.agi_status == "FAILURE"
    assert result.variables["IVR_ROUTE"] == "queue"
    assert result.variables["IVR_QUEUE"] == "support-premium-plus"
    ticket = await stores.tickets.get(result.variables["IVR_TICKET"])
    assert ticket is not None
    assert ticket.emergency
    walked = Asterisk(agi_status=result.agi_status, service_sets=result.variables)
    call = walked.run(MAIN_NUMBER)
    assert call.events[1] == ("Queue", "support-premium-plus", "300", "35")
    assert any(logged in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)


async def test_without_core_sounds_the_description_is_still_recorded(
    line: Line, stores: Stores
) -> None:
    """A missing beep (a core sound) is skipped; the caller's description is still taken."""
    result = await _call(line, core_sounds=False)
    ticket = await stores.tickets.get(result.variables["IVR_TICKET"])
    assert ticket is not None
    assert ticket.scenario.endswith(".wav")
    assert any(step.kind == "record" for step in result.steps)


async def test_a_healthy_call_leaves_agistatus_success(line: Line) -> None:
    """With every sound in place nothing fails: the fake Asterisk reports SUCCESS."""
    result = await _call(line)
    assert result.agi_status == "SUCCESS"
    assert result.variables["IVR_ROUTE"] == "queue"


async def test_an_unheard_question_is_not_forgiven(line: Line) -> None:
    """The main menu missing: nothing can be asked, the caller goes to the general queue."""
    result = await _call(line, sound_exists=_without("ivr/main-menu"))
    assert result.agi_status == "SUCCESS"  # GET DATA of a missing prompt: -1, not a failure
    assert result.variables["IVR_QUEUE"] == "support-general"
