"""The support line's dialplan as the tests read it: asterisklint, a parser, an interpreter.

``dialplan/support-line.conf`` is what Asterisk loads for the support line. The
tests hold it against the service three ways, and this module has the machinery
for each, shared by ``tests/dialplan`` (the FastAGI dialplan), ``tests/agi``
(its classic-AGI variant) and ``tests/docker`` (the container's configuration):

- asterisklint: ``write_wrapper`` makes a minimal ``extensions.conf`` that
  includes dialplans, ``run_lint`` runs an asterisklint command on it, and
  ``LINT_LINE`` reads its messages;
- the text: ``parse_dialplan`` turns a dialplan into contexts, extensions and
  ``Step`` rows (any line it does not know is an error); ``support_line``,
  ``main_steps`` and ``labels`` are views of the support line's context;
- the calls: ``Asterisk`` is a small interpreter for the handful of
  applications the dialplan uses, which walks one call from a dialled number to
  its end and records what ran (``Call``). It is one class so it can grow to
  agree with the real Asterisk on more of its behaviour.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ivr.domain.variables import Var
from ivr.flows.routes import ONCALL_MESSAGE

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


# ---------------------------------------------------------------------------
# Walking the call paths

# Everything the dialplan reads: the service's variables, its own SL_* values and
# what Asterisk sets. Anything else (caller ID, the dialled digits) is refused.
ASTERISK_SET = frozenset(
    {"AGISTATUS", "DIALSTATUS", "QUEUESTATUS", "CHANNEL", "GOSUB_RESULT", "ARG1", "ARG2", "ARG3"}
)
VAR_REF = re.compile(r"\$\{(?:(?P<func>GLOBAL|SHARED)\((?P<fname>\w+)\)|(?P<name>\w+))\}")
SHARED_SET = re.compile(r"^SHARED\((?P<name>\w+)(?:,(?P<channel>[^)]+))?\)$")
EXPRESSION = re.compile(r'\$\["(?P<left>[^"]*)" (?P<op>!?=) "(?P<right>[^"]*)"\]')
MAX_STEPS = 200
CALLER_CHANNEL = "PJSIP/trunk-00000001"


@dataclass(frozen=True, slots=True)
class Engineer:
    """What an engineer reached by ``Dial`` does, as the real Asterisk plays it out.

    ``answers``: the phone is picked up (else Dial ends NOANSWER after its time).
    ``accepts``: the engineer presses 1 and the ticket is theirs: the service's
    oncall-accept route sets IVR_ACCEPTED=1. ``screen_status`` is the AGISTATUS
    Asterisk gives that screening session (``FAILURE`` when a command failed).
    """

    answers: bool = True
    accepts: bool = False
    screen_status: str = "SUCCESS"


@dataclass(slots=True)
class Channel:
    """One channel's variables and its SHARED() namespace."""

    name: str
    variables: dict[str, str] = field(default_factory=dict)
    shared: dict[str, str] = field(default_factory=dict)
    engineer: Engineer | None = None  # who answered, on an engineer's channel


@dataclass(slots=True)
class Call:
    """What happened to one call: the applications run, in order, with their arguments."""

    events: list[tuple[str, ...]] = field(default_factory=list)
    caller: Channel = field(default_factory=lambda: Channel(CALLER_CHANNEL))

    @property
    def channel(self) -> dict[str, str]:
        """The caller's channel variables."""
        return self.caller.variables


class _Hungup(Exception):
    """The channel is gone: Asterisk runs the h extension, then the call is over."""


@dataclass(frozen=True, slots=True)
class Asterisk:
    """Just enough of Asterisk 22 for this dialplan: a scripted service, queues, engineers.

    It agrees with the real one (``../shared/asterisk/dial-screening-and-agistatus.txt``)
    where the dialplan depends on it:

    - ``Dial(...,U(ctx^a^b))`` runs ``Gosub(ctx,s,1(a,b))`` on the engineer's
      channel: the first token is the context, every later one an argument;
    - a screening that sets ``GOSUB_RESULT=CONTINUE`` hangs up the engineer and
      the caller goes on with ``DIALSTATUS=ANSWER``, exactly as after a bridge;
    - a screening that returns without it bridges the two; when the engineer
      hangs up the caller is hung up too (no ``g`` option) and ``h`` runs;
    - ``AGISTATUS`` is the session's: the service may have set every variable of
      its decision and still end with ``FAILURE`` (one command failed);
    - ``SHARED(name,channel)`` set on one channel is read by ``${SHARED(name)}``
      on the named one; ``h`` runs whenever the caller's channel hangs up.
    """

    globals_: Mapping[str, str] = field(default_factory=dict)
    agi_status: str = "SUCCESS"
    service_sets: Mapping[str, str] = field(default_factory=dict)
    message_sets: Mapping[str, str] = field(default_factory=dict)  # route oncall-message
    message_status: str = "SUCCESS"
    answered_queues: frozenset[str] = frozenset()
    engineers: Mapping[str, Engineer] = field(default_factory=dict)  # by Dial target
    caller_hangs_up_in_dial: int | None = None  # the caller hangs up while Dial n rings
    context: str = CONTEXT

    def run(self, number: str, channel: Mapping[str, str] | None = None) -> Call:
        """Dial the number and follow the dialplan until the call ends (``h`` included)."""
        call = Call()
        call.caller.variables.update(channel or {})
        with contextlib.suppress(_Hungup):
            self._walk(call, call.caller, self.context, number)
        if "h" in self._contexts()[self.context]:
            self._walk(call, call.caller, self.context, "h")
        return call

    def _contexts(self) -> Contexts:
        return parse_dialplan(DIALPLAN.parent.joinpath(self._file()).read_text(encoding="utf-8"))

    def _file(self) -> str:
        return "support-line-agi.conf" if self.context.endswith("-agi") else DIALPLAN.name

    def _walk(self, call: Call, chan: Channel, context: str, exten: str) -> None:
        """Run an extension from priority 1 until it ends (Return, hang-up, fall-off)."""
        extensions = self._contexts()[context]
        index = 0
        for _ in range(MAX_STEPS):
            steps = extensions[exten]
            if exten == "h" and index == len(steps):
                return  # the hang-up handler's end: the call is over
            assert index < len(steps), f"fell off the end of {exten}: Asterisk would hang up"
            step = steps[index]
            args = EXPRESSION.sub(
                self._compare, VAR_REF.sub(lambda m: self._read(m, chan), step.args)
            )
            # Any other ${...} (CALLERID(num), EXTEN, ...) or expression is refused.
            assert "${" not in args, f"line {step.lineno}: reads {step.args}"
            assert "$[" not in args, f"line {step.lineno}: unsupported expression {step.args}"
            index += 1
            jump = self._execute(step.app, args, call, chan)
            if jump is None:
                return
            if "," in jump:  # Goto(context,exten,priority)
                target, exten, priority = jump.split(",")
                assert (target, priority) == (context, "1"), jump
                index = 0
            elif jump:  # a label of the current extension
                index = next(i for i, s in enumerate(extensions[exten]) if s.label == jump)
        raise AssertionError(f"no end after {MAX_STEPS} steps: {call.events}")

    def _read(self, match: re.Match[str], chan: Channel) -> str:
        if match["func"] == "GLOBAL":
            name = match["fname"]
            assert name in GLOBAL_SETTINGS, name
            return self.globals_.get(name, "")
        if match["func"] == "SHARED":
            return chan.shared.get(match["fname"], "")
        name = match["name"]
        if name == "CHANNEL":
            return chan.name
        allowed = {var.value for var in Var} | ASTERISK_SET
        assert name in allowed or name.startswith("SL_"), f"reads {name}"
        return chan.variables.get(name, self.globals_.get(name, ""))

    @staticmethod
    def _compare(match: re.Match[str]) -> str:
        equal = match["left"] == match["right"]
        return "1" if equal == (match["op"] == "=") else "0"

    def _execute(self, app: str, args: str, call: Call, chan: Channel) -> str | None:
        """Run one application: None ends the extension, "" goes on, else a jump."""
        if app == "NoOp":
            return ""
        if app == "Set":
            name, _, value = args.partition("=")
            if shared := SHARED_SET.match(name):
                target = shared["channel"] or chan.name
                owner = call.caller if target == call.caller.name else None
                if owner is not None:  # Asterisk: no such channel, nothing set
                    owner.shared[shared["name"]] = value
                return ""
            chan.variables[name] = value
            return ""
        if app == "Goto":
            return args
        if app == "GotoIf":
            condition, _, destination = args.partition("?")
            assert condition in {"0", "1"}, args
            return destination if condition == "1" else ""
        if app == "AGI":
            return self._agi(args, call, chan)
        if app == "Return":
            return None
        if app == "Queue":
            name, _options, _url, _announce, timeout = args.split(",")
            call.events.append(("Queue", name, timeout, chan.variables.get("QUEUE_PRIO", "")))
            if name in self.answered_queues:
                raise _Hungup  # bridged; Asterisk hangs up the caller when it ends
            chan.variables["QUEUESTATUS"] = "TIMEOUT"
            return ""
        if app == "Dial":
            return self._dial(args, call, chan)
        if app in {"Answer", "Playback"}:
            call.events.append((app, args) if args else (app,))
            return ""
        if app == "Hangup":
            call.events.append(("Hangup",))
            raise _Hungup
        raise AssertionError(f"unexpected application {app}({args})")

    def _agi(self, args: str, call: Call, chan: Channel) -> str:
        call.events.append(("AGI", args))
        if chan.engineer is not None:  # the screening, on the engineer's channel
            chan.variables["IVR_ACCEPTED"] = "1" if chan.engineer.accepts else "0"
            chan.variables["AGISTATUS"] = chan.engineer.screen_status
            return ""
        message = f"/{ONCALL_MESSAGE}?" in args or f"{ONCALL_MESSAGE}.py" in args
        chan.variables.update(self.message_sets if message else self.service_sets)
        chan.variables["AGISTATUS"] = self.message_status if message else self.agi_status
        return ""

    def _dial(self, args: str, call: Call, chan: Channel) -> str:
        target, timeout, *options = args.split(",")
        call.events.append(("Dial", target, timeout, *options))
        dials = sum(1 for event in call.events if event[0] == "Dial")
        if dials == self.caller_hangs_up_in_dial:
            call.events.append(("caller hung up",))
            raise _Hungup
        engineer = self.engineers.get(target)
        if engineer is None or not engineer.answers:
            chan.variables["DIALSTATUS"] = "NOANSWER"
            return ""
        screen = re.fullmatch(r"U\((?P<routine>[^)]*)\)", options[0]) if options else None
        if screen is not None:
            context, *arguments = screen["routine"].split("^")
            callee = Channel(f"{target}-00000002", engineer=engineer)
            callee.variables.update({f"ARG{n}": a for n, a in enumerate(arguments, start=1)})
            self._walk(call, callee, context, "s")
            if callee.variables.get("GOSUB_RESULT") == "CONTINUE":
                call.events.append(("screened", target, "declined"))
                chan.variables["DIALSTATUS"] = "ANSWER"
                return ""
        call.events.append(("bridged", target))
        chan.variables["DIALSTATUS"] = "ANSWER"
        raise _Hungup  # the engineer hangs up after the talk: so is the caller (no g option)


def routed(route: str, **values: str) -> dict[str, str]:
    """The variables the service sets for a route."""
    return {Var.ROUTE.value: route, **{Var[name.upper()].value: v for name, v in values.items()}}
