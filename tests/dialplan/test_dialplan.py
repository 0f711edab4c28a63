"""The support line's dialplan: asterisklint-clean, and acting on every route the service sets.

``dialplan/support-line.conf`` is checked three ways: asterisklint on a minimal
``extensions.conf`` that includes it; its text, parsed here, against the names the
service uses (routes, channel variables, the FastAGI route, prompts); and a small
interpreter for the handful of applications it uses, which walks each call path.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ivr.domain.records import Route
from ivr.domain.variables import Var
from ivr.flows.prompts import sound_exists
from ivr.flows.routes import ONCALL_MESSAGE, SUPPORT_LINE

DIALPLAN = Path(__file__).resolve().parents[2] / "dialplan" / "support-line.conf"
CONTEXT = "ivr-support-line"
SCREEN_CONTEXT = "ivr-oncall-screen"
PAGE_CONTEXT = "ivr-oncall-page"
NUMBERS = ("2145565917", "12145565917", "+12145565917")
MAIN_NUMBER = "2145565917"
# Operator settings read from [globals]; documented at the top of the file.
GLOBAL_SETTINGS = frozenset({"IVR_AGI_URL", "IVR_QUEUE_GENERAL"})
DEFAULT_AGI_URL = "agi://127.0.0.1:4573"
DEFAULT_GENERAL_QUEUE = "support-general"
SOUNDS_PREFIX = "ivr"

# ---------------------------------------------------------------------------
# asterisklint

# One line per message on stderr: "<file>:<line> <CODE>: <text>" (asterisklint's
# MessageDefManager.on_message). The code's letter is not a reliable severity
# (E_DP_INCLUDE_POSITION is a warning, W_APP_WSH an error), so every message fails
# the test unless it is listed here.
LINT_LINE = re.compile(r"^(?P<file>.+):(?P<line>-?\d+) (?P<code>[A-Z]+_[A-Z0-9_]+): (?P<text>.*)$")
# Hints that may be raised about the test's own wrapper file, never about the
# dialplan under test. Both are about blank lines between the wrapper's contexts
# or settings: layout of a file that exists only in tmp_path, with no effect on
# what Asterisk loads.
HARMLESS_WRAPPER_HINTS = frozenset({"H_WSV_CTX_BETWEEN", "H_WSV_VARSET_BETWEEN"})


def asterisklint() -> Path:
    """The asterisklint script of the interpreter running the tests."""
    return Path(sys.executable).parent / "asterisklint"


def write_wrapper(tmp_path: Path, *dialplans: Path) -> Path:
    """A minimal extensions.conf as asterisklint wants it: [general], [globals], includes."""
    wrapper = tmp_path / "extensions.conf"
    includes = "".join(f'#include "{path}"\n' for path in dialplans or (DIALPLAN,))
    wrapper.write_text(
        "[general]\n"
        "static=yes\n"
        "writeprotect=no\n"
        "clearglobalvars=no\n"
        "\n"
        "[globals]\n"
        f"IVR_AGI_URL={DEFAULT_AGI_URL}\n"
        f"IVR_QUEUE_GENERAL={DEFAULT_GENERAL_QUEUE}\n"
        "\n" + includes,
        encoding="utf-8",
    )
    return wrapper


def run_lint(command: str, wrapper: Path) -> subprocess.CompletedProcess[str]:
    """Run an asterisklint command on the wrapper, with no messages muted."""
    env = {name: value for name, value in os.environ.items() if name != "ALINT_IGNORE"}
    return subprocess.run(
        [str(asterisklint()), command, str(wrapper)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
        cwd=wrapper.parent,
        env=env,
    )


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

EXTEN_LINE = re.compile(r"^exten\s*=>\s*(?P<exten>[^,]+),(?P<prio>[^,(]+)(?:\((?P<label>\w+)\))?,")
SAME_LINE = re.compile(r"^same\s*=>\s*(?P<prio>[^,(]+)(?:\((?P<label>\w+)\))?,")
APP_CALL = re.compile(r"^(?P<app>[A-Za-z]+)\((?P<args>.*)\)$")
IVR_NAME = re.compile(r"\bIVR_[A-Z0-9_]+\b")
SOUND_COMMENT = re.compile(r"^;\s+sound:\s+(?P<sound>\S+)\s*$")


@dataclass(frozen=True, slots=True)
class Step:
    """One priority of an extension: its label (or ""), application and raw arguments."""

    label: str
    app: str
    args: str
    lineno: int


Contexts = dict[str, dict[str, list[Step]]]


def strip_comment(line: str) -> str:
    """The line without its comment (an unescaped semicolon starts one)."""
    return re.split(r"(?<!\\);", line, maxsplit=1)[0].strip()


def parse_dialplan(text: str) -> Contexts:
    """Contexts, extensions and their steps; any other kind of line is an error."""
    contexts: Contexts = {}
    steps: list[Step] | None = None
    extension: dict[str, list[Step]] | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = strip_comment(raw)
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            extension = contexts.setdefault(line[1:-1], {})
            steps = None
            continue
        if (match := EXTEN_LINE.match(line)) and extension is not None:
            assert match["prio"] == "1", f"line {lineno}: an extension starts at priority 1"
            assert match["exten"] not in extension, f"line {lineno}: extension defined twice"
            steps = extension.setdefault(match["exten"], [])
        elif (match := SAME_LINE.match(line)) and steps is not None:
            assert match["prio"] == "n", f"line {lineno}: use 'same => n'"
        else:
            raise AssertionError(f"line {lineno}: unexpected dialplan line {raw!r}")
        call = APP_CALL.match(line[match.end() :])
        assert call, f"line {lineno}: not an application call: {raw!r}"
        steps.append(Step(match["label"] or "", call["app"], call["args"], lineno))
    return contexts


def dialplan_text() -> str:
    """The dialplan file's text."""
    return DIALPLAN.read_text(encoding="utf-8")


def support_line() -> dict[str, list[Step]]:
    """The extensions of the support line's context."""
    contexts = parse_dialplan(dialplan_text())
    assert list(contexts) == [CONTEXT, SCREEN_CONTEXT, PAGE_CONTEXT], "no [globals] in an include"
    return contexts[CONTEXT]


def main_steps() -> list[Step]:
    """The steps of the extension every form of the number lands on."""
    return support_line()[MAIN_NUMBER]


def labels() -> set[str]:
    """Every label of the main extension."""
    return {step.label for step in main_steps() if step.label}


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
    """The h extension tells route oncall-message when the caller left mid-chain, once only."""
    steps = support_line()["h"]
    assert [(s.app, s.args) for s in steps[:3]] == [
        ("GotoIf", '$["${IVR_ROUTE}" != "oncall"]?done'),
        ("GotoIf", '$["${SL_ONCALL_DONE}" = "1"]?done'),
        ("AGI", f"${{SL_AGI_URL}}/{ONCALL_MESSAGE}?ticket=${{IVR_TICKET}}"),
    ]
    main = main_steps()
    done = [i for i, s in enumerate(main) if s.args == "SL_ONCALL_DONE=1"]
    assert [main[i].label for i in done] == ["oncall_exhausted", "oncall_answered"]


def test_agistatus_other_than_success_goes_to_the_general_queue() -> None:
    """Right after the AGI call, anything but AGISTATUS=SUCCESS jumps to the general queue."""
    steps = main_steps()
    index = next(i for i, step in enumerate(steps) if step.app == "AGI")
    check = steps[index + 1]
    assert (check.app, check.args) == ("GotoIf", '$["${AGISTATUS}" != "SUCCESS"]?general')
    general = next(i for i, step in enumerate(steps) if step.label == "general")
    queued = [step for step in steps[general:] if step.app == "Queue"]
    assert queued, "the general label leads to a Queue()"
    assert queued[0].args.split(",")[0] == "${SL_GENERAL_QUEUE}"


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

# Everything the dialplan reads: the service's variables, its own SL_* values and
# what Asterisk sets. Anything else (caller ID, the dialled digits) is refused.
ASTERISK_SET = frozenset({"AGISTATUS", "DIALSTATUS", "QUEUESTATUS"})
VAR_REF = re.compile(r"\$\{(?:(?P<func>GLOBAL)\((?P<fname>\w+)\)|(?P<name>\w+))\}")
EXPRESSION = re.compile(r'\$\["(?P<left>[^"]*)" (?P<op>!?=) "(?P<right>[^"]*)"\]')
MAX_STEPS = 200


@dataclass(slots=True)
class Call:
    """What happened to one call: the applications run, in order, with their arguments."""

    events: list[tuple[str, ...]] = field(default_factory=list)
    channel: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Asterisk:
    """Just enough of Asterisk for this dialplan: a scripted service, queues and a phone."""

    globals_: Mapping[str, str] = field(default_factory=dict)
    agi_status: str = "SUCCESS"
    service_sets: Mapping[str, str] = field(default_factory=dict)
    message_sets: Mapping[str, str] = field(default_factory=dict)  # route oncall-message
    answered_queues: frozenset[str] = frozenset()
    dial_status: str = "NOANSWER"

    def run(self, number: str, channel: Mapping[str, str] | None = None) -> Call:
        """Dial the number and follow the dialplan until the call ends."""
        extensions = support_line()
        call = Call(channel=dict(channel or {}))
        exten, index = number, 0
        for _ in range(MAX_STEPS):
            steps = extensions[exten]
            assert index < len(steps), f"fell off the end of {exten}: Asterisk would hang up"
            step = steps[index]
            args = EXPRESSION.sub(
                self._compare, VAR_REF.sub(lambda m: self._read(m, call), step.args)
            )
            # Any other ${...} (CALLERID(num), EXTEN, ...) or expression is refused.
            assert "${" not in args, f"line {step.lineno}: reads {step.args}"
            assert "$[" not in args, f"line {step.lineno}: unsupported expression {step.args}"
            index += 1
            jump = self._execute(step.app, args, call)
            if jump is None:
                return call
            if "," in jump:  # Goto(context,exten,priority)
                context, exten, priority = jump.split(",")
                assert (context, priority) == (CONTEXT, "1"), jump
                index = 0
            elif jump:  # a label of the current extension
                index = next(i for i, s in enumerate(extensions[exten]) if s.label == jump)
        raise AssertionError(f"no end after {MAX_STEPS} steps: {call.events}")

    def _read(self, match: re.Match[str], call: Call) -> str:
        if match["func"]:
            name = match["fname"]
            assert name in GLOBAL_SETTINGS, name
            return self.globals_.get(name, "")
        name = match["name"]
        allowed = {var.value for var in Var} | ASTERISK_SET
        assert name in allowed or name.startswith("SL_"), f"reads {name}"
        return call.channel.get(name, self.globals_.get(name, ""))

    @staticmethod
    def _compare(match: re.Match[str]) -> str:
        equal = match["left"] == match["right"]
        return "1" if equal == (match["op"] == "=") else "0"

    def _execute(self, app: str, args: str, call: Call) -> str | None:
        """Run one application: None ends the call, "" goes on, else a jump."""
        if app == "NoOp":
            return ""
        if app == "Set":
            name, _, value = args.partition("=")
            call.channel[name] = value
            return ""
        if app == "Goto":
            return args
        if app == "GotoIf":
            condition, _, destination = args.partition("?")
            assert condition in {"0", "1"}, args
            return destination if condition == "1" else ""
        if app == "AGI":
            call.events.append(("AGI", args))
            call.channel["AGISTATUS"] = self.agi_status
            if self.agi_status == "SUCCESS":
                message = f"/{ONCALL_MESSAGE}?" in args
                call.channel.update(self.message_sets if message else self.service_sets)
            return ""
        if app == "Queue":
            name, _options, _url, _announce, timeout = args.split(",")
            call.events.append(("Queue", name, timeout, call.channel.get("QUEUE_PRIO", "")))
            if name in self.answered_queues:
                return None  # bridged; Asterisk hangs up the caller when it ends
            call.channel["QUEUESTATUS"] = "TIMEOUT"
            return ""
        if app == "Dial":
            call.events.append(("Dial", *args.split(",")))
            call.channel["DIALSTATUS"] = self.dial_status
            return None if self.dial_status == "ANSWER" else ""
        if app in {"Answer", "Playback"}:
            call.events.append((app, args) if args else (app,))
            return ""
        if app == "Hangup":
            call.events.append(("Hangup",))
            return None
        raise AssertionError(f"unexpected application {app}({args})")


GENERAL_THEN_GOODBYE: list[tuple[str, ...]] = [
    ("Answer",),
    ("Playback", "ivr/transfer-general"),
    ("Queue", DEFAULT_GENERAL_QUEUE, "600", ""),
    ("Playback", "ivr/goodbye"),
    ("Hangup",),
]


def routed(route: str, **values: str) -> dict[str, str]:
    """The variables the service sets for a route."""
    return {Var.ROUTE.value: route, **{Var[name.upper()].value: v for name, v in values.items()}}


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
SCREEN = "U(ivr-oncall-screen^s^1^10001^{step})"
MESSAGE = ("AGI", f"{DEFAULT_AGI_URL}/{ONCALL_MESSAGE}?ticket=10001")


def oncall(steps: int) -> dict[str, str]:
    """The variables of an on-call decision with a chain of ``steps`` engineers."""
    chain = {k: v for k, v in ONCALL_CHAIN.items() if k[-1] not in "123"[steps:]}
    return {Var.ROUTE.value: "oncall", **chain, "IVR_ONCALL_STEPS": str(steps)}


def test_walk_oncall_first_engineer_accepts() -> None:
    """oncall: the primary is dialled with screening; accepting bridges the call."""
    call = Asterisk(service_sets=oncall(3), dial_status="ANSWER").run(MAIN_NUMBER)
    assert call.events[1:] == [("Dial", "PJSIP/201", "30", SCREEN.format(step=1))]


def test_walk_oncall_whole_chain_then_message() -> None:
    """oncall: each step in turn, then the caller leaves a message and the call ends."""
    sets = oncall(3)
    call = Asterisk(service_sets=sets, message_sets={"IVR_ROUTE": "hangup"}).run(MAIN_NUMBER)
    assert call.events[1:] == [
        ("Dial", "PJSIP/201", "30", SCREEN.format(step=1)),
        ("Dial", "PJSIP/202", "30", SCREEN.format(step=2)),
        ("Dial", "PJSIP/299@trunk", "45", SCREEN.format(step=3)),
        MESSAGE,
        ("Hangup",),
    ]


def test_walk_oncall_short_chain_stops_early() -> None:
    """oncall: a one-step chain dials only that engineer before the message."""
    call = Asterisk(service_sets=oncall(1), message_sets={"IVR_ROUTE": "hangup"}).run(MAIN_NUMBER)
    assert call.events[1:] == [
        ("Dial", "PJSIP/201", "30", SCREEN.format(step=1)),
        MESSAGE,
        ("Hangup",),
    ]


def test_walk_oncall_message_failure_goes_to_general_queue() -> None:
    """oncall: if the message route fails, the caller still reaches the general queue."""
    call = Asterisk(service_sets=oncall(1)).run(MAIN_NUMBER)
    assert call.events[-5:] == GENERAL_THEN_GOODBYE


@pytest.mark.parametrize("steps", ["", "0"])
def test_walk_oncall_without_chain_goes_to_general_queue(steps: str) -> None:
    """oncall: no rotation configured (no steps) is the general queue."""
    sets = {Var.ROUTE.value: "oncall", "IVR_ONCALL_STEPS": steps}
    call = Asterisk(service_sets=sets).run(MAIN_NUMBER)
    assert call.events[1:] == GENERAL_THEN_GOODBYE


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
