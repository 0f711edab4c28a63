"""The AMI wire format, without I/O: bytes in, messages out; actions in, bytes out.

An AMI message is a block of ``Key: Value`` lines ended by a blank line (CRLF
CRLF). The connection opens with one banner line (``Asterisk Call Manager/11.0.0``)
that has no blank line after it. Parsing is linear in the bytes received: each
chunk is scanned once from where the previous scan stopped, however the stream
is cut into chunks (panoramisk re-splits its whole buffer on every chunk, which
is quadratic for a large event list).

Repeated keys (``ChanVariable``) are kept in ``AmiMessage.variables`` when they
are ``NAME=value`` pairs; any other repeated key keeps its last value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

BANNER_PREFIX = b"Asterisk Call Manager/"
_END = b"\r\n\r\n"
# A message larger than this is a broken or hostile peer, not Asterisk.
MAX_MESSAGE_BYTES = 1 << 20


class AmiProtocolError(ValueError):
    """The peer sent something that is not AMI."""


class NotAmiError(AmiProtocolError):
    """The peer's first bytes are not an AMI banner: another program holds the port.

    ``said`` is what it sent instead (at most 60 bytes), to name it to the operator.
    """

    def __init__(self, said: bytes, peer: str = "") -> None:
        self.said = bytes(said[:60])
        what = f"{peer} is not an Asterisk Manager Interface" if peer else "not an AMI banner"
        super().__init__(f"{what}: it said {self.said!r}")


@dataclass(slots=True)
class AmiMessage:
    """One response or event: its headers (last value wins) and channel variables."""

    headers: dict[str, str]
    variables: dict[str, str] = field(default_factory=dict)

    @property
    def event(self) -> str:
        """The event name, or "" for a response."""
        return self.headers.get("Event", "")

    @property
    def action_id(self) -> str:
        """The ActionID this message answers, or ""."""
        return self.headers.get("ActionID", "")

    def get(self, key: str, default: str = "") -> str:
        """A header's value."""
        return self.headers.get(key, default)


def parse_block(block: bytes) -> AmiMessage:
    """One message from its lines (without the blank line that ends it)."""
    return parse_text(block.decode("utf-8", "replace"))


def parse_text(text: str) -> AmiMessage:
    """One message from its decoded lines.

    The block is decoded once, not line by line: the line ends are ASCII, so an
    invalid byte is replaced the same way either way, at a fraction of the cost.
    A plain block (every line ``Key: Value``, no colon in a key, no
    ``ChanVariable``) is read with one C-level split per line and one ``dict``.
    """
    if "ChanVariable" not in text:
        try:
            headers = dict([line.split(": ", 1) for line in text.split("\r\n")])
        except ValueError:  # a line without ": " (free text, an empty line, "Key:")
            pass
        else:
            if ":" not in "".join(headers):
                return AmiMessage(headers)
    return _parse_lines(text)


def _parse_lines(text: str) -> AmiMessage:
    headers: dict[str, str] = {}
    variables: dict[str, str] = {}
    for line in text.split("\r\n"):
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            # A response to ``Command`` carries free text lines; keep them in order.
            headers["Output"] = f"{headers['Output']}\n{line}" if "Output" in headers else line
            continue
        if value[:1] == " ":
            value = value[1:]
        if key == "ChanVariable":
            name, eq, var_value = value.partition("=")
            if eq:
                variables[name] = var_value
                continue
        headers[key] = value
    return AmiMessage(headers, variables)


class AmiParser:
    """Incremental parser: ``feed`` bytes as they arrive, get whole messages back."""

    def __init__(self, *, expect_banner: bool = True) -> None:
        self._buffer = bytearray()
        self._scanned = 0  # bytes of the buffer already searched for the terminator
        self._expect_banner = expect_banner
        self.banner = ""

    def feed(self, data: bytes) -> list[AmiMessage]:
        """Every message completed by ``data``.

        Raises NotAmiError when the first line is not a banner, AmiProtocolError on
        any other garbage.
        """
        buffer = self._buffer
        buffer += data
        if self._expect_banner:
            end = buffer.find(b"\r\n")
            if end < 0:
                if len(buffer) > 256:
                    raise NotAmiError(bytes(buffer))
                return []
            line = bytes(buffer[:end])
            if not line.startswith(BANNER_PREFIX):
                raise NotAmiError(line)
            self.banner = line.decode("ascii", "replace")
            del buffer[: end + 2]
            self._expect_banner = False
        messages: list[AmiMessage] = []
        start = 0
        # Resume the search just before where the last one stopped, in case the
        # terminator straddles two chunks.
        search = max(0, self._scanned - 3)
        while True:
            end = buffer.find(_END, search)
            if end < 0:
                break
            if end > start:
                messages.append(parse_text(buffer[start:end].decode("utf-8", "replace")))
            start = end + 4
            search = start
        if start:
            del buffer[:start]
        self._scanned = len(buffer)
        if self._scanned > MAX_MESSAGE_BYTES:
            raise AmiProtocolError(f"an AMI message longer than {MAX_MESSAGE_BYTES} bytes")
        return messages


def format_action(action: Mapping[str, str | Iterable[str]]) -> bytes:
    """An action as bytes; a value that is a list becomes repeated headers.

    Raises ValueError for a CR or LF in any key or value: a value can never
    smuggle a second header or a second action.
    """
    lines: list[str] = []
    for key, value in action.items():
        values = [value] if isinstance(value, str) else list(value)
        for item in values:
            if any(c in key + item for c in "\r\n") or ":" in key:
                raise ValueError(f"unsafe AMI header {key!r}")
            lines.append(f"{key}: {item}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
