"""A channel on which what the caller only hears may fail without costing them the call.

Asterisk fails a ``STREAM FILE`` of a missing prompt and a ``SAY ...`` without its
core sounds (``digits/...``): the command answers ``result=-1`` and the whole
AGI session is marked failed, while the channel is still up. A flow that stopped
there would throw away what it already knows (the caller is authenticated, the
ticket is open) and send the caller to the general queue. ``ForgivingChannel``
lets such an output fail with one warning and goes on, so the flow still decides
and says where the call goes (the dialplan acts on ``IVR_ROUTE`` whatever
``AGISTATUS`` says). Input is not forgiven: a question the caller could not hear
cannot be answered, and ``read_keys`` fails as before.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Mapping

from ivr.domain.variables import Var
from ivr.flows.channel import Channel, ChannelFailure, KeyInput, Recording, RouteHandler

log = logging.getLogger("ivr.flows")


class ForgivingChannel:
    """A ``Channel`` whose prompts, says and recordings may fail on a live call."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel

    @property
    def call_id(self) -> str:
        """The wrapped channel's call id."""
        return self._channel.call_id

    @property
    def caller_id(self) -> str:
        """The wrapped channel's caller ID (untrusted)."""
        return self._channel.caller_id

    async def _told(self, what: str, command: Awaitable[None]) -> None:
        try:
            await command
        except ChannelFailure as exc:
            log.warning("call=%s %s was not heard (%s); going on", self.call_id, what, exc)

    async def answer(self) -> None:
        """Answer (a failure here is a failure of the call)."""
        await self._channel.answer()

    async def play(self, prompt: str) -> None:
        """Play a prompt; a missing one is logged and skipped."""
        await self._told(f"prompt {prompt}", self._channel.play(prompt))

    async def read_keys(self, prompt: str, max_digits: int, timeout: float) -> KeyInput:
        """Ask for keys (not forgiven: an unheard question cannot be answered)."""
        return await self._channel.read_keys(prompt, max_digits, timeout)

    async def say_digits(self, digits: str) -> None:
        """Say digits; without the core sounds it is logged and skipped."""
        await self._told("digits", self._channel.say_digits(digits))

    async def say_alpha(self, text: str) -> None:
        """Spell letters and digits; without the core sounds it is logged and skipped."""
        await self._told("spelling", self._channel.say_alpha(text))

    async def say_number(self, number: int) -> None:
        """Say a number; without the core sounds it is logged and skipped."""
        await self._told("number", self._channel.say_number(number))

    async def say_datetime(self, when: dt.datetime) -> None:
        """Say a day and time; without the core sounds it is logged and skipped."""
        await self._told("date and time", self._channel.say_datetime(when))

    async def say_date(self, day: dt.date) -> None:
        """Say a date; without the core sounds it is logged and skipped."""
        await self._told("date", self._channel.say_date(day))

    async def record(self, name: str, max_seconds: int, silence_seconds: int) -> Recording:
        """Record the caller; a recording that fails leaves no file, and the call goes on."""
        try:
            return await self._channel.record(name, max_seconds, silence_seconds)
        except ChannelFailure as exc:
            log.warning("call=%s the recording failed (%s); going on", self.call_id, exc)
            return Recording(path="", ended_by="failed")

    async def set_variable(self, name: Var, value: str) -> None:
        """Set a variable for the dialplan (not forgiven: it carries the decision)."""
        await self._channel.set_variable(name, value)

    async def hangup(self) -> None:
        """Hang up."""
        await self._channel.hangup()


def forgiving(handler: RouteHandler) -> RouteHandler:
    """The route, run on a ``ForgivingChannel``."""

    async def route(channel: Channel, query: Mapping[str, str]) -> None:
        await handler(ForgivingChannel(channel), query)

    return route
