"""A strict fake Asterisk Manager Interface over TCP, speaking AMI as Asterisk 22 does.

Replies follow tests/transcripts/ami-basic.txt and ami-queue-events*.txt: the
banner, ``Response: Success`` blocks with the ActionID echoed, event lists that
start with ``EventList: start`` and end with ``...Complete`` (``ListItems``), CRLF
line endings and a blank line after each message. As Asterisk's manager.c does, a
refused ``Login`` and a ``Logoff`` are answered and then the link is closed. An
action it does not know is answered as Asterisk answers it and recorded as a
violation, so a test fails on it.

Tests drive it: ``emit`` sends raw event blocks (recorded or written) to every
client that logged in with events on, ``queues`` is what ``QueueStatus`` and
``QueueSummary`` report, ``inside_lists`` are event blocks sent in the middle of
every event list (Asterisk interleaves unrelated events with a list, as the
recordings show), ``mute_ping`` and ``unanswered`` leave actions unanswered (a
half-open link, a hung Asterisk), and ``drop`` cuts every link as a restart would.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from ivr.ami.client import AmiSettings
from ivr.ami.originate import AmiOriginator

BANNER = "Asterisk Call Manager/11.0.0\r\n"
TRANSCRIPTS = Path(__file__).resolve().parents[1] / "transcripts"


@dataclass
class FakeMember:
    """A queue member as QueueStatus lists it."""

    name: str
    interface: str
    status: int = 1
    paused: bool = False
    calls_taken: int = 0


@dataclass
class FakeEntry:
    """A waiting caller as QueueStatus lists it (``QueueEntry``)."""

    uniqueid: str
    caller_id: str
    wait: int = 0
    caller_name: str = "Caller"


@dataclass
class FakeQueue:
    """One queue's members and waiting callers."""

    members: list[FakeMember] = field(default_factory=list)
    entries: list[FakeEntry] = field(default_factory=list)


@dataclass
class FakeAmi:
    """Accepts AMI clients; records actions; answers Login, Ping, Originate, QueueStatus..."""

    secret: str
    actions: list[dict[str, list[str]]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    refuse_originate: bool = False
    queues: dict[str, FakeQueue] = field(default_factory=dict)
    # Seconds to wait before answering QueueStatus (a busy Asterisk).
    status_delay: float = 0.0
    # Stop answering Ping (a half-open link).
    mute_ping: bool = False
    # Actions received and never answered (a hung Asterisk).
    unanswered: set[str] = field(default_factory=set)
    # Event blocks sent after the first answer of every event list, before its items.
    inside_lists: list[str] = field(default_factory=list)
    # Whether ListCommands offers Originate (the user has write=originate).
    may_originate: bool = True
    # Logins with events on (the consumer's), all logins accepted, logins refused,
    # and when each TCP connection was accepted (time.monotonic()).
    logins: int = 0
    accepted: int = 0
    refused: int = 0
    connected_at: list[float] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _writers: list[tuple[asyncio.StreamWriter, bool]] = field(default_factory=list)
    _logged_in: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def start(self, port: int = 0) -> int:
        """Listen on a loopback port (a free one by default); return it."""
        self._server = await asyncio.start_server(self._client, "127.0.0.1", port)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and drop clients."""
        if self._server is not None:
            self._server.close()
            self.drop()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await self._server.wait_closed()

    def originates(self) -> list[dict[str, list[str]]]:
        """The Originate actions received."""
        return [a for a in self.actions if a["Action"] == ["Originate"]]

    def count(self, action: str) -> int:
        """How many actions of this name were received."""
        return sum(1 for a in self.actions if a.get("Action") == [action])

    async def wait_logins(self, count: int, timeout: float = 10.0) -> None:
        """Until ``count`` logins with events on have happened in all."""
        async with asyncio.timeout(timeout), self._logged_in:
            await self._logged_in.wait_for(lambda: self.logins >= count)

    async def emit(self, *blocks: str) -> None:
        """Send event blocks (``Key: Value`` lines) to every client with events on."""
        data = "".join(_block(b) for b in blocks).encode()
        for writer, events in list(self._writers):
            if events and not writer.is_closing():
                writer.write(data)
                with contextlib.suppress(ConnectionError):
                    await writer.drain()

    def drop(self) -> None:
        """Cut every client's link (as an Asterisk restart does)."""
        for writer, _events in self._writers:
            writer.transport.abort()
        self._writers.clear()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connected_at.append(time.monotonic())
        writer.write(BANNER.encode())
        logged_in = False
        try:
            while True:
                block = await reader.readuntil(b"\r\n\r\n")
                action: dict[str, list[str]] = {}
                for line in block.decode().strip().split("\r\n"):
                    key, _, value = line.partition(": ")
                    action.setdefault(key, []).append(value)
                self.actions.append(action)
                name = action.get("Action", [""])[0]
                if (name == "Ping" and self.mute_ping) or name in self.unanswered:
                    continue
                if name in ("QueueStatus", "QueueSummary") and logged_in:
                    if self.status_delay and name == "QueueStatus":
                        await asyncio.sleep(self.status_delay)
                    writer.write(self._list(action).encode())
                    await writer.drain()
                    continue
                reply = self._reply(action, logged_in)
                if name in ("Login", "Logoff") and "Success" not in reply:
                    # Asterisk ends the session after a refused login and after Logoff.
                    if name == "Login":
                        self.refused += 1
                    writer.write(reply.encode())
                    await writer.drain()
                    break
                if name == "Login":
                    logged_in = True
                    self.accepted += 1
                    events = action.get("Events", ["on"])[0].lower() != "off"
                    self._writers.append((writer, events))
                    writer.write(reply.encode())
                    await writer.drain()
                    if events:
                        async with self._logged_in:
                            self.logins += 1
                            self._logged_in.notify_all()
                    continue
                writer.write(reply.encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers = [(w, e) for w, e in self._writers if w is not writer]
            writer.close()

    def _list(self, action: dict[str, list[str]]) -> str:
        """The event list answering QueueStatus or QueueSummary, as Asterisk 22 sends it."""
        name = action["Action"][0]
        action_id = action.get("ActionID", [""])[0]
        wanted = action.get("Queue", [""])[0]
        queues = {q: v for q, v in self.queues.items() if not wanted or q == wanted}
        head = f"ActionID: {action_id}\r\n"
        what = "status" if name == "QueueStatus" else "summary"
        start = f"Response: Success\r\n{head}EventList: start\r\n"
        out = [f"{start}Message: Queue {what} will follow\r\n\r\n"]
        out += [_block(b) for b in self.inside_lists]
        items = 0
        for queue, state in queues.items():
            if name == "QueueStatus":
                out.append(
                    f"Event: QueueParams\r\nQueue: {queue}\r\nMax: 0\r\nStrategy: ringall\r\n"
                    f"Calls: {len(state.entries)}\r\nHoldtime: 0\r\nTalkTime: 0\r\n"
                    f"Completed: 0\r\nAbandoned: 0\r\nServiceLevel: 0\r\n"
                    f"ServicelevelPerf: 0.0\r\nServicelevelPerf2: 0.0\r\nWeight: 0\r\n{head}\r\n"
                )
                items += 1
                for m in state.members:
                    out.append(
                        f"Event: QueueMember\r\nQueue: {queue}\r\nName: {m.name}\r\n"
                        f"Location: {m.interface}\r\nStateInterface: {m.interface}\r\n"
                        f"Membership: static\r\nPenalty: 0\r\nCallsTaken: {m.calls_taken}\r\n"
                        f"LastCall: 0\r\nLastPause: 0\r\nLoginTime: 1795570800\r\nInCall: 0\r\n"
                        f"Status: {m.status}\r\nPaused: {int(m.paused)}\r\nPausedReason: \r\n"
                        f"Wrapuptime: 0\r\n{head}\r\n"
                    )
                    items += 1
                for position, e in enumerate(state.entries, 1):
                    out.append(
                        f"Event: QueueEntry\r\nQueue: {queue}\r\nPosition: {position}\r\n"
                        f"Channel: PJSIP/trunk-{e.uniqueid}\r\nUniqueid: {e.uniqueid}\r\n"
                        f"CallerIDNum: {e.caller_id}\r\nCallerIDName: {e.caller_name}\r\n"
                        f"ConnectedLineNum: <unknown>\r\nConnectedLineName: <unknown>\r\n"
                        f"Wait: {e.wait}\r\nPriority: 0\r\n{head}\r\n"
                    )
                    items += 1
            else:
                available = sum(1 for m in state.members if m.status == 1 and not m.paused)
                out.append(
                    f"Event: QueueSummary\r\nQueue: {queue}\r\nLoggedIn: {len(state.members)}\r\n"
                    f"Available: {available}\r\nCallers: {len(state.entries)}\r\nHoldTime: 0\r\n"
                    f"TalkTime: 0\r\nLongestHoldTime: 0\r\n{head}\r\n"
                )
                items += 1
        complete = "QueueStatusComplete" if name == "QueueStatus" else "QueueSummaryComplete"
        out.append(f"Event: {complete}\r\n{head}EventList: Complete\r\nListItems: {items}\r\n\r\n")
        return "".join(out)

    def _reply(self, action: dict[str, list[str]], logged_in: bool) -> str:
        name = action.get("Action", [""])[0]
        action_id = action.get("ActionID", [""])[0]
        head = f"ActionID: {action_id}\r\n" if action_id else ""
        if name == "Login":
            self_ok = action.get("Secret") == [self.secret]
            if self_ok:
                return f"Response: Success\r\n{head}Message: Authentication accepted\r\n\r\n"
            return f"Response: Error\r\n{head}Message: Authentication failed\r\n\r\n"
        if not logged_in:
            self.violations.append(f"{name} before Login")
            return f"Response: Error\r\n{head}Message: Permission denied\r\n\r\n"
        if name == "Ping":
            return f"Response: Success\r\n{head}Ping: Pong\r\nTimestamp: 1795570800.735910\r\n\r\n"
        if name == "Originate":
            missing = {"Channel", "Context", "Exten", "Priority"} - set(action)
            if missing:
                self.violations.append(f"Originate without {sorted(missing)}")
            if self.refuse_originate:
                return f"Response: Error\r\n{head}Message: Originate failed\r\n\r\n"
            return f"Response: Success\r\n{head}Message: Originate successfully queued\r\n\r\n"
        if name == "ListCommands":
            # One header per action this user may run, as manager.c lists them.
            listed = "Ping: Keepalive command. (Priv: <none>)\r\n"
            listed += "QueueStatus: Show queue status. (Priv: <none>)\r\n"
            listed += "QueueSummary: Show queue summary. (Priv: <none>)\r\n"
            if self.may_originate:
                listed += "Originate: Originate a call. (Priv: originate,all)\r\n"
            return f"Response: Success\r\n{head}{listed}\r\n"
        if name == "Logoff":
            return f"Response: Goodbye\r\n{head}Message: Thanks for all the fish.\r\n\r\n"
        self.violations.append(f"unknown action {name}")
        return f"Response: Error\r\n{head}Message: Invalid/unknown command\r\n\r\n"


def _block(text: str) -> str:
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line]
    return "\r\n".join(lines) + "\r\n\r\n"


def recorded_events(name: str, *, only: set[str] | None = None) -> list[str]:
    """The unsolicited event blocks (no ActionID) of a recorded AMI transcript, in order."""
    text = (TRANSCRIPTS / name).read_text()
    events = []
    for block in re.split(r"\n## <<< recv at [0-9.]+\n", text)[1:]:
        body = block.split("\n##", 1)[0].strip("\n")
        if not body.startswith("Event: ") or "\nActionID: " in body:
            continue
        name_ = body.split("\n", 1)[0].removeprefix("Event: ")
        if only is None or name_ in only:
            events.append(body)
    return events


def recorded_stream(name: str) -> bytes:
    """Every byte Asterisk sent in a recorded AMI transcript: banner, responses, events."""
    text = (TRANSCRIPTS / name).read_text()
    banner = re.search(r"^## banner: (.*)$", text, re.MULTILINE)
    assert banner, f"{name} has no banner line"
    out = [banner.group(1) + "\r\n"]
    out += [
        _block(block.split("\n##", 1)[0])
        for block in re.split(r"\n## <<< recv at [0-9.]+\n", text)[1:]
    ]
    return "".join(out).encode()


def recorded_replies(name: str, action_id: str) -> list[str]:
    """The blocks a recorded transcript shows answering one ActionID (a response and its list)."""
    text = (TRANSCRIPTS / name).read_text()
    found = []
    for block in re.split(r"\n## <<< recv at [0-9.]+\n", text)[1:]:
        body = block.split("\n##", 1)[0].strip("\n")
        if f"\nActionID: {action_id}\n" in body + "\n":
            found.append(body)
    return found


@contextlib.asynccontextmanager
async def queue_with_agent(secret: str, queue: str) -> AsyncIterator[FakeAmi]:
    """A listening fake AMI with one queue and one available agent (Dana); at the end it
    must have seen no unknown or out-of-order action."""
    fake = FakeAmi(secret=secret)
    fake.queues[queue] = FakeQueue(members=[FakeMember("Dana", "PJSIP/dana")])
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
        assert fake.violations == []


@contextlib.asynccontextmanager
async def originator_on_fake(
    secret: str = "s3cret-for-tests",
) -> AsyncIterator[tuple[FakeAmi, AmiOriginator]]:
    """A fake AMI and an originator logged in to it; no violation at the end."""
    fake = FakeAmi(secret=secret)
    port = await fake.start()
    originator = AmiOriginator(AmiSettings("127.0.0.1", port, "ivr", secret, 5))
    await originator.start()
    try:
        yield fake, originator
    finally:
        await originator.close()
        await fake.close()
        assert fake.violations == []
