"""The AGI wire protocol as pure functions: no sockets, no asyncio.

Asterisk opens a FastAGI connection with an environment block (``agi_key: value``
lines, then a blank line), after which the service sends one command per line and
Asterisk answers each with a status line:

- ``200 result=<value>`` optionally followed by ``(data)`` and ``key=value`` pairs;
- ``100 result=0 Trying...`` before the real answer of some commands;
- ``510 Invalid or unknown command``, ``511 Command Not Permitted on a dead channel``;
- ``520-Invalid command syntax.  Proper usage follows:`` then usage text, closed by
  ``520 End of proper usage.``;
- a bare ``HANGUP`` line, sent once when the channel hangs up, between answers.

Text from outside (caller ID, CSV data) must never become a second command, so
``format_command`` refuses any argument with a line break and quotes the rest.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from enum import Enum

HANGUP_LINE = "HANGUP"
MAX_ENV_LINES = 128
MAX_LINE_BYTES = 8192
MAX_ENV_BYTES = 32768
MAX_USAGE_LINES = 64

_ENV_KEY_RE = re.compile(r"^agi_[a-z0-9_]{1,40}$")
_ROUTE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_RESULT_RE = re.compile(
    r"^result=(?P<result>\S*)"
    r"(?:\s+\((?P<data>.*)\))?"
    r"(?P<rest>(?:\s+\S+=\S*)*)\s*$"
)


class AgiProtocolError(Exception):
    """The peer sent something that is not AGI."""


class AgiArgumentError(ValueError):
    """An argument cannot be sent safely (it would break the command line)."""


@dataclass(frozen=True, slots=True)
class AgiEnvironment:
    """The ``agi_*`` block Asterisk sends first, with the requested route split out."""

    values: dict[str, str]
    route: str
    query: dict[str, str]

    def get(self, key: str, default: str = "") -> str:
        """Value of ``agi_<key>`` (``key`` without the prefix), or ``default``."""
        return self.values.get("agi_" + key, default)

    @property
    def unique_id(self) -> str:
        """The channel's unique id, made safe for logs and file names."""
        return re.sub(r"[^0-9A-Za-z._-]", "_", self.get("uniqueid"))[:64] or "unknown"

    @property
    def caller_id(self) -> str:
        """Caller-ID number as Asterisk sent it (outside text: never sent back raw)."""
        value = self.get("callerid")
        return "" if value == "unknown" else value


class EnvironmentParser:
    """Accumulates environment lines until the blank line; bounded in size."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._bytes = 0
        self._lines = 0

    @property
    def started(self) -> bool:
        """True once any line arrived (a bare connect-and-close is a port probe)."""
        return self._lines > 0

    def feed(self, line: str) -> AgiEnvironment | None:
        """Take one line (without its line ending); return the environment at the blank line.

        Raises ``AgiProtocolError`` for a line that is not ``agi_key: value``, a
        duplicated key, or a block past the size limits.
        """
        self._lines += 1
        self._bytes += len(line) + 1
        if self._lines > MAX_ENV_LINES or self._bytes > MAX_ENV_BYTES:
            raise AgiProtocolError("environment block too large")
        if line == "":
            return _environment(self._values)
        key, sep, value = line.partition(":")
        if not sep or not _ENV_KEY_RE.match(key):
            raise AgiProtocolError(f"not an AGI environment line (line {self._lines})")
        if key in self._values:
            raise AgiProtocolError(f"duplicated environment key {key}")
        self._values[key] = value.strip()
        return None


def _environment(values: dict[str, str]) -> AgiEnvironment:
    script = values.get("agi_network_script")
    if script is None:
        raise AgiProtocolError("environment has no agi_network_script")
    route, query = split_script(script)
    return AgiEnvironment(values=dict(values), route=route, query=query)


def split_script(script: str) -> tuple[str, dict[str, str]]:
    """Split ``agi_network_script`` (``support-line?lang=en``) into route and query.

    The route is the path's last segment, lower-cased; only ``[a-z0-9_-]`` names are
    routes. Repeated query keys keep their first value.
    """
    path, _, raw_query = script.partition("?")
    route = path.strip("/").rsplit("/", 1)[-1].lower()
    if not _ROUTE_RE.match(route):
        raise AgiProtocolError("agi_network_script names no valid route")
    query: dict[str, str] = {}
    for key, value in urllib.parse.parse_qsl(raw_query, keep_blank_values=True):
        query.setdefault(key, value)
    return route, query


class Status(Enum):
    """What a command's answer means for the call."""

    OK = "ok"
    INVALID = "invalid"  # 510: Asterisk does not know the command
    DEAD = "dead"  # 511: the channel is gone
    USAGE = "usage"  # 520: wrong arguments


@dataclass(frozen=True, slots=True)
class AgiResponse:
    """One command's answer, parsed."""

    status: Status
    result: str = ""
    data: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    text: str = ""

    @property
    def timed_out(self) -> bool:
        """True when the command ended on its timeout (``(timeout)``)."""
        return self.data == "timeout"


class ResponseParser:
    """Turns the lines Asterisk sends after a command into one ``AgiResponse``.

    ``HANGUP`` lines may arrive before the answer; they set ``hung_up`` and are
    otherwise skipped, as are ``100 Trying`` lines.
    """

    def __init__(self) -> None:
        self.hung_up = False
        self._usage: list[str] | None = None

    def feed(self, line: str) -> AgiResponse | None:
        """Take one line; return the response when it is complete."""
        if self._usage is not None:
            if line.startswith("520 "):
                usage, self._usage = self._usage, None
                return AgiResponse(Status.USAGE, text="\n".join(usage))
            if len(self._usage) >= MAX_USAGE_LINES:
                raise AgiProtocolError("520 usage text too long")
            self._usage.append(line)
            return None
        if line == HANGUP_LINE:
            self.hung_up = True
            return None
        code, _, rest = line.partition(" ")
        if code == "520-":
            raise AgiProtocolError("malformed 520 line")
        if code.startswith("520-"):
            self._usage = [line[4:]]
            return None
        if code == "100":
            return None
        if code == "200":
            return parse_result(rest)
        if code == "510":
            return AgiResponse(Status.INVALID, text=rest)
        if code == "511":
            self.hung_up = True
            return AgiResponse(Status.DEAD, text=rest)
        if code == "520":
            return AgiResponse(Status.USAGE, text=rest)
        raise AgiProtocolError("unexpected reply line")


def parse_result(rest: str) -> AgiResponse:
    """Parse what follows ``200 ``: ``result=1234``, ``result= (timeout)``, ``endpos=...``."""
    match = _RESULT_RE.match(rest.strip())
    if match is None:
        raise AgiProtocolError("malformed 200 reply")
    extra: dict[str, str] = {}
    for pair in match["rest"].split():
        key, _, value = pair.partition("=")
        extra[key] = value
    return AgiResponse(Status.OK, result=match["result"], data=match["data"] or "", extra=extra)


def quote(arg: str) -> str:
    """One AGI argument, double-quoted, with backslash and quote escaped.

    Asterisk's AGI parser splits on spaces outside quotes and honours backslash
    escapes; a line break would end the command, so it is refused outright.
    """
    if "\n" in arg or "\r" in arg or "\x00" in arg:
        raise AgiArgumentError("AGI argument contains a line break or NUL")
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_command(verb: str, *args: str) -> bytes:
    """Encode one command line: the verb as is (ours, constant), each argument quoted."""
    if not re.fullmatch(r"[A-Z][A-Z ]*[A-Z]", verb):
        raise AgiArgumentError("AGI verb must be upper-case words")
    parts = [verb, *(quote(arg) for arg in args)]
    return (" ".join(parts) + "\n").encode("utf-8")


def digits_result(response: AgiResponse) -> str:
    """The keys a ``GET DATA`` answer carries (``200 result=12#`` never has the ``#``)."""
    return response.result if re.fullmatch(r"[0-9*#A-D]*", response.result) else ""


def key_from_result(response: AgiResponse) -> str:
    """The key pressed to interrupt a prompt: ``result`` is its ASCII code, 0 for none."""
    try:
        code = int(response.result)
    except ValueError:
        return ""
    return chr(code) if 32 < code < 127 else ""
