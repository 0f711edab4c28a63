"""Callers and engineers played through a real Asterisk's AMI, as people would.

A caller is a Local channel originated into the support line: its first half
(``;1``, the "phone") waits in ``[ivr-test-caller]``, its second half (``;2``) runs
the dialplan under test. The caller presses its next answer with ``PlayDTMF`` on
its phone only when the service waits for input (an ``AGIExecStart`` of ``GET
DATA`` or ``RECORD FILE`` on ``;2``), as a person who listens to the prompt does:
keys sent between commands would be lost, as on a real line. Engineers are the
Local channels the dialplan dials: when their screening asks for a key, each
presses what the test says (``1`` accepts, ``2`` declines, nothing is silence).

Every event of a call is kept: Asterisk gives the channels a call creates the
call's ``Linkedid``, and ``ChannelId`` at origination makes it known in advance.
The private Asterisk stamps each event with its own clock (``Timestamp``), so the
wait between a caller's last key and the service's next command
(``PlacedCall.key_waits``) is Asterisk's, not this process's.

Asterisk runs one manager session's actions one at a time, and ``PlayDTMF`` holds
the session for each key's duration: with a hundred callers at once, keys pressed
over the one link queue behind each other for seconds. With ``phone_keys`` the
phone presses them itself instead: the switchboard sets the answer on the phone's
channel and redirects it to ``[ivr-test-keys]``, whose ``SendDTMF`` plays them on
that channel's own thread and goes back to waiting (two quick actions, no extra
manager session for Asterisk to wake at every event).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ivr.ami.client import AmiClient, AmiSettings
from ivr.ami.wire import AmiMessage
from tests.support.asterisk import AMI_SECRET, AMI_USER, KEYS_CONTEXT, KEYS_VARIABLE

INPUT_COMMANDS = ("GET DATA", "RECORD FILE")
KEY_GAP = 0.15  # seconds between two keys of one answer
THINK = 0.3  # seconds a person takes before pressing
_ids = itertools.count(1)


@dataclass(slots=True)
class PlacedCall:
    """One caller's call and every event Asterisk reported about it."""

    name: str
    phone_id: str  # uniqueid of the caller's phone (;1), the call's Linkedid
    line_id: str  # uniqueid of the half that runs the dialplan (;2)
    answers: list[str | None]
    engineers: Mapping[str, str]
    events: list[AmiMessage] = field(default_factory=list)
    channels: dict[str, str] = field(default_factory=dict)  # uniqueid -> channel name
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    asked: list[str] = field(default_factory=list)  # the input commands, in order
    phone_keys: bool = False  # the phone presses the keys itself ([ivr-test-keys])

    @property
    def phone(self) -> str:
        """The caller's phone channel name."""
        return self.channels.get(self.phone_id, "")

    @property
    def line(self) -> str:
        """The channel name of the half that runs the support line."""
        return self.channels.get(self.line_id, "")

    def of(self, event: str, **headers: str) -> list[AmiMessage]:
        """Every event of this name whose headers have these values."""
        return [
            m for m in self.events
            if m.event == event and all(m.get(k) == v for k, v in headers.items())
        ]  # fmt: skip

    def key_waits(self) -> list[tuple[str, float]]:
        """Each wait, in seconds, from the caller's last key of an answer (``DTMFEnd`` on the
        line) to the service's next command (``AGIExecStart`` on the line), with the input
        command the answer was keyed into; by Asterisk's event timestamps."""
        waits: list[tuple[str, float]] = []
        asked, last_key = "", None
        for message in self.events:
            if message.get("Uniqueid") != self.line_id:
                continue
            if message.event == "DTMFEnd" and message.get("Direction") == "Received":
                last_key = float(message.get("Timestamp"))
            elif message.event == "AGIExecStart":
                if last_key is not None:
                    waits.append((asked, float(message.get("Timestamp")) - last_key))
                    last_key = None
                asked = message.get("Command")
        return waits

    def line_variables(self) -> dict[str, str]:
        """The variables set on the support line's channel, last value of each."""
        out: dict[str, str] = {}
        for message in self.of("VarSet", Uniqueid=self.line_id):
            out[message.get("Variable")] = message.get("Value")
        return out

    async def wait_for(self, event: str, timeout: float = 90.0, **headers: str) -> AmiMessage:
        """The first event of this name with these header values (waits for it)."""
        async with asyncio.timeout(timeout), self.changed:
            while not (found := self.of(event, **headers)):
                if self.ended.is_set() and event != "Hangup":
                    raise AssertionError(f"{self.name}: the call ended without {event} {headers}")
                await self.changed.wait()
        return found[0]


class Switchboard:
    """One AMI link to one Asterisk, playing every caller and engineer placed through it."""

    caller_context = "ivr-test-caller"

    def __init__(self, port: int, *, phone_keys: bool = False) -> None:
        self._client = AmiClient(
            AmiSettings("127.0.0.1", port, AMI_USER, AMI_SECRET, timeout=15.0),
            events=True,
            on_event=self._on_event,
            ping_interval=None,
            label="test switchboard",
        )
        self._phone_keys = phone_keys
        self._calls: dict[str, PlacedCall] = {}
        self.events: list[AmiMessage] = []  # every event, for what no call owns (re-pages)
        self.errors: list[BaseException] = []  # a key that could not be pressed, and such
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Log in, with events on."""
        await self._client.connect()

    async def close(self) -> None:
        """Log off and close."""
        for task in list(self._tasks):
            task.cancel()
        await self._client.close()

    async def call(
        self,
        name: str,
        *,
        number: str = "2145565917",
        context: str = "ivr-support-line",
        caller_id: str = "9725550199",
        answers: Sequence[str | None] = (),
        engineers: Mapping[str, str] | None = None,
        phone_keys: bool | None = None,
    ) -> PlacedCall:
        """Place a call; the caller keys ``answers`` in turn (None: says nothing), by
        ``PlayDTMF`` or, with ``phone_keys`` (default: the switchboard's), from the phone."""
        seq = next(_ids)
        call = PlacedCall(
            name=name,
            phone_id=f"test-{seq}-{name}-phone",
            line_id=f"test-{seq}-{name}-line",
            answers=list(answers),
            engineers=dict(engineers or {}),
            phone_keys=self._phone_keys if phone_keys is None else phone_keys,
        )
        self._calls[call.phone_id] = call
        reply = await self._client.action({
            "Action": "Originate",
            "Channel": f"Local/{number}@{context}/n",
            "Context": self.caller_context,
            "Exten": "s",
            "Priority": "1",
            "CallerID": f"{name} <{caller_id}>",
            "ChannelId": call.phone_id,
            "OtherChannelId": call.line_id,
            "Timeout": "30000",
            "Async": "true",
        })  # fmt: skip
        if not reply.ok:
            raise AssertionError(f"{name}: Originate refused: {reply.response.headers}")
        return call

    async def hang_up(self, call: PlacedCall) -> None:
        """The caller hangs up their phone."""
        await self._client.action({"Action": "Hangup", "Channel": call.phone})

    async def hang_up_channel(self, channel: str) -> None:
        """Any channel hangs up (an engineer putting the phone down)."""
        await self._client.action({"Action": "Hangup", "Channel": channel})

    def others(self, event: str, **headers: str) -> list[AmiMessage]:
        """Events of no placed call (re-pages originated by the service)."""
        owned = set(self._calls)
        return [
            m for m in self.events
            if m.event == event and m.get("Linkedid") not in owned
            and all(m.get(k) == v for k, v in headers.items())
        ]  # fmt: skip

    # -- events ------------------------------------------------------------------

    def _on_event(self, message: AmiMessage) -> None:
        self.events.append(message)
        call = self._calls.get(message.get("Linkedid"))
        if call is None:
            return
        call.events.append(message)
        uniqueid, channel = message.get("Uniqueid"), message.get("Channel")
        if uniqueid and channel:
            call.channels[uniqueid] = channel
        if message.event == "AGIExecStart":
            self._on_command(call, message)
        if message.event == "Hangup" and uniqueid == call.line_id:
            call.ended.set()
        self._spawn(self._notify(call))

    def _on_command(self, call: PlacedCall, message: AmiMessage) -> None:
        command = message.get("Command")
        if not command.startswith(INPUT_COMMANDS):
            return
        if message.get("Uniqueid") == call.line_id:
            call.asked.append(command)
            answer = call.answers.pop(0) if call.answers else None
            if answer:
                press = self._dial if call.phone_keys else self._press
                self._spawn(press(call.phone, answer))
            return
        channel = message.get("Channel")
        extension = channel.split("/", 1)[-1].split("@", 1)[0]
        if "@ivr-test-engineers" in channel and channel.endswith(";1"):
            key = call.engineers.get(extension, "")
            if key:
                self._spawn(self._press(channel[:-2] + ";2", key))

    async def _press(self, channel: str, keys: str) -> None:
        await asyncio.sleep(THINK)
        for key in keys:
            reply = await self._client.action({"Action": "PlayDTMF", "Channel": channel,
                                               "Digit": key, "Duration": "120"})  # fmt: skip
            if not reply.ok:
                raise AssertionError(f"PlayDTMF {key} on {channel}: {reply.response.headers}")
            await asyncio.sleep(KEY_GAP)

    async def _dial(self, channel: str, keys: str) -> None:
        """The phone presses ``keys`` itself (``[ivr-test-keys]``), as ``_press`` would."""
        await asyncio.sleep(THINK)
        for fields in (
            {"Action": "Setvar", "Channel": channel, "Variable": KEYS_VARIABLE, "Value": keys},
            {"Action": "Redirect", "Channel": channel, "Context": KEYS_CONTEXT, "Exten": "s",
             "Priority": "1"},
        ):  # fmt: skip
            reply = await self._client.action(fields)
            if not reply.ok:
                raise AssertionError(f"{fields['Action']} on {channel}: {reply.response.headers}")

    async def _notify(self, call: PlacedCall) -> None:
        async with call.changed:
            call.changed.notify_all()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            self.errors.append(error)
