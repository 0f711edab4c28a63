"""Hostile input through the whole call: any keys, any AGI environment values.

Hypothesis drives the strict fake Asterisk against the real server and Redis:
whatever comes in, no exception escapes the flow, the caller is never left in
silence (every call ends with a route for the dialplan or a hang-up), and only
well-formed AGI commands leave the service.
"""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.agi.simulator import SimulatedCall
from ivr.domain.records import Route
from ivr.flows.prompts import sound_exists
from tests.support.harness import Line

KEYS = "0123456789*#"
answers = st.lists(st.one_of(st.none(), st.text(alphabet=KEYS, max_size=20)), max_size=14)
hostile_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\r\n\x00"),
    max_size=300,
) | st.sampled_from(
    ['"; EXEC Dial(PJSIP/666)', "${SHELL(rm -rf /)}", "a\\", "x" * 5000, "';--", "\u202e1001"]
)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def ended_properly(variables: dict[str, str], hung_up_by: str) -> bool:
    """A call ends with a known route for the dialplan, or because someone hung up."""
    return variables.get("IVR_ROUTE") in {r.value for r in Route} or hung_up_by != ""


@FUZZ
@given(keys=answers)
async def test_any_keys_never_break_the_call(line: Line, keys: list[str | None]) -> None:
    """Any sequence of keys and silences ends in a route, with no protocol violation."""
    result = await line.call(" ".join(k or "" for k in keys))
    assert ended_properly(result.variables, result.hung_up_by)
    assert result.closed_by_service


@FUZZ
@given(caller_id=hostile_text, caller_name=hostile_text, extra=hostile_text)
async def test_hostile_environment_values_are_never_echoed(
    line: Line, caller_id: str, caller_name: str, extra: str
) -> None:
    """Caller ID, name and other AGI values of any content: call works, nothing is echoed."""
    result = await line.asterisk.place(
        SimulatedCall(
            caller_id=caller_id.strip() or "unknown",
            caller_name=caller_name.strip(),
            answers=SimulatedCall.parse_dtmf("1 1001# 2468# # 123456# 1 #"),
            sound_exists=sound_exists("ivr"),
            extra_env={"agi_arg_1": extra.strip()},
        )
    )
    assert result.violations == []
    assert ended_properly(result.variables, result.hung_up_by)
    for command in result.commands:
        assert all(ch in string.printable for ch in command), command
        if len(caller_name.strip()) > 3:
            assert caller_name.strip() not in command
