"""A simulated Asterisk: places a call into a FastAGI server over TCP.

Used by ``ivr call`` and, in strict mode, by the tests as the fake Asterisk. It
speaks the wire as Asterisk 22 does (see the recorded transcripts): the
environment block, one answer per command, ``200 result=-1`` for a missing sound,
``(timeout)`` answers, the bare ``HANGUP`` line after a hang-up and ``511`` for
commands on a dead channel. Strict mode records every command it does not know,
every usage error and every missing sound as a violation.

It also keeps the session's ``AGISTATUS`` as the real Asterisk 22.10.1 does
(checked against it): one command that fails while the channel is up (``STREAM
FILE`` of a missing file, ``RECORD FILE`` into a directory that does not exist,
``SAY ...`` without Asterisk's core sounds) makes the whole session ``FAILURE``,
whatever the service does afterwards; ``GET DATA`` of a missing prompt answers
``result=-1`` but leaves it ``SUCCESS``; a caller's hang-up makes it ``HANGUP``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ENV_TEMPLATE: tuple[tuple[str, str], ...] = (
    ("agi_network", "yes"),
    ("agi_network_script", "{script}"),
    ("agi_request", "agi://{host}:{port}/{script}"),
    ("agi_channel", "PJSIP/trunk-{seq:08x}"),
    ("agi_language", "en"),
    ("agi_type", "PJSIP"),
    ("agi_uniqueid", "{uniqueid}"),
    ("agi_version", "22.10.1"),
    ("agi_callerid", "{callerid}"),
    ("agi_calleridname", "{calleridname}"),
    ("agi_callingpres", "0"),
    ("agi_callingani2", "0"),
    ("agi_callington", "0"),
    ("agi_callingtns", "0"),
    ("agi_dnid", "{dialed}"),
    ("agi_rdnis", "unknown"),
    ("agi_context", "ivr-support-line"),
    ("agi_extension", "{dialed}"),
    ("agi_priority", "2"),
    ("agi_enhanced", "0.0"),
    ("agi_accountcode", ""),
    ("agi_threadid", "140113155569344"),
)

DEAD_CHANNEL = "511 Command Not Permitted on a dead channel or intercept routine"
INVALID = "510 Invalid or unknown command"
# Commands Asterisk still runs on a dead channel (their ``dead`` flag in res_agi).
DEAD_OK = {"SET VARIABLE", "GET VARIABLE", "GET FULL VARIABLE", "VERBOSE", "NOOP"}
INPUT_COMMANDS = {"GET DATA", "RECORD FILE"}
_seq = itertools.count(1)


def split_args(line: str) -> list[str]:
    """Split an AGI command line into words exactly as Asterisk's ``parse_args`` does.

    Spaces separate words outside double quotes; a backslash makes the next
    character literal; quotes group and are removed; ``""`` is an empty word.
    """
    words: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    in_word = False
    for char in line:
        if char == '"' and not escaped:
            quoted = not quoted
            if quoted and not in_word:
                in_word = True
            continue
        if char in " \t" and not quoted and not escaped:
            if in_word:
                words.append("".join(current))
                current = []
                in_word = False
            continue
        if char == "\\" and not escaped:
            escaped = True
            continue
        current.append(char)
        in_word = True
        escaped = False
    if in_word:
        words.append("".join(current))
    return words


@dataclass(frozen=True, slots=True)
class Step:
    """One thing the caller experienced, for the printed dialogue."""

    kind: str  # answer, play, input, say, record, set, hangup, error
    text: str

    def __str__(self) -> str:
        return f"{self.kind:<7} {self.text}"


@dataclass(slots=True)
class CallResult:
    """What a simulated call saw."""

    route: str
    steps: list[Step] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    hung_up_by: str = ""  # "caller", "service" or "" (returned to the dialplan)
    command_failed: bool = False  # a command failed on a live channel (see agi_status)
    closed_by_service: bool = False
    seconds: float = 0.0

    @property
    def agi_status(self) -> str:
        """``AGISTATUS`` as Asterisk would leave it for the dialplan after this session."""
        if self.hung_up_by:
            return "HANGUP"
        return "FAILURE" if self.command_failed else "SUCCESS"


USAGE = {
    # verb: (min args after the verb words, max args)
    "ANSWER": (0, 0),
    "STREAM FILE": (2, 3),
    "GET DATA": (1, 3),
    "SAY DIGITS": (2, 2),
    "SAY ALPHA": (2, 2),
    "SAY NUMBER": (2, 3),
    "SAY DATETIME": (2, 4),
    "RECORD FILE": (4, 7),
    "SET VARIABLE": (2, 2),
    "CHANNEL STATUS": (0, 1),
    "HANGUP": (0, 1),
    "VERBOSE": (1, 2),
    "NOOP": (0, 9),
}


@dataclass(slots=True)
class SimulatedCall:
    """A caller and what it will press: one answer per input prompt, ``None`` = silence."""

    caller_id: str
    answers: list[str | None]
    dialed: str = "2145565917"
    script: str = "support-line"
    caller_name: str = "Simulated Caller"
    unique_id: str = ""
    hangup_at: int | None = None  # index of the command during which the caller hangs up
    sound_exists: Callable[[str], bool] = lambda _name: True
    strict: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)
    close_wait: float = 5.0
    recording_writable: bool = True  # False: RECORD FILE cannot create its file
    core_sounds: bool = True  # False: Asterisk's own sounds (digits, dates, beep) missing
    # Awaited with each command line before it is answered (tests: kill a worker mid-call).
    before_answer: Callable[[str], Awaitable[None]] | None = None

    @staticmethod
    def parse_dtmf(spec: str) -> list[str | None]:
        """``"1 1001# 2468#  5"`` -> answers, an empty one (two spaces) being a timeout."""
        if spec == "":
            return []
        return [part or None for part in spec.split(" ")]


class FakeAsterisk:
    """Runs ``SimulatedCall``s against a FastAGI server."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port

    async def place(self, call: SimulatedCall, timeout: float = 60.0) -> CallResult:
        """Place the call and return what happened; never raises for the service's faults."""
        started = time.monotonic()
        seq = next(_seq)
        unique_id = call.unique_id or f"{int(time.time())}.{seq}"
        result = CallResult(route=call.script.split("?")[0])
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            async with asyncio.timeout(timeout):
                await self._converse(call, unique_id, seq, reader, writer, result)
        except TimeoutError:
            result.violations.append(f"call did not end within {timeout} s")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        result.seconds = time.monotonic() - started
        return result

    async def _converse(
        self,
        call: SimulatedCall,
        unique_id: str,
        seq: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        result: CallResult,
    ) -> None:
        values = {
            "script": call.script,
            "host": self.host,
            "port": str(self.port),
            "seq": seq,
            "uniqueid": unique_id,
            "callerid": call.caller_id or "unknown",
            "calleridname": call.caller_name,
            "dialed": call.dialed,
        }
        lines = [f"{key}: {template.format(**values)}" for key, template in DEFAULT_ENV_TEMPLATE]
        lines += [f"{key}: {value}" for key, value in call.extra_env.items()]
        writer.write(("\n".join(lines) + "\n\n").encode())
        await writer.drain()
        session = _Session(call, result)
        while True:
            raw = await reader.readline()
            if not raw:
                result.closed_by_service = True
                return
            command = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if call.before_answer is not None:
                await call.before_answer(command)
            replies = session.answer(command)
            try:
                writer.write("".join(line + "\n" for line in replies).encode())
                await writer.drain()
            except ConnectionError:
                result.closed_by_service = True
                return
            if session.dead and not session.waiting_close:
                session.waiting_close = True
                writer.write(b"HANGUP\n")
                await writer.drain()
                await self._wait_close(call, reader, writer, session, result)
                return

    async def _wait_close(
        self,
        call: SimulatedCall,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        session: _Session,
        result: CallResult,
    ) -> None:
        """After a hang-up Asterisk keeps the channel until the service closes the socket."""
        try:
            async with asyncio.timeout(call.close_wait):
                while True:
                    raw = await reader.readline()
                    if not raw:
                        result.closed_by_service = True
                        return
                    command = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                    writer.write("".join(r + "\n" for r in session.answer(command)).encode())
                    await writer.drain()
        except TimeoutError:
            result.violations.append("service kept the socket open after the hang-up")
        except ConnectionError:
            result.closed_by_service = True


class _Session:
    """The channel's side of the dialogue: answers one command line at a time."""

    def __init__(self, call: SimulatedCall, result: CallResult) -> None:
        self.call = call
        self.result = result
        self.answers = list(call.answers)
        self.dead = False
        self.waiting_close = False
        self.index = 0

    def _violation(self, text: str) -> None:
        if self.call.strict:
            self.result.violations.append(text)

    def _next_answer(self) -> str | None:
        return self.answers.pop(0) if self.answers else None

    def answer(self, line: str) -> list[str]:
        """Asterisk's reply lines to one command line."""
        self.result.commands.append(line)
        words = split_args(line)
        verb, args = _match_verb(words)
        index = self.index
        self.index += 1
        if verb is None:
            self._violation(f"unknown command: {line!r}")
            return [INVALID]
        low, high = USAGE[verb]
        if not low <= len(args) <= high:
            self._violation(f"usage error: {line!r}")
            return [
                "520-Invalid command syntax.  Proper usage follows:",
                f" Usage: {verb} ...",
                "520 End of proper usage.",
            ]
        if self.dead:
            if verb in DEAD_OK:
                return [self._execute(verb, args)]
            return [DEAD_CHANNEL]
        if self.call.hangup_at is not None and index >= self.call.hangup_at:
            self.dead = True
            self.result.hung_up_by = "caller"
            self.result.steps.append(Step("hangup", "caller hung up"))
            return [_hangup_reply(verb)]
        return [self._execute(verb, args)]

    def _sound(self, name: str) -> bool:
        core = "/" not in name
        if self.call.sound_exists(name) and (self.call.core_sounds or not core):
            return True
        self._violation(f"sound file does not exist: {name}")
        self.result.steps.append(Step("error", f"missing sound {name}"))
        return False

    def _execute(self, verb: str, args: list[str]) -> str:
        steps = self.result.steps
        match verb:
            case "ANSWER":
                steps.append(Step("answer", ""))
                return "200 result=0"
            case "STREAM FILE":
                if not self._sound(args[0]):
                    self.result.command_failed = True
                    return "200 result=-1 endpos=0"
                steps.append(Step("play", args[0]))
                return "200 result=0 endpos=16000"
            case "GET DATA":
                return self._get_data(args)
            case "SAY DIGITS" | "SAY NUMBER" | "SAY DATETIME" if not self.call.core_sounds:
                # Each digit, day and month is one of Asterisk's own sound files.
                steps.append(Step("error", f"{verb}: no core sounds (digits/...)"))
                self.result.command_failed = True
                return "200 result=-1"
            case "SAY DIGITS" | "SAY NUMBER":
                if not args[0].lstrip("-").isdigit():
                    self._violation(f"{verb} of a non-number: {args[0]!r}")
                    self.result.command_failed = True
                    return "200 result=-1"
                steps.append(Step("say", f"{verb.split()[1].lower()} {args[0]}"))
                return "200 result=0"
            case "SAY ALPHA":
                steps.append(Step("say", f"alpha {args[0]}"))
                return "200 result=0"
            case "SAY DATETIME":
                if not args[0].isdigit():
                    self._violation(f"SAY DATETIME of a non-number: {args[0]!r}")
                    self.result.command_failed = True
                    return "200 result=-1"
                steps.append(Step("say", _describe_datetime(args)))
                return "200 result=0"
            case "RECORD FILE":
                return self._record(args)
            case "SET VARIABLE":
                self.result.variables[args[0]] = args[1]
                steps.append(Step("set", f"{args[0]}={args[1]}"))
                return "200 result=1"
            case "CHANNEL STATUS":
                return "200 result=6"
            case "HANGUP":
                self.dead = True
                self.result.hung_up_by = "service"
                steps.append(Step("hangup", "service hung up"))
                return "200 result=1"
            case "VERBOSE":
                return "200 result=1"
            case _:  # NOOP
                return "200 result=0"

    def _get_data(self, args: list[str]) -> str:
        if not self._sound(args[0]):
            return "200 result=-1"
        max_digits = int(args[2]) if len(args) > 2 and args[2].isdigit() else 1024
        self.result.steps.append(Step("play", args[0]))
        pressed = self._next_answer()
        if not pressed:
            self.result.steps.append(Step("input", "(no key: timeout)"))
            return "200 result= (timeout)"
        keys, hash_end, _ = pressed.partition("#")
        keys = keys[:max_digits]
        self.result.steps.append(Step("input", pressed))
        if hash_end == "#" or len(keys) >= max_digits:
            return f"200 result={keys}"
        return f"200 result={keys} (timeout)"

    def _record(self, args: list[str]) -> str:
        pressed = self._next_answer()
        if not self.call.recording_writable:
            self.result.steps.append(Step("error", f"cannot write {args[0]}.{args[1]}"))
            self.result.command_failed = True
            return "200 result=-1 (writefile)"
        self.result.steps.append(Step("record", f"{args[0]}.{args[1]}"))
        if pressed and any(key in args[2] for key in pressed):
            return f"200 result={ord(args[2][0])} (dtmf) endpos=24000"
        return "200 result=0 (timeout) endpos=40000"


def _match_verb(words: list[str]) -> tuple[str | None, list[str]]:
    upper = [w.upper() for w in words]
    for size in (3, 2, 1):
        verb = " ".join(upper[:size])
        if verb in USAGE:
            return verb, words[size:]
    return None, words


def _hangup_reply(verb: str) -> str:
    """What a command answers when the caller hangs up while it runs."""
    if verb == "STREAM FILE":
        return "200 result=-1 endpos=0"
    if verb == "RECORD FILE":
        return "200 result=-1 (hangup) endpos=0"
    if verb in DEAD_OK:
        return "200 result=1"
    return "200 result=-1"


def _describe_datetime(args: list[str]) -> str:
    """The printed dialogue's rendering of a SAY DATETIME (time zone as Asterisk got it)."""
    zone = args[3] if len(args) > 3 else "UTC"
    try:
        tz = ZoneInfo(zone)
    except (ValueError, ZoneInfoNotFoundError):
        return f"datetime {args[0]} (unknown zone {zone})"
    when = dt.datetime.fromtimestamp(int(args[0]), tz=tz)
    fmt = args[2] if len(args) > 2 else ""
    if "I" in fmt:
        return "datetime " + when.strftime("%A %B %d at %I:%M %p %Z")
    return "date " + when.strftime("%A %B %d %Y")
