"""Classic AGI: any route of the route table as a script Asterisk starts per call.

For sites that cannot run the FastAGI service: ``AGI(support-line.py)`` starts a
short script under ``agi_scripts/`` that calls ``ivr.agi_script.main``. The call
then runs through the same ``AgiChannel`` and flows as FastAGI; only the transport
differs. This module is that transport.

pyst2 (``asterisk.agi.AGI``) reads the environment block and installs the SIGHUP
handler Asterisk's hang-up signal needs; every command line is still built by our
``format_command`` (pyst2's quoting does not escape quotes) and every answer is
parsed by our ``ResponseParser``. Standard output is the AGI channel, so
``claim_stdio`` moves it off file descriptor 1 before anything else runs: a stray print goes to
stderr, never into the protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import PurePath
from types import FrameType
from typing import Any, Protocol, TextIO

from asterisk.agi import AGISIGHUPHangup

from ivr.agi.protocol import (
    HANGUP_LINE,
    MAX_ENV_LINES,
    MAX_LINE_BYTES,
    AgiEnvironment,
    AgiProtocolError,
    AgiResponse,
    ResponseParser,
    Status,
    format_command,
    split_script,
)

log = logging.getLogger("ivr.agi.classic")

EXIT_OK = 0
EXIT_CANNOT_RUN = 1
EXIT_CONFIG = 2

_ENV_KEY_RE = re.compile(r"^agi_[a-z0-9_]{1,40}$")
# ``AGI(script.py,ticket=10001&step=2)``: the first argument, when it reads as a
# query string, plays the part of FastAGI's ``?ticket=10001&step=2``.
_ARG_QUERY_RE = re.compile(r"^[A-Za-z0-9_]+=[^&=]*(?:&[A-Za-z0-9_]+=[^&=]*)*$")

SignalHandler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class Pyst2Agi(Protocol):
    """The part of pyst2's ``AGI`` object this module uses."""

    env: dict[str, str]
    stdin: TextIO
    stdout: TextIO

    def test_hangup(self) -> None:
        """Raise ``AGISIGHUPHangup`` once Asterisk has sent SIGHUP."""
        ...


def script_route(script: str) -> str:
    """The route a script serves, from its name: ``agi-bin/support-line.py`` is ``support-line``.

    Raises ``AgiProtocolError`` when the name is not a valid route name.
    """
    name = PurePath(script).name.removesuffix(".py")
    route, query = split_script(name)
    if query or route != name.lower():  # "a?b=1.py" is no route "a" with a query
        raise AgiProtocolError("the script's file name is not a route name")
    return route


def agi_environment(env: Mapping[str, str], route: str) -> AgiEnvironment:
    """The ``AgiEnvironment`` of a classic AGI call, from pyst2's ``agi.env``.

    Classic AGI sends no ``agi_network_script``: the route is the script's own
    (see ``script_route``) and the query is ``agi_arg_1`` when it looks like
    ``key=value&...``. Raises ``AgiProtocolError`` for a missing or oversized block.
    """
    values = {key: value for key, value in env.items() if _ENV_KEY_RE.match(key)}
    if not values:
        raise AgiProtocolError("no AGI environment on standard input")
    if len(values) > MAX_ENV_LINES:
        raise AgiProtocolError("environment block too large")
    arg = values.get("agi_arg_1", "")
    script = f"{route}?{arg}" if _ARG_QUERY_RE.match(arg) else route
    name, query = split_script(script)
    return AgiEnvironment(values=values, route=name, query=query)


def _dead(text: str) -> AgiResponse:
    return AgiResponse(Status.DEAD, text=text)


class StdioRunner:
    """A ``CommandRunner`` over pyst2's stdin/stdout: one command line, one answer.

    A daemon thread reads Asterisk's lines (a blocking pipe read cannot be
    cancelled, so it must not live in the event loop's executor, which
    ``asyncio.run`` joins at exit) and hands them to the loop, where the parser
    runs. SIGHUP, a ``HANGUP`` line, ``511``, end of input and a broken stdout
    all end a pending wait with a ``DEAD`` answer and make ``hung_up`` true.
    """

    def __init__(self, agi: Pyst2Agi) -> None:
        self._agi = agi
        self._parser = ResponseParser()
        self._answers: asyncio.Queue[AgiResponse | AgiProtocolError] = asyncio.Queue()
        self._lock = asyncio.Lock()
        self._gone = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pyst2_sighup: SignalHandler = None

    @property
    def hung_up(self) -> bool:
        """True after a hang-up, a closed pipe or a lost answer: nothing more is sent."""
        if self._gone or self._parser.hung_up:
            return True
        try:
            self._agi.test_hangup()
        except AGISIGHUPHangup:
            return True
        return False

    def start(self) -> None:
        """Start reading answers and watching SIGHUP; call from the running loop."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        # pyst2 installed its SIGHUP handler when it read the environment; the
        # loop's handler calls it (pyst2 keeps the flag) and wakes a pending wait.
        self._pyst2_sighup = signal.getsignal(signal.SIGHUP)
        loop.add_signal_handler(signal.SIGHUP, self._on_sighup)
        reader = threading.Thread(target=self._read_lines, args=(loop,), daemon=True)
        reader.name = "agi-stdin"
        reader.start()

    def close(self) -> None:
        """Give SIGHUP back to pyst2's handler: a late one must not kill the exiting script."""
        if self._loop is None:
            return
        # Removing the loop's handler resets SIGHUP to its default for an instant;
        # the call is over and recorded by then, so a SIGHUP just then costs nothing.
        self._loop.remove_signal_handler(signal.SIGHUP)
        if self._pyst2_sighup is not None:
            signal.signal(signal.SIGHUP, self._pyst2_sighup)
        self._loop = None

    async def run(self, verb: str, *args: str, timeout: float) -> AgiResponse:
        """Write one command line and wait at most ``timeout`` seconds for its answer."""
        line = format_command(verb, *args).decode("utf-8")
        async with self._lock:
            if self.hung_up:
                return _dead("channel already gone")
            try:
                # One short line into a pipe Asterisk is reading: it cannot fill
                # the pipe's buffer, so this write does not block the loop.
                self._agi.stdout.write(line)
                self._agi.stdout.flush()
            except (OSError, ValueError):
                # BrokenPipeError (Asterisk closed our stdout) or a closed stream.
                self._gone = True
                return _dead("standard output closed")
            try:
                async with asyncio.timeout(timeout):
                    answer = await self._answers.get()
            except TimeoutError:
                # An answer arriving later would be taken for the next command's:
                # the conversation is over.
                self._gone = True
                raise TimeoutError(f"Asterisk did not answer {verb} in {timeout:g} s") from None
            if isinstance(answer, AgiProtocolError):
                self._gone = True
                raise AgiProtocolError(str(answer))
            return answer

    def _on_sighup(self) -> None:
        handler = self._pyst2_sighup
        if callable(handler):
            handler(signal.SIGHUP, None)
        else:  # pyst2's handler was replaced: remember the hang-up ourselves
            self._gone = True
        self._answers.put_nowait(_dead("SIGHUP"))

    def _on_line(self, line: str) -> None:
        try:
            answer = self._parser.feed(line)
        except AgiProtocolError as exc:
            self._answers.put_nowait(exc)
            return
        if answer is not None:
            self._answers.put_nowait(answer)
        elif line == HANGUP_LINE:
            # In FastAGI the answer would follow; a script need not wait for it.
            self._answers.put_nowait(_dead("HANGUP"))

    def _on_eof(self) -> None:
        self._gone = True
        self._answers.put_nowait(_dead("end of input"))

    def _on_error(self, exc: AgiProtocolError) -> None:
        self._answers.put_nowait(exc)

    def _read_lines(self, loop: asyncio.AbstractEventLoop) -> None:
        """The reader thread: blocking reads, each line handed to the loop."""
        stdin = self._agi.stdin
        while True:
            try:
                line = stdin.readline(MAX_LINE_BYTES + 1)
            except (OSError, ValueError):
                line = ""
            try:
                if not line:
                    loop.call_soon_threadsafe(self._on_eof)
                    return
                if len(line) > MAX_LINE_BYTES and not line.endswith("\n"):
                    error = AgiProtocolError("reply line too long")
                    loop.call_soon_threadsafe(self._on_error, error)
                    return
                loop.call_soon_threadsafe(self._on_line, line.rstrip("\r\n"))
            except RuntimeError:
                return  # the loop is closed: the call is over


class Pyst2Log(io.TextIOBase):
    """pyst2's stderr chatter (arguments, environment, commands) as DEBUG log lines."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = ""

    def writable(self) -> bool:
        """A write-only stream."""
        return True

    def write(self, text: str) -> int:
        """Log every completed line."""
        *lines, self._pending = (self._pending + text).split("\n")
        for line in lines:
            if "RESULT" in line:
                # Answers to GET DATA carry the keys the caller typed, PINs among them.
                log.debug("pyst2: (an answer from Asterisk, not logged: it may hold keyed digits)")
            else:
                log.debug("pyst2: %s", line)
        return len(text)


def claim_stdio() -> tuple[TextIO, TextIO]:
    """Take the AGI pipes off fds 0 and 1; leave /dev/null and stderr in their place.

    Whatever else writes to fd 1 or ``sys.stdout`` (a library, a child process)
    then lands in stderr instead of being read by Asterisk as a command.
    """
    if sys.stdout is not None:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
    agi_in = os.dup(0)
    agi_out = os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    try:
        os.dup2(null, 0)
        try:
            os.dup2(2, 1)
        except OSError:
            os.dup2(null, 1)  # no stderr either: stray output is dropped
    finally:
        os.close(null)
    return (
        os.fdopen(agi_in, "r", encoding="utf-8", errors="replace", newline="\n"),
        os.fdopen(agi_out, "w", encoding="utf-8", newline="\n"),
    )
