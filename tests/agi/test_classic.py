"""Classic AGI scripts run as Asterisk runs them, and their dialplan variant.

Each script test spawns a file of ``agi_scripts/`` as a child process, writes the
classic AGI environment block to its stdin, reads its commands from its stdout
and answers each with the simulator's strict ``_Session`` (the answers the
FastAGI tests get). Hang-ups come the ways Asterisk and a dying pipe deliver
them: SIGHUP, a ``HANGUP`` line, end of input, a closed stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import itertools
import os
import re
import select
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

import pytest
from argon2 import PasswordHasher

from ivr.agi.classic import StdioRunner, agi_environment, script_route
from ivr.agi.protocol import (
    MAX_LINE_BYTES,
    AgiArgumentError,
    AgiProtocolError,
    Status,
)
from ivr.agi.simulator import (
    DEFAULT_ENV_TEMPLATE,
    USAGE,
    CallResult,
    SimulatedCall,
    _Session,
    split_args,
)
from ivr.domain.records import Ticket
from ivr.flows.prompts import sound_exists
from ivr.flows.routes import ONCALL_ACCEPT, ONCALL_MESSAGE, SUPPORT_LINE
from ivr.store import pin_load
from ivr.store.pin_load import PinLoad
from ivr.store.stores import Stores
from tests.support.calls import EMERGENCY, UNKNOWN_CALLER
from tests.support.dialplan import (
    DIALPLAN,
    HARMLESS_WRAPPER_HINTS,
    LINT_LINE,
    Contexts,
    asterisklint,
    parse_dialplan,
    run_lint,
    write_wrapper,
)
from tests.support.harness import AFTER_HOURS, OPEN_HOURS, Clock, Line

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "agi_scripts"
SUPPORT_LINE_SCRIPT = SCRIPTS / f"{SUPPORT_LINE}.py"
ONCALL_ACCEPT_SCRIPT = SCRIPTS / f"{ONCALL_ACCEPT}.py"
SCRIPT_DIALPLAN = ROOT / "dialplan" / "support-line-agi.conf"

CONVERSATION_TIMEOUT = 30.0
EXIT_TIMEOUT = 15.0
# Well under the command timeout (30 s plus the prompt's own time): a hang-up must
# end the script at once, not when a wait for an answer gives up.
HANG_UP_SECONDS = 10.0
HANG_UP_AT = 3  # the command during which the caller hangs up: GET DATA enter-account
NO_TRACEBACK = ("Traceback", "Exception ignored", "Fatal Python error")

HangUp = Literal["reply-then-sighup", "sighup", "hangup-line", "eof"]
_ids = itertools.count(1)


@dataclass(slots=True)
class ScriptRun:
    """What one run of a script showed the fake Asterisk."""

    unique_id: str
    result: CallResult
    returncode: int
    stdout: bytes
    stderr: str
    seconds: float


def classic_env_block(
    call: SimulatedCall, unique_id: str, script: str, args: Sequence[str]
) -> bytes:
    """The block classic AGI sends: no ``agi_network*``, ``agi_request`` is the script."""
    values = {
        "script": script,
        "host": "",
        "port": "",
        "seq": next(_ids),
        "uniqueid": unique_id,
        "callerid": call.caller_id or "unknown",
        "calleridname": call.caller_name,
        "dialed": call.dialed,
    }
    lines: list[str] = []
    for key, template in DEFAULT_ENV_TEMPLATE:
        if key in {"agi_network", "agi_network_script"}:
            continue
        if key == "agi_request":
            lines.append(f"{key}: {script}")
        elif key == "agi_context":
            lines.append(f"{key}: ivr-support-line-agi")
        else:
            lines.append(f"{key}: {template.format(**values)}")
    lines += [f"agi_arg_{index}: {arg}" for index, arg in enumerate(args, start=1)]
    return ("\n".join(lines) + "\n\n").encode()


def script_environ(redis_url: str, tmp_path: Path, **settings: str) -> dict[str, str]:
    """The process environment Asterisk would pass: the test Redis, no stray IVR_* setting."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("IVR_")}
    # The scripts' "#!/usr/bin/env python3" must find the interpreter running the tests.
    environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environ.get('PATH', '')}"
    environ["IVR_REDIS_URL"] = redis_url
    environ["IVR_DATA_DIR"] = str(tmp_path / "data")
    environ.update(settings)
    return environ


def strict_call(
    dtmf: str, caller: str = UNKNOWN_CALLER, hangup_at: int | None = None
) -> SimulatedCall:
    """A strict simulated caller: unknown commands, usage errors and missing sounds fail."""
    return SimulatedCall(
        caller_id=caller,
        answers=SimulatedCall.parse_dtmf(dtmf),
        hangup_at=hangup_at,
        sound_exists=sound_exists("ivr"),
    )


async def _send(stdin: asyncio.StreamWriter, lines: Sequence[str]) -> None:
    if stdin.is_closing():
        return
    stdin.write("".join(line + "\n" for line in lines).encode())
    with contextlib.suppress(ConnectionError):
        await stdin.drain()


async def run_script(
    script: Path,
    environ: Mapping[str, str],
    tmp_path: Path,
    call: SimulatedCall | None = None,
    *,
    args: Sequence[str] = (),
    env_block: bytes | None = None,
    hang_up: HangUp | None = None,
    break_stdout_after: int | None = None,
    silent_from: int | None = None,
) -> ScriptRun:
    """Start ``script`` as Asterisk does and hold the call with the strict fake.

    ``hang_up`` is how the caller's hang-up (at ``call.hangup_at``) reaches the
    script; ``break_stdout_after`` closes the read end of its stdout once that
    command is answered; from command ``silent_from`` on nothing is answered.
    Asterisk keeps stdin open until the script exits, so this does too.
    """
    call = call or strict_call("")
    unique_id = call.unique_id or f"{int(time.time())}.{9000 + next(_ids)}"
    result = CallResult(route=script.stem)
    session = _Session(call, result)
    block = (
        classic_env_block(call, unique_id, script.name, args) if env_block is None else env_block
    )
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    stderr_path = tmp_path / f"{script.stem}-{unique_id}.stderr"
    read_fd, write_fd = os.pipe()
    with stderr_path.open("wb") as stderr:
        try:
            process = await asyncio.create_subprocess_exec(
                str(script),
                stdin=asyncio.subprocess.PIPE,
                stdout=write_fd,
                stderr=stderr,
                env=dict(environ),
            )
        finally:
            os.close(write_fd)
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", buffering=0)
    )
    assert process.stdin is not None
    stdin = process.stdin
    output = bytearray()
    try:
        if block:
            stdin.write(block)
            await stdin.drain()
        else:
            stdin.close()  # standard input at its end straight away
        async with asyncio.timeout(CONVERSATION_TIMEOUT):
            hung_up = False
            while raw := await reader.readline():
                output += raw
                command = raw.decode("utf-8", errors="replace").rstrip("\n")
                if silent_from is not None and session.index >= silent_from:
                    result.commands.append(command)  # a stuck Asterisk: never answered
                    continue
                replies = session.answer(command)
                if hang_up is not None and not hung_up and result.hung_up_by == "caller":
                    hung_up = True
                    await _hang_up(hang_up, process, stdin, replies)
                    continue
                await _send(stdin, replies)
                if break_stdout_after is not None and session.index > break_stdout_after:
                    transport.close()  # the script's next write meets a broken pipe
        returncode = await asyncio.wait_for(process.wait(), EXIT_TIMEOUT)
    finally:
        transport.close()
        if process.returncode is None:
            process.kill()
            await process.wait()
        stdin.close()
        with contextlib.suppress(ConnectionError):
            await stdin.wait_closed()
    return ScriptRun(
        unique_id=unique_id,
        result=result,
        returncode=returncode,
        stdout=bytes(output),
        stderr=stderr_path.read_text(encoding="utf-8", errors="replace"),
        seconds=time.monotonic() - started,
    )


async def _hang_up(
    how: HangUp,
    process: asyncio.subprocess.Process,
    stdin: asyncio.StreamWriter,
    replies: list[str],
) -> None:
    """Deliver the caller's hang-up; all but the first leave the pending command unanswered."""
    if how == "reply-then-sighup":
        # What Asterisk does for a classic script: the command fails, then SIGHUP.
        await _send(stdin, replies)
    if how in {"reply-then-sighup", "sighup"}:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGHUP)
    elif how == "hangup-line":
        await _send(stdin, ["HANGUP"])
    elif how == "eof":
        stdin.close()


def assert_clean(run: ScriptRun) -> None:
    """Exit 0, no protocol violation, nothing but whole AGI commands on stdout, no traceback."""
    assert run.returncode == 0, run.stderr
    assert run.result.violations == [], run.result.violations
    assert_only_commands(run.stdout)
    for marker in NO_TRACEBACK:
        assert marker not in run.stderr, run.stderr


def assert_only_commands(stdout: bytes) -> None:
    """Every byte on stdout belongs to a complete line naming a known AGI command."""
    assert stdout == b"" or stdout.endswith(b"\n"), stdout[-200:]
    for line in stdout.decode("utf-8").splitlines():
        words = [word.upper() for word in split_args(line)]
        assert any(" ".join(words[:size]) in USAGE for size in (3, 2, 1)), line


def comparable(ticket: Ticket | None) -> dict[str, object]:
    """A ticket's fields, less those that differ between two calls by nature; times to the
    minute (the script's clock starts at the line's moment and runs on from there)."""
    assert ticket is not None
    fields = dataclasses.asdict(ticket)
    for name in ("number", "call_id"):
        del fields[name]
    fields["scenario"] = str(fields["scenario"]).replace(ticket.call_id, "<call>")
    for name, value in fields.items():
        if isinstance(value, dt.datetime):
            fields[name] = value.replace(second=0, microsecond=0)
    return fields


def to_the_minute(variables: dict[str, str]) -> dict[str, str]:
    """The variables with the SLA due time to the minute, as the caller hears it."""
    due = variables.get("IVR_SLA_DUE")
    if due:
        variables["IVR_SLA_DUE"] = dt.datetime.fromisoformat(due).replace(second=0).isoformat()
    return variables


def without_call_specifics(commands: Sequence[str], ticket: str, call_id: str) -> list[str]:
    """Commands with the ticket number and call id (the recording's name) made generic, and
    the times said or set to the minute (each side's clock runs from the same moment, so
    on a loaded machine the script can reach its ticket a second or two later)."""
    generic = [c.replace(ticket, "<ticket>").replace(call_id, "<call>") for c in commands]
    return [
        _ISO_SECONDS.sub(
            r"\1",
            re.sub(r'^SAY DATETIME "(\d+)"', lambda m: f'SAY DATETIME "{int(m[1]) // 60}m"', c),
        )
        for c in generic
    ]


_ISO_SECONDS = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d):\d\d")


# ---------------------------------------------------------------------------
# The route and query of a classic call


@pytest.mark.parametrize(
    ("script", "route"),
    [
        ("support-line.py", "support-line"),
        ("/var/lib/asterisk/agi-bin/oncall-accept.py", "oncall-accept"),
        ("agi_scripts/oncall-message", "oncall-message"),
    ],
)
def test_route_is_the_script_file_name(script: str, route: str) -> None:
    """The route is the script's file name without ``.py`` or its directory."""
    assert script_route(script) == route


@pytest.mark.parametrize("script", ["", ".py", "support line.py", "../x/.hidden.py", "a?b=1.py"])
def test_script_name_that_is_no_route_is_refused(script: str) -> None:
    """A name that is not a route name is refused, never guessed at."""
    with pytest.raises(AgiProtocolError):
        script_route(script)


@pytest.mark.parametrize(
    ("arg", "query"),
    [
        (None, {}),
        ("ticket=10001&step=2", {"ticket": "10001", "step": "2"}),
        ("ticket=10001&round=", {"ticket": "10001", "round": ""}),
        ("ticket=1&ticket=2", {"ticket": "1"}),
        ("just text", {}),
        ("ticket=1&&step=2", {}),
        ("a=b=c", {}),
    ],
)
def test_query_comes_from_the_first_argument(arg: str | None, query: dict[str, str]) -> None:
    """``agi_arg_1`` is the query only when it reads ``key=value&...``."""
    env = {"agi_request": "oncall-accept.py", "agi_uniqueid": "1795570859.7"}
    if arg is not None:
        env["agi_arg_1"] = arg
    agi_env = agi_environment(env, "oncall-accept")
    assert (agi_env.route, agi_env.query) == ("oncall-accept", query)
    assert agi_env.unique_id == "1795570859.7"


def test_environment_keeps_only_agi_keys_and_needs_some() -> None:
    """Lines pyst2 read that are no ``agi_*`` key are dropped; an empty block is refused."""
    agi_env = agi_environment({"agi_callerid": "5551234", "garbage line": "", "AGI_X": "1"}, "x")
    assert agi_env.values == {"agi_callerid": "5551234"}
    with pytest.raises(AgiProtocolError):
        agi_environment({"not agi": "1"}, "support-line")


# ---------------------------------------------------------------------------
# The runner over two pipes, in process


@dataclass(slots=True)
class PipeAgi:
    """pyst2's ``AGI`` as the runner sees it: an environment and two streams."""

    env: dict[str, str]
    stdin: TextIO
    stdout: TextIO

    def test_hangup(self) -> None:
        """No SIGHUP in these tests."""


@dataclass(slots=True)
class Piped:
    """A started runner, the fd Asterisk answers on and the fd it reads commands from."""

    runner: StdioRunner
    answers: int
    commands: int

    def answer(self, text: str) -> None:
        """Asterisk's reply lines, written before the command so no wait is needed."""
        os.write(self.answers, text.encode())

    def sent(self) -> bytes:
        """Every byte the runner wrote so far (never blocks)."""
        readable, _, _ = select.select([self.commands], [], [], 0)
        return os.read(self.commands, 65536) if readable else b""


@pytest.fixture
async def piped() -> AsyncIterator[Piped]:
    """A ``StdioRunner`` started over two pipes, closed afterwards."""
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    agi = PipeAgi(
        {},
        os.fdopen(in_read, "r", encoding="utf-8", newline="\n"),
        os.fdopen(out_write, "w", encoding="utf-8", newline="\n"),
    )
    runner = StdioRunner(agi)
    runner.start()
    try:
        yield Piped(runner, in_write, out_read)
    finally:
        runner.close()
        os.close(in_write)  # end of input first: the reader thread leaves its read
        agi.stdin.close()
        agi.stdout.close()
        os.close(out_read)


async def test_runner_sends_our_escaping_and_parses_a_usage_answer(piped: Piped) -> None:
    """Quotes and backslashes are escaped by format_command; a 520 block is one USAGE answer."""
    piped.answer("520-Invalid command syntax.  Proper usage follows:\n Usage: x\n520 End\n")
    response = await piped.runner.run("SET VARIABLE", "IVR_X", 'say "hi" \\ now', timeout=5)
    assert response.status is Status.USAGE
    assert piped.sent() == b'SET VARIABLE "IVR_X" "say \\"hi\\" \\\\ now"\n'
    assert piped.sent() == b""
    assert not piped.runner.hung_up


async def test_runner_refuses_a_line_break_before_writing(piped: Piped) -> None:
    """An argument with a line break is refused, and nothing reaches Asterisk."""
    with pytest.raises(AgiArgumentError):
        await piped.runner.run("SET VARIABLE", "IVR_X", "a\nHANGUP", timeout=5)
    assert piped.sent() == b""


async def test_runner_refuses_an_overlong_answer_and_stops(piped: Piped) -> None:
    """An answer line past the size limit is a protocol error; nothing more is sent."""
    piped.answer("200 result=" + "1" * MAX_LINE_BYTES + "\n")
    with pytest.raises(AgiProtocolError):
        await piped.runner.run("ANSWER", timeout=5)
    assert piped.runner.hung_up
    response = await piped.runner.run("ANSWER", timeout=5)
    assert response.status is Status.DEAD
    assert piped.sent() == b"ANSWER\n"


async def test_runner_hangup_line_ends_a_pending_wait(piped: Piped) -> None:
    """A bare HANGUP line answers the pending command as DEAD; 100 Trying is skipped."""
    piped.answer("100 result=0 Trying...\nHANGUP\n")
    response = await piped.runner.run("STREAM FILE", "ivr/welcome", "", timeout=5)
    assert response.status is Status.DEAD
    assert piped.runner.hung_up


# ---------------------------------------------------------------------------
# Whole calls through the script


@pytest.mark.parametrize("when", [OPEN_HOURS, AFTER_HOURS], ids=["open", "after-hours"])
async def test_emergency_call_gives_the_same_variables_and_ticket_as_fastagi(
    line: Line,
    stores: Stores,
    clock: Clock,
    redis_url: str,
    tmp_path: Path,
    when: dt.datetime,
) -> None:
    """The same call over FastAGI and through the script: same variables, commands and ticket."""
    clock.now = when
    fast = await line.call(EMERGENCY, UNKNOWN_CALLER)
    fast_ticket = await stores.tickets.get(fast.variables["IVR_TICKET"])
    # An open emergency for the Host ID would take the script's call as a repeat call.
    await stores.tickets.resolve(fast.variables["IVR_TICKET"], "test", when)
    # The script's clock is the FastAGI line's moment; DEBUG puts pyst2's chatter in the log.
    environ = script_environ(
        redis_url, tmp_path, IVR_CLOCK_START=when.isoformat(), IVR_LOG_LEVEL="DEBUG"
    )
    run = await run_script(SUPPORT_LINE_SCRIPT, environ, tmp_path, strict_call(EMERGENCY))
    assert_clean(run)
    assert "pyst2: " in run.stderr  # pyst2's own output went to the log, not stdout
    assert run.result.hung_up_by == ""  # returned to the dialplan

    fast_vars, script_vars = (
        to_the_minute(dict(fast.variables)),
        to_the_minute(dict(run.result.variables)),
    )
    fast_number, script_number = fast_vars.pop("IVR_TICKET"), script_vars.pop("IVR_TICKET")
    assert script_vars == fast_vars
    assert fast_vars["IVR_ROUTE"] in {"queue", "oncall"}
    assert int(script_number) == int(fast_number) + 1

    script_ticket = await stores.tickets.get(script_number)
    assert comparable(script_ticket) == comparable(fast_ticket)
    assert script_ticket is not None
    assert fast_ticket is not None
    assert script_ticket.call_id == run.unique_id
    assert without_call_specifics(
        run.result.commands, script_number, script_ticket.call_id
    ) == without_call_specifics(fast.commands, fast_number, fast_ticket.call_id)

    fast_record = await stores.calls.get(fast_ticket.call_id)
    script_record = await stores.calls.get(run.unique_id)
    assert fast_record is not None
    assert script_record is not None
    assert (script_record.outcome, script_record.decision, script_record.steps) == (
        fast_record.outcome,
        fast_record.decision,
        fast_record.steps,
    )


@pytest.mark.parametrize(
    ("dtmf", "route"),
    [("4 1001# 2468# 678901# 1 #", "queue"), ("4 1001# 2468# 456789# 1", "renewals")],
    ids=["warranty-active", "warranty-expired"],
)
async def test_warranty_request_is_the_same_flow_as_fastagi(
    line: Line, stores: Stores, redis_url: str, tmp_path: Path, dtmf: str, route: str
) -> None:
    """Option 4 through the script: the same commands, variables, steps and warranty ticket
    (or the same renewals hand-over) as over FastAGI."""
    fast = await line.call(dtmf, UNKNOWN_CALLER)
    [fast_id] = await stores.calls.recent_ids()
    environ = script_environ(redis_url, tmp_path, IVR_CLOCK_START=OPEN_HOURS.isoformat())
    run = await run_script(SUPPORT_LINE_SCRIPT, environ, tmp_path, strict_call(dtmf))
    assert_clean(run)
    fast_vars, script_vars = dict(fast.variables), dict(run.result.variables)
    fast_number, script_number = fast_vars.pop("IVR_TICKET", ""), script_vars.pop("IVR_TICKET", "")
    assert script_vars == fast_vars
    assert fast_vars["IVR_ROUTE"] == route
    fast_record = await stores.calls.get(fast_id)
    script_record = await stores.calls.get(run.unique_id)
    assert fast_record is not None
    assert script_record is not None
    assert script_record.steps == fast_record.steps
    if route == "renewals":
        assert (fast_number, script_number) == ("", "")
        assert run.result.commands == fast.commands
        return
    assert "IVR_SLA_DUE" not in fast_vars
    fast_ticket = await stores.tickets.get(fast_number)
    script_ticket = await stores.tickets.get(script_number)
    assert comparable(script_ticket) == comparable(fast_ticket)
    assert script_ticket is not None
    assert script_ticket.kind.value == "warranty"
    assert without_call_specifics(
        run.result.commands, script_number, script_ticket.call_id
    ) == without_call_specifics(fast.commands, fast_number, fast_record.call_id)


@pytest.mark.parametrize("how", ["reply-then-sighup", "sighup", "hangup-line", "eof"])
async def test_hang_up_mid_call_ends_the_script_and_writes_the_record(
    stores: Stores, redis_url: str, tmp_path: Path, how: HangUp
) -> None:
    """However the hang-up arrives, the script exits 0 at once and records outcome hangup."""
    call = strict_call(EMERGENCY, hangup_at=HANG_UP_AT)
    run = await run_script(
        SUPPORT_LINE_SCRIPT, script_environ(redis_url, tmp_path), tmp_path, call, hang_up=how
    )
    assert_clean(run)
    assert run.seconds < HANG_UP_SECONDS, run.seconds
    assert run.result.hung_up_by == "caller"
    record = await stores.calls.get(run.unique_id)
    assert record is not None
    assert (record.outcome, record.ticket, record.ended is not None) == ("hangup", "", True)
    # Nothing is sent after the hang-up but, at most, the status check of a -1 answer.
    after = run.result.commands[HANG_UP_AT + 1 :]
    assert after in ([], ["CHANNEL STATUS"]), after


async def test_broken_stdout_is_a_hang_up_without_traceback(
    stores: Stores, redis_url: str, tmp_path: Path
) -> None:
    """Asterisk closing the script's stdout ends the call as a hang-up, quietly, exit 0."""
    run = await run_script(
        SUPPORT_LINE_SCRIPT,
        script_environ(redis_url, tmp_path),
        tmp_path,
        strict_call(EMERGENCY),
        break_stdout_after=2,
    )
    assert_clean(run)
    assert run.seconds < HANG_UP_SECONDS, run.seconds
    record = await stores.calls.get(run.unique_id)
    assert record is not None
    assert record.outcome == "hangup"


async def test_unanswered_command_times_out_and_the_call_is_recorded(
    stores: Stores, redis_url: str, tmp_path: Path
) -> None:
    """Asterisk never answering: the command timeout ends the script, exit 0, outcome error."""
    environ = script_environ(redis_url, tmp_path, IVR_AGI_COMMAND_TIMEOUT="1")
    run = await run_script(
        SUPPORT_LINE_SCRIPT, environ, tmp_path, strict_call(EMERGENCY), silent_from=0
    )
    assert_clean(run)
    assert run.seconds < HANG_UP_SECONDS, run.seconds
    # Once an answer is lost, a late one would be taken for the next command's:
    # nothing more is sent.
    assert run.result.commands == ["ANSWER"]
    record = await stores.calls.get(run.unique_id)
    assert record is not None
    assert record.outcome == "error"


async def test_first_argument_is_the_query_of_the_route(
    line: Line, stores: Stores, clock: Clock, redis_url: str, tmp_path: Path
) -> None:
    """``AGI(oncall-accept.py,ticket=N&step=1)``: the engineer presses 1 and owns ticket N."""
    clock.now = AFTER_HOURS
    fast = await line.call(EMERGENCY, UNKNOWN_CALLER)
    number = fast.variables["IVR_TICKET"]
    environ = script_environ(redis_url, tmp_path, IVR_CLOCK_START=AFTER_HOURS.isoformat())
    run = await run_script(
        ONCALL_ACCEPT_SCRIPT,
        environ,
        tmp_path,
        strict_call("1", caller="201"),
        args=[f"ticket={number}&step=1"],
    )
    assert_clean(run)
    assert run.result.variables == {"IVR_ACCEPTED": "1"}
    assert f'SAY DIGITS "{number}" ""' in run.result.commands
    ticket = await stores.tickets.get(number)
    assert ticket is not None
    assert ticket.acknowledged_by != ""


async def test_unknown_route_exits_non_zero_and_sends_nothing(
    stores: Stores, redis_url: str, tmp_path: Path
) -> None:
    """A script whose name is no route fails at once (AGISTATUS=FAILURE), stdout untouched."""
    script = tmp_path / "no-such-route.py"
    shutil.copy(SUPPORT_LINE_SCRIPT, script)
    run = await run_script(script, script_environ(redis_url, tmp_path), tmp_path)
    assert run.returncode == 1
    assert run.stdout == b""
    assert "no route 'no-such-route'" in run.stderr


async def test_bad_settings_exit_non_zero_before_the_call(redis_url: str, tmp_path: Path) -> None:
    """A bad IVR_* setting is named in the log, with a non-zero exit and nothing on stdout."""
    environ = script_environ(redis_url, tmp_path, IVR_TIMEZONE="Mars/Olympus_Mons")
    run = await run_script(SUPPORT_LINE_SCRIPT, environ, tmp_path)
    assert run.returncode == 2
    assert run.stdout == b""
    assert "IVR_TIMEZONE" in run.stderr


async def test_no_environment_on_stdin_exits_non_zero(redis_url: str, tmp_path: Path) -> None:
    """Started without an AGI environment (stdin at its end): exit 1, nothing sent."""
    run = await run_script(
        SUPPORT_LINE_SCRIPT, script_environ(redis_url, tmp_path), tmp_path, env_block=b""
    )
    assert run.returncode == 1
    assert run.stdout == b""
    assert "no AGI environment" in run.stderr


def test_scripts_are_executable_and_name_routes() -> None:
    """Every script is executable, starts with the env shebang and names a route."""
    scripts = sorted(SCRIPTS.glob("*.py"))
    assert {script_route(str(s)) for s in scripts} == {SUPPORT_LINE, ONCALL_ACCEPT, ONCALL_MESSAGE}
    for script in scripts:
        assert os.access(script, os.X_OK), script
        assert script.read_text(encoding="utf-8").startswith("#!/usr/bin/env python3\n"), script


# ---------------------------------------------------------------------------
# The classic AGI dialplan


def test_asterisklint_reports_nothing_with_both_dialplans(tmp_path: Path) -> None:
    """Both dialplans included together: no asterisklint message but known wrapper hints."""
    assert asterisklint().is_file(), "asterisklint is not installed: run ./scripts/setup.sh"
    wrapper = write_wrapper(tmp_path, DIALPLAN, SCRIPT_DIALPLAN)
    result = run_lint("dialplan-check", wrapper)
    assert result.stdout == ""
    unexpected = [
        line
        for line in result.stderr.splitlines()
        if not (
            (match := LINT_LINE.match(line))
            and Path(match["file"]) == wrapper
            and match["code"] in HARMLESS_WRAPPER_HINTS
        )
    ]
    assert unexpected == [], "\n".join(unexpected)
    shown = run_lint("dialplan-show", wrapper)
    assert shown.returncode == 0, shown.stderr
    for context in ("ivr-support-line-agi", "ivr-oncall-screen-agi", "ivr-oncall-page-agi"):
        assert f"[ Context '{context}' created by 'pbx_config' ]" in shown.stdout, context


# AGI(${SL_AGI_URL}/route?query): the FastAGI call of a route.
FASTAGI_CALL = re.compile(r"^\$\{SL_AGI_URL\}/(?P<route>[a-z-]+)(?:\?(?P<query>.*))?$")
SCRIPT_CALL = re.compile(r"^(?P<script>[a-z-]+\.py)(?:,(?P<query>.*))?$")
CONTEXT_NAME = re.compile(r"\b(ivr-support-line|ivr-oncall-screen|ivr-oncall-page)\b")
Flat = dict[str, dict[str, list[tuple[str, str, str]]]]


def as_script_variant(contexts: Contexts) -> Flat:
    """The FastAGI dialplan as its script variant must read: no address, scripts, -agi names."""
    flat: Flat = {}
    for context, extensions in contexts.items():
        out = flat.setdefault(f"{context}-agi", {})
        for exten, steps in extensions.items():
            rows = out.setdefault(exten, [])
            for step in steps:
                if step.app in {"Set", "GotoIf"} and "SL_AGI_URL" in step.args:
                    continue  # working out the FastAGI address: scripts have none
                args = step.args
                if step.app == "AGI":
                    match = FASTAGI_CALL.match(args)
                    assert match, args
                    query = f",{match['query']}" if match["query"] else ""
                    args = f"{match['route']}.py{query}"
                rows.append((step.label, step.app, CONTEXT_NAME.sub(r"\1-agi", args)))
    return flat


def flatten(contexts: Contexts) -> Flat:
    """Contexts as plain rows of (label, application, arguments)."""
    return {
        context: {
            exten: [(s.label, s.app, s.args) for s in steps] for exten, steps in extensions.items()
        }
        for context, extensions in contexts.items()
    }


def jump_targets(app: str, args: str) -> set[str]:
    """The labels of this extension a Goto or GotoIf can jump to."""
    if app == "GotoIf":
        return set(args.rsplit("?", 1)[-1].split(":"))
    if app == "Goto" and "," not in args:
        return {args}
    return set()


def without_unused_labels_and_notes(flat: Flat) -> Flat:
    """Labels no Goto or GotoIf names, and NoOp texts, do not change what a call does."""
    out: Flat = {}
    for context, extensions in flat.items():
        used = {
            target
            for steps in extensions.values()
            for _, app, args in steps
            for target in jump_targets(app, args)
        }
        out[context] = {
            exten: [
                (label if label in used else "", app, "" if app == "NoOp" else args)
                for label, app, args in steps
            ]
            for exten, steps in extensions.items()
        }
    return out


def test_script_dialplan_handles_routes_exactly_as_the_fastagi_one() -> None:
    """Step for step the FastAGI dialplan, but AGI(route.py,query) and -agi context names."""
    fastagi = parse_dialplan(DIALPLAN.read_text(encoding="utf-8"))
    script = parse_dialplan(SCRIPT_DIALPLAN.read_text(encoding="utf-8"))
    assert without_unused_labels_and_notes(flatten(script)) == without_unused_labels_and_notes(
        as_script_variant(fastagi)
    )


def test_script_dialplan_runs_only_scripts_that_exist() -> None:
    """Every AGI() of the variant is a script of agi_scripts/; no URL, no GLOBAL(IVR_AGI_URL)."""
    text = SCRIPT_DIALPLAN.read_text(encoding="utf-8")
    script = parse_dialplan(text)
    calls = [
        step.args for ext in script.values() for steps in ext.values() for step in steps
        if step.app == "AGI"
    ]  # fmt: skip
    assert calls
    for args in calls:
        match = SCRIPT_CALL.match(args)
        assert match, args
        assert (SCRIPTS / match["script"]).is_file(), match["script"]
    code = "\n".join(line.split(";", 1)[0] for line in text.splitlines())
    assert "agi://" not in code
    assert "IVR_AGI_URL" not in code


# A classic AGI script on a busy box: a process per call with a hashing pool of its
# own, so no queue is shared and nothing is estimated; what protects its caller is
# the clock. The reseller's stored hash is made costly (argon2 reads the cost from
# the hash), so the check outlasts a limit of 0.1 s as on a box whose cores are taken.
# About 0.3 s of one core or more: three times past the point the check is given up.
COSTLY_HASH = PasswordHasher(time_cost=10, memory_cost=32 * 1024, parallelism=1)
SMALLEST_PIN_LIMIT = 0.1  # IVR_PIN_QUEUE_MAX_SECONDS


async def test_slow_check_says_one_moment_then_sheds_to_the_general_queue(
    stores: Stores, redis_url: str, tmp_path: Path
) -> None:
    """The script plays "one moment" before the limit, gives the check up, hands the caller
    to the general queue and counts it where every worker's counts are."""
    await stores.directory.set_pin_hash("1001", COSTLY_HASH.hash("2468"))
    environ = script_environ(redis_url, tmp_path, IVR_PIN_QUEUE_MAX_SECONDS=str(SMALLEST_PIN_LIMIT))
    run = await run_script(SUPPORT_LINE_SCRIPT, environ, tmp_path, strict_call(EMERGENCY))
    assert_clean(run)
    played = [step.text for step in run.result.steps if step.kind == "play"]
    assert played[-2:] == ["ivr/one-moment", "ivr/transfer-general"], played
    assert run.result.variables["IVR_QUEUE"] == "support-general"
    assert "IVR_TICKET" not in run.result.variables
    assert (await pin_load.counts(stores.redis))[PinLoad.SHED] == 1
