"""The support line's dialplan: asterisklint-clean, and acting on every route the service sets.

``dialplan/support-line.conf`` is checked three ways: asterisklint on a minimal
``extensions.conf`` that includes it; its text, parsed, against the names the
service uses (routes, channel variables, the FastAGI route, prompts); and a small
interpreter for the handful of applications it uses, which walks each call path.
The linter's runner, the parser and the interpreter are in ``tests/support/dialplan.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ivr.domain.records import Route
from ivr.domain.variables import Var
from ivr.flows.prompts import sound_exists
from ivr.flows.routes import ONCALL_MESSAGE, SUPPORT_LINE
from tests.support.dialplan import (
    CALLER_CHANNEL,
    CONTEXT,
    DEFAULT_AGI_URL,
    DEFAULT_GENERAL_QUEUE,
    GLOBAL_SETTINGS,
    HARMLESS_WRAPPER_HINTS,
    IVR_NAME,
    LINT_LINE,
    MAIN_NUMBER,
    NUMBERS,
    SOUND_COMMENT,
    SOUNDS_PREFIX,
    Asterisk,
    Engineer,
    asterisklint,
    dialplan_text,
    labels,
    main_steps,
    routed,
    run_lint,
    strip_comment,
    support_line,
    write_wrapper,
)

# ---------------------------------------------------------------------------
# asterisklint


def test_asterisklint_reports_nothing_about_the_dialplan(tmp_path: Path) -> None:
    """asterisklint dialplan-check raises no message at all except known wrapper hints."""
    assert asterisklint().is_file(), "asterisklint is not installed: run ./scripts/setup.sh"
    wrapper = write_wrapper(tmp_path)
    result = run_lint("dialplan-check", wrapper)
    assert result.stdout == ""
    unexpected: list[str] = []
    for line in result.stderr.splitlines():
        match = LINT_LINE.match(line)
        harmless = (
            match is not None
            and Path(match["file"]) == wrapper
            and match["code"] in HARMLESS_WRAPPER_HINTS
        )
        if not harmless:
            unexpected.append(line)
    assert unexpected == [], "\n".join(unexpected)
    # 0: nothing reported; 1: something reported (here only harmless hints).
    assert result.returncode == (0 if result.stderr == "" else 1), result.stderr


def test_asterisklint_loads_the_included_context(tmp_path: Path) -> None:
    """asterisklint dialplan-show sees the context and the three numbers through the include."""
    result = run_lint("dialplan-show", write_wrapper(tmp_path))
    assert result.returncode == 0, result.stderr
    assert f"[ Context '{CONTEXT}' created by 'pbx_config' ]" in result.stdout
    for number in NUMBERS:
        assert re.search(rf"^\s*'{re.escape(number)}' =>", result.stdout, re.MULTILINE), number


# ---------------------------------------------------------------------------
# The dialplan text


def test_all_three_number_forms_reach_one_extension() -> None:
    """2145565917, 12145565917 and +12145565917 all run the same extension."""
    extensions = support_line()
    assert set(extensions) == {*NUMBERS, "h"}
    for number in NUMBERS:
        if number != MAIN_NUMBER:
            assert [(s.app, s.args) for s in extensions[number]] == [
                ("Goto", f"{CONTEXT},{MAIN_NUMBER},1")
            ]


def test_agi_call_targets_the_support_line_route() -> None:
    """The first AGI call asks for route support-line, before any Answer; the other is on-call."""
    steps = main_steps()
    agi = [i for i, step in enumerate(steps) if step.app in {"AGI", "EAGI", "DeadAGI"}]
    assert len(agi) == 2
    assert steps[agi[0]].args == f"${{SL_AGI_URL}}/{SUPPORT_LINE}"
    assert steps[agi[1] - 1].label == "oncall_exhausted"
    assert steps[agi[1]].args == f"${{SL_AGI_URL}}/{ONCALL_MESSAGE}?ticket=${{IVR_TICKET}}"
    # The service answers the call itself.
    assert all(step.app != "Answer" for step in steps[: agi[0]])


def test_hangup_during_oncall_reports_to_the_service() -> None:
    """The h extension tells route oncall-message when the caller left mid-chain, once only,
    and never after an engineer accepted."""
    steps = support_line()["h"]
    assert [(s.app, s.args) for s in steps[:3]] == [
        ("GotoIf", '$["${SL_ONCALL_RINGING}" != "1"]?done'),
        ("GotoIf", '$["${SHARED(SL_SCREEN_ACCEPTED)}" = "1"]?done'),
        ("AGI", f"${{SL_AGI_URL}}/{ONCALL_MESSAGE}?ticket=${{IVR_TICKET}}"),
    ]
    main = main_steps()
    ringing = [(s.label, s.args) for s in main if s.args.startswith("SL_ONCALL_RINGING=")]
    assert ringing == [
        ("", "SL_ONCALL_RINGING="),  # cleared before the service runs
        ("", "SL_ONCALL_RINGING=1"),  # the chain starts
        ("oncall_exhausted", "SL_ONCALL_RINGING="),
        ("oncall_answered", "SL_ONCALL_RINGING="),
    ]


def test_agistatus_is_not_what_decides_the_route() -> None:
    """Right after the AGI call the route is read; AGISTATUS (failed by any one command)
    is never consulted, and an empty route leads to the general queue."""
    steps = main_steps()
    index = next(i for i, step in enumerate(steps) if step.app == "AGI")
    assert "AGISTATUS" not in dialplan_code()
    assert steps[index + 1].args.startswith('$["${IVR_ROUTE}" = ')
    general = next(i for i, step in enumerate(steps) if step.label == "general")
    queued = [step for step in steps[general:] if step.app == "Queue"]
    assert queued, "the general label leads to a Queue()"
    assert queued[0].args.split(",")[0] == "${SL_GENERAL_QUEUE}"


def test_every_variable_acted_on_is_cleared_before_the_service_runs() -> None:
    """Each IVR_* the dialplan reads after the AGI call is emptied before it."""
    steps = main_steps()
    index = next(i for i, step in enumerate(steps) if step.app == "AGI")
    cleared = {s.args[:-1] for s in steps[:index] if s.app == "Set" and s.args.endswith("=")}
    read = set(IVR_NAME.findall(" ".join(s.args for s in steps[index + 1 :])))
    assert read - {"IVR_AGI_URL", "IVR_QUEUE_GENERAL"} <= cleared, read - cleared


def dialplan_code() -> str:
    """The dialplan without its comments."""
    return "\n".join(strip_comment(line) for line in dialplan_text().splitlines())


def test_every_ivr_variable_is_known() -> None:
    """Every IVR_* name in the dialplan (comments aside) is a Var or a documented setting."""
    code = "\n".join(strip_comment(line) for line in dialplan_text().splitlines())
    used = set(IVR_NAME.findall(code))
    assert used, "the dialplan acts on IVR_* variables"
    allowed = {var.value for var in Var} | GLOBAL_SETTINGS
    assert used <= allowed, sorted(used - allowed)
    # The operator settings are read only from [globals], and documented in a comment.
    for name in GLOBAL_SETTINGS:
        assert set(re.findall(rf"(\$\{{|\bGLOBAL\(){name}\b", code)) == {"GLOBAL("}, name
        assert f";   {name}" in dialplan_text(), f"{name} is documented at the top"


def test_every_route_is_handled_by_an_explicit_comparison() -> None:
    """Each Route value has its own IVR_ROUTE comparison to an existing label; no dynamic Goto."""
    steps = main_steps()
    targets: dict[str, str] = {}
    for step in steps:
        match = re.fullmatch(r'\$\["\$\{IVR_ROUTE\}" = "(\w+)"\]\?(\w+)', step.args)
        if step.app == "GotoIf" and match:
            assert targets.setdefault(match[1], match[2]) == match[2], "one label per route"
    assert set(targets) == {route.value for route in Route}
    assert set(targets.values()) <= labels()
    # No Goto/GotoIf destination comes from a variable: a missing one drops the call.
    for step in steps:
        if step.app in {"Goto", "GotoIf"}:
            destination = step.args.rsplit("?", 1)[-1]
            assert "$" not in destination, f"line {step.lineno}: dynamic jump"
    # After each run of comparisons, an empty or unknown route falls to the general queue.
    last = [
        i
        for i, step in enumerate(steps)
        if "${IVR_ROUTE}" in step.args and "${IVR_ROUTE}" not in steps[i + 1].args
    ]
    assert len(last) == 2
    for i in last:
        assert (steps[i + 1].app, steps[i + 1].args) == ("Goto", "general")


def test_played_sounds_are_listed_and_in_the_prompt_catalogue() -> None:
    """The header lists exactly the sounds played, and each is a catalogue prompt."""
    played = {step.args for step in main_steps() if step.app in {"Playback", "Background", "Read"}}
    listed = {
        match["sound"]
        for line in dialplan_text().splitlines()
        if (match := SOUND_COMMENT.match(line))
    }
    assert played == listed
    exists = sound_exists(SOUNDS_PREFIX)
    assert all(exists(sound) for sound in played), played


# ---------------------------------------------------------------------------
# Walking the call paths

GENERAL_THEN_GOODBYE: list[tuple[str, ...]] = [
    ("Answer",),
    ("Playback", "ivr/transfer-general"),
    ("Queue", DEFAULT_GENERAL_QUEUE, "600", ""),
    ("Playback", "ivr/goodbye"),
    ("Hangup",),
]


@pytest.mark.parametrize("number", NUMBERS)
@pytest.mark.parametrize("status", ["FAILURE", "NOTFOUND"])
def test_walk_service_unreachable_sends_to_general_queue(number: str, status: str) -> None:
    """An AGI failure from any number form: the general queue, then goodbye, never silence."""
    call = Asterisk(agi_status=status).run(number)
    assert call.events == [("AGI", f"{DEFAULT_AGI_URL}/support-line"), *GENERAL_THEN_GOODBYE]


def test_walk_operator_globals_are_used_and_not_overridden_by_the_channel() -> None:
    """IVR_AGI_URL and IVR_QUEUE_GENERAL come from [globals]; a channel variable cannot override."""
    asterisk = Asterisk(
        globals_={"IVR_AGI_URL": "hagi://agi.example.net", "IVR_QUEUE_GENERAL": "helpdesk"},
        agi_status="FAILURE",
    )
    call = asterisk.run(MAIN_NUMBER, channel={"IVR_AGI_URL": "agi://203.0.113.9"})
    assert call.events[0] == ("AGI", "hagi://agi.example.net/support-line")
    assert ("Queue", "helpdesk", "600", "") in call.events


def test_walk_stale_route_variables_are_cleared_before_the_service_runs() -> None:
    """A route variable the channel brought along is not acted on when the service sets none."""
    call = Asterisk().run(MAIN_NUMBER, channel=routed("oncall", oncall_dial="PJSIP/666@trunk"))
    assert call.events == [("AGI", f"{DEFAULT_AGI_URL}/support-line"), *GENERAL_THEN_GOODBYE]


@pytest.mark.parametrize("route", ["", "bogus", "QUEUE"])
def test_walk_empty_or_unknown_route_goes_to_general_queue(route: str) -> None:
    """An empty or unknown IVR_ROUTE is the general queue."""
    call = Asterisk(service_sets=routed(route) if route else {}).run(MAIN_NUMBER)
    assert call.events[1:] == GENERAL_THEN_GOODBYE


def test_walk_queue_with_priority_then_general_then_goodbye() -> None:
    """queue: QUEUE_PRIO, the tier queue for 300 s, the general queue once, then goodbye."""
    sets = routed("queue", queue="support-premium", queue_priority="25")
    call = Asterisk(service_sets=sets).run(MAIN_NUMBER)
    assert call.events[1:] == [
        ("Queue", "support-premium", "300", "25"),
        ("Answer",),
        ("Playback", "ivr/transfer-general"),
        ("Queue", DEFAULT_GENERAL_QUEUE, "600", "25"),
        ("Playback", "ivr/goodbye"),
        ("Hangup",),
    ]


def test_walk_queue_answered_ends_in_the_queue() -> None:
    """queue: an agent answers, nothing else runs."""
    sets = routed("queue", queue="support-premium", queue_priority="25")
    call = Asterisk(service_sets=sets, answered_queues=frozenset({"support-premium"})).run(
        MAIN_NUMBER
    )
    assert call.events[1:] == [("Queue", "support-premium", "300", "25")]


def test_walk_queue_already_general_is_not_joined_twice() -> None:
    """queue: when the service chose the general queue, a timeout ends with goodbye."""
    sets = routed("queue", queue=DEFAULT_GENERAL_QUEUE, queue_priority="0")
    call = Asterisk(service_sets=sets).run(MAIN_NUMBER)
    assert call.events[1:] == [
        ("Queue", DEFAULT_GENERAL_QUEUE, "300", "0"),
        ("Playback", "ivr/goodbye"),
        ("Hangup",),
    ]


def test_walk_queue_without_name_goes_to_general_queue() -> None:
    """queue: no IVR_QUEUE is the general queue, and no empty QUEUE_PRIO is set."""
    call = Asterisk(service_sets=routed("queue")).run(MAIN_NUMBER)
    assert call.events[1:] == GENERAL_THEN_GOODBYE
    assert "QUEUE_PRIO" not in call.channel


ONCALL_CHAIN = {
    "IVR_TICKET": "10001",
    "IVR_ONCALL_STEPS": "3",
    "IVR_ONCALL_DIAL_1": "PJSIP/201",
    "IVR_ONCALL_TIMEOUT_1": "30",
    "IVR_ONCALL_DIAL_2": "PJSIP/202",
    "IVR_ONCALL_TIMEOUT_2": "30",
    "IVR_ONCALL_DIAL_3": "PJSIP/299@trunk",
    "IVR_ONCALL_TIMEOUT_3": "45",
}
# Asterisk 22 runs U(ctx^a^b^c) as Gosub(ctx,s,1(a,b,c)): context first, then the
# ticket, the step and the caller's channel (which an accepting engineer marks).
SCREEN = f"U(ivr-oncall-screen^10001^{{step}}^{CALLER_CHANNEL})"
SCREENING = ("AGI", f"{DEFAULT_AGI_URL}/oncall-accept?ticket=10001&step={{step}}")
MESSAGE = ("AGI", f"{DEFAULT_AGI_URL}/{ONCALL_MESSAGE}?ticket=10001")


def oncall(steps: int) -> dict[str, str]:
    """The variables of an on-call decision with a chain of ``steps`` engineers."""
    chain = {k: v for k, v in ONCALL_CHAIN.items() if k[-1] not in "123"[steps:]}
    return {Var.ROUTE.value: "oncall", **chain, "IVR_ONCALL_STEPS": str(steps)}


def dialled(call_events: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """The Dial, screening, bridge and message events of a call, in order."""
    return [e for e in call_events if e[0] in {"Dial", "screened", "bridged"} or e in {MESSAGE}]


def test_walk_oncall_screening_runs_in_its_context_with_ticket_and_step() -> None:
    """The engineer's channel runs [ivr-oncall-screen] s,1 with ARG1 ticket, ARG2 step: the
    service's oncall-accept route is asked about ticket 10001, step 1 (not "ticket=s")."""
    asterisk = Asterisk(service_sets=oncall(1), engineers={"PJSIP/201": Engineer(accepts=True)})
    call = asterisk.run(MAIN_NUMBER)
    assert ("Dial", "PJSIP/201", "30", SCREEN.format(step=1)) in call.events
    assert (SCREENING[0], SCREENING[1].format(step=1)) in call.events


def test_walk_oncall_first_engineer_accepts() -> None:
    """oncall: the primary accepts the screening and is bridged; nothing more is dialled."""
    engineers = {"PJSIP/201": Engineer(accepts=True)}
    call = Asterisk(service_sets=oncall(3), engineers=engineers).run(MAIN_NUMBER)
    assert dialled(call.events) == [
        ("Dial", "PJSIP/201", "30", SCREEN.format(step=1)),
        ("bridged", "PJSIP/201"),
    ]
    assert MESSAGE not in call.events  # not from the h extension either


def test_walk_oncall_primary_declines_secondary_accepts() -> None:
    """A declined screening leaves DIALSTATUS=ANSWER, yet the chain goes on to the secondary,
    who accepts and is bridged; the caller is never hung up on by the decline."""
    engineers = {"PJSIP/201": Engineer(), "PJSIP/202": Engineer(accepts=True)}
    call = Asterisk(service_sets=oncall(3), engineers=engineers).run(MAIN_NUMBER)
    assert dialled(call.events) == [
        ("Dial", "PJSIP/201", "30", SCREEN.format(step=1)),
        ("screened", "PJSIP/201", "declined"),
        ("Dial", "PJSIP/202", "30", SCREEN.format(step=2)),
        ("bridged", "PJSIP/202"),
    ]
    assert MESSAGE not in call.events


def test_walk_oncall_screening_that_failed_counts_as_declined() -> None:
    """The screening route unreachable (no IVR_ACCEPTED): that engineer is passed over."""
    engineers = {
        "PJSIP/201": Engineer(accepts=True, screen_status="FAILURE"),
        "PJSIP/202": Engineer(accepts=True),
    }
    failing = Asterisk(service_sets=oncall(2), engineers=engineers)
    call = failing.run(MAIN_NUMBER)
    assert ("bridged", "PJSIP/201") in call.events  # the service said yes: AGISTATUS is moot
    engineers = {"PJSIP/201": Engineer(answers=True), "PJSIP/202": Engineer(accepts=True)}
    call = Asterisk(service_sets=oncall(2), engineers=engineers).run(MAIN_NUMBER)
    assert ("bridged", "PJSIP/202") in call.events


def test_walk_oncall_whole_chain_declines_then_message() -> None:
    """oncall: every step answers and declines (DIALSTATUS=ANSWER each time); then the caller
    leaves a message and the call ends."""
    engineers = {target: Engineer() for target in ("PJSIP/201", "PJSIP/202", "PJSIP/299@trunk")}
    sets = oncall(3)
    asterisk = Asterisk(
        service_sets=sets, engineers=engineers, message_sets={"IVR_ROUTE": "hangup"}
    )
    call = asterisk.run(MAIN_NUMBER)
    assert dialled(call.events) == [
        ("Dial", "PJSIP/201", "30", SCREEN.format(step=1)),
        ("screened", "PJSIP/201", "declined"),
        ("Dial", "PJSIP/202", "30", SCREEN.format(step=2)),
        ("screened", "PJSIP/202", "declined"),
        ("Dial", "PJSIP/299@trunk", "45", SCREEN.format(step=3)),
        ("screened", "PJSIP/299@trunk", "declined"),
        MESSAGE,
    ]
    assert call.events[-1] == ("Hangup",)
    assert call.events.count(MESSAGE) == 1  # not again from the h extension


def test_walk_oncall_nobody_answers_then_message() -> None:
    """oncall: no phone is picked up; each step rings out, then the message."""
    asterisk = Asterisk(service_sets=oncall(3), message_sets={"IVR_ROUTE": "hangup"})
    call = asterisk.run(MAIN_NUMBER)
    assert [e[0] for e in dialled(call.events)] == ["Dial", "Dial", "Dial", "AGI"]
    assert call.events[-1] == ("Hangup",)


def test_walk_oncall_short_chain_stops_early() -> None:
    """oncall: a one-step chain dials only that engineer before the message."""
    call = Asterisk(service_sets=oncall(1), message_sets={"IVR_ROUTE": "hangup"}).run(MAIN_NUMBER)
    assert call.events[1:] == [
        ("Dial", "PJSIP/201", "30", SCREEN.format(step=1)),
        MESSAGE,
        ("Hangup",),
    ]


def test_walk_oncall_caller_hangs_up_while_the_chain_rings() -> None:
    """The caller leaves during the first Dial: the h extension tells oncall-message."""
    asterisk = Asterisk(service_sets=oncall(3), caller_hangs_up_in_dial=1)
    call = asterisk.run(MAIN_NUMBER)
    assert call.events[-2:] == [("caller hung up",), MESSAGE]


def test_walk_oncall_message_failure_goes_to_general_queue() -> None:
    """oncall: if the message route fails, the caller still reaches the general queue."""
    call = Asterisk(service_sets=oncall(1), message_status="FAILURE").run(MAIN_NUMBER)
    assert call.events[-5:] == GENERAL_THEN_GOODBYE


@pytest.mark.parametrize("steps", ["", "0"])
def test_walk_oncall_without_chain_goes_to_general_queue(steps: str) -> None:
    """oncall: no rotation configured (no steps) is the general queue."""
    sets = {Var.ROUTE.value: "oncall", "IVR_ONCALL_STEPS": steps}
    call = Asterisk(service_sets=sets).run(MAIN_NUMBER)
    assert call.events[1:] == GENERAL_THEN_GOODBYE


@pytest.mark.parametrize("status", ["FAILURE", "HANGUP", "SUCCESS"])
def test_walk_a_decision_is_acted_on_whatever_agistatus(status: str) -> None:
    """The service set a route and a failed command (a missing sound, a recording directory
    that does not exist) marked the session failed: the caller still goes where it said."""
    sets = routed("queue", queue="support-premium-plus", queue_priority="35")
    call = Asterisk(agi_status=status, service_sets=sets).run(MAIN_NUMBER)
    assert call.events[1] == ("Queue", "support-premium-plus", "300", "35")


def test_walk_renewals_then_general_queue() -> None:
    """renewals: the renewals queue the service names, then the general queue."""
    call = Asterisk(service_sets=routed("renewals", queue="support-renewals")).run(MAIN_NUMBER)
    assert call.events[1:] == [("Queue", "support-renewals", "300", ""), *GENERAL_THEN_GOODBYE]


@pytest.mark.parametrize("route", [Route.CLOSED, Route.HANGUP])
def test_walk_closed_and_hangup_just_hang_up(route: Route) -> None:
    """closed and hangup: the service has said goodbye; the dialplan hangs up."""
    call = Asterisk(service_sets=routed(route.value)).run(MAIN_NUMBER)
    assert call.events[1:] == [("Hangup",)]


@pytest.mark.parametrize("route", list(Route))
def test_walk_every_route_ends_with_a_hangup_or_a_bridge(route: Route) -> None:
    """Every Route value, even with nothing else set, ends the call without a loop."""
    call = Asterisk(service_sets=routed(route.value)).run(MAIN_NUMBER)
    assert call.events[-1] == ("Hangup",)
    assert sum(1 for event in call.events if event[0] == "Queue") <= 2
