"""``Channel`` over AGI commands, for any transport that can run one command.

The FastAGI connection and the classic stdin/stdout script both provide a
``CommandRunner``; this module turns the flow's calls into AGI commands and the
answers into values, ``CallHungUp`` or ``ChannelFailure``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Protocol

from ivr.agi.protocol import (
    AgiArgumentError,
    AgiEnvironment,
    AgiProtocolError,
    AgiResponse,
    Status,
    digits_result,
)
from ivr.domain.variables import Var
from ivr.flows.channel import CallHungUp, ChannelFailure, KeyInput, Recording, RouteHandler
from ivr.runtime.logs import call_context

log = logging.getLogger("ivr.agi")

# Asterisk's say formats: "Monday, March 3 at 10:00 AM" and "Monday, March 3 2025".
SAY_DATETIME_FORMAT = "A B d 'digits/at' I M p"
SAY_DATE_FORMAT = "A B d Y"


class CommandRunner(Protocol):
    """Sends one AGI command and returns Asterisk's answer."""

    @property
    def hung_up(self) -> bool:
        """True once Asterisk has said the channel hung up."""
        ...

    async def run(self, verb: str, *args: str, timeout: float) -> AgiResponse:
        """Send ``verb`` with quoted ``args``; wait at most ``timeout`` seconds."""
        ...


class AgiChannel:
    """The ``Channel`` a flow sees, spoken as AGI commands."""

    def __init__(
        self,
        runner: CommandRunner,
        env: AgiEnvironment,
        *,
        sounds_prefix: str,
        recording_dir: str,
        command_timeout: float,
    ) -> None:
        self._runner = runner
        self._env = env
        self._prefix = sounds_prefix.strip("/")
        self._recording_dir = recording_dir.rstrip("/")
        self._timeout = command_timeout

    @property
    def call_id(self) -> str:
        """The channel's unique id from the AGI environment."""
        return self._env.unique_id

    @property
    def caller_id(self) -> str:
        """Caller-ID number from the AGI environment (untrusted)."""
        return self._env.caller_id

    def _sound(self, prompt: str) -> str:
        return f"{self._prefix}/{prompt}" if self._prefix else prompt

    async def _run(self, verb: str, *args: str, extra_seconds: float = 0.0) -> AgiResponse:
        if self._runner.hung_up:
            raise CallHungUp
        response = await self._runner.run(verb, *args, timeout=self._timeout + extra_seconds)
        if response.status is Status.DEAD:
            raise CallHungUp
        if response.status is not Status.OK:
            raise ChannelFailure(f"{verb} answered {response.status.value}: {response.text}")
        return response

    async def _failed(self, what: str) -> ChannelFailure | CallHungUp:
        """Tell a hang-up from a failure after ``result=-1``.

        Asterisk answers ``-1`` both when the caller hung up and when a sound file
        is missing; a ``CHANNEL STATUS`` on a dead channel is refused with 511.
        """
        if self._runner.hung_up:
            return CallHungUp()
        status = await self._runner.run("CHANNEL STATUS", timeout=self._timeout)
        if status.status is Status.DEAD or self._runner.hung_up:
            return CallHungUp()
        return ChannelFailure(f"{what} failed on a live channel (missing sound file?)")

    async def answer(self) -> None:
        """Answer the call."""
        response = await self._run("ANSWER")
        if response.result == "-1":
            raise await self._failed("ANSWER")

    async def play(self, prompt: str) -> None:
        """Play a prompt to the end (``STREAM FILE`` with no escape keys)."""
        response = await self._run("STREAM FILE", self._sound(prompt), "", extra_seconds=60)
        if response.result == "-1":
            raise await self._failed(f"STREAM FILE {self._sound(prompt)}")

    async def read_keys(self, prompt: str, max_digits: int, timeout: float) -> KeyInput:
        """``GET DATA``: play the prompt, collect keys until ``#``, max or timeout."""
        response = await self._run(
            "GET DATA",
            self._sound(prompt),
            str(int(timeout * 1000)),
            str(max_digits),
            extra_seconds=60 + timeout + 10 * max_digits,
        )
        if response.result == "-1":
            raise await self._failed(f"GET DATA {self._sound(prompt)}")
        return KeyInput(digits=digits_result(response), timed_out=response.timed_out)

    async def _say(self, verb: str, *args: str) -> None:
        response = await self._run(verb, *args, extra_seconds=30)
        if response.result == "-1":
            raise await self._failed(verb)

    async def say_digits(self, digits: str) -> None:
        """``SAY DIGITS`` with no escape keys."""
        await self._say("SAY DIGITS", digits, "")

    async def say_number(self, number: int) -> None:
        """``SAY NUMBER`` with no escape keys."""
        await self._say("SAY NUMBER", str(number), "")

    async def say_alpha(self, text: str) -> None:
        """``SAY ALPHA`` with no escape keys."""
        await self._say("SAY ALPHA", text, "")

    async def say_datetime(self, when: dt.datetime) -> None:
        """``SAY DATETIME`` in ``when``'s own time zone."""
        await self._say(
            "SAY DATETIME", str(int(when.timestamp())), "", SAY_DATETIME_FORMAT, _tz_name(when)
        )

    async def say_date(self, day: dt.date) -> None:
        """A date, spoken with ``SAY DATETIME`` at noon UTC so no zone shifts the day."""
        noon = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
        await self._say("SAY DATETIME", str(int(noon.timestamp())), "", SAY_DATE_FORMAT, "UTC")

    async def record(self, name: str, max_seconds: int, silence_seconds: int) -> Recording:
        """A beep, then ``RECORD FILE`` as WAV ended by ``#``, silence or time."""
        try:
            await self.play_core("beep")
        except ChannelFailure as exc:
            # Asterisk's own beep is missing (no core sounds): the description still
            # matters more than the tone before it.
            log.warning("call=%s no beep before the recording: %s", self.call_id, exc)
        path = f"{self._recording_dir}/{name}"
        response = await self._run(
            "RECORD FILE",
            path,
            "wav",
            "#",
            str(max_seconds * 1000),
            f"s={silence_seconds}",
            extra_seconds=max_seconds,
        )
        if response.data == "hangup":
            raise CallHungUp
        if response.data == "writefile":
            # Asterisk could not create the file (directory missing or not writable):
            # the ticket matters more than the recording, so the call goes on.
            log.error("call=%s RECORD FILE could not write %s.wav", self.call_id, path)
            return Recording(path="", ended_by="writefile")
        if response.result == "-1":
            raise await self._failed("RECORD FILE")
        return Recording(path=f"{path}.wav", ended_by=response.data or "dtmf")

    async def play_core(self, sound: str) -> None:
        """Play one of Asterisk's own sounds (``beep``), not a catalogue prompt."""
        response = await self._run("STREAM FILE", sound, "")
        if response.result == "-1":
            raise await self._failed(f"STREAM FILE {sound}")

    async def set_variable(self, name: Var, value: str) -> None:
        """``SET VARIABLE`` (the value is quoted by the protocol layer)."""
        await self._run("SET VARIABLE", name.value, value)

    async def hangup(self) -> None:
        """``HANGUP`` the channel; a channel already gone is not an error."""
        if self._runner.hung_up:
            return
        response = await self._runner.run("HANGUP", timeout=self._timeout)
        if response.status not in (Status.OK, Status.DEAD):
            raise ChannelFailure(f"HANGUP answered {response.status.value}")


def _tz_name(when: dt.datetime) -> str:
    key = getattr(when.tzinfo, "key", None)
    return key if isinstance(key, str) else "UTC"


async def run_route(
    handler: RouteHandler,
    runner: CommandRunner,
    env: AgiEnvironment,
    *,
    sounds_prefix: str,
    recording_dir: str,
    command_timeout: float,
) -> None:
    """Run one call's route on an AGI channel: the boundary both AGI transports share.

    A failed call is logged with its id and ends; the dialplan then finds no
    IVR_ROUTE and sends the caller to the general queue.
    """
    channel = AgiChannel(
        runner,
        env,
        sounds_prefix=sounds_prefix,
        recording_dir=recording_dir,
        command_timeout=command_timeout,
    )
    call = env.unique_id
    with call_context(call):
        await _run_handler(handler, channel, env)


async def _run_handler(handler: RouteHandler, channel: AgiChannel, env: AgiEnvironment) -> None:
    call = env.unique_id
    try:
        await handler(channel, env.query)
    except TimeoutError:
        log.error("call=%s route=%s Asterisk did not answer a command in time", call, env.route)
    except (AgiProtocolError, AgiArgumentError) as exc:
        log.error("call=%s route=%s AGI protocol error: %s", call, env.route, exc)
    except Exception:
        # The boundary: one failed call must never stop the server or the script.
        log.exception("call=%s route=%s failed", call, env.route)
