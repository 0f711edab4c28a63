"""The small interface call flows speak to: a caller on a channel.

FastAGI (``ivr.agi.channel``) and classic AGI scripts implement it; tests script it.
Flows never see sockets, AGI result codes or file descriptors: only these calls and
the two exceptions below.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from ivr.domain.variables import Var


class CallHungUp(Exception):
    """The caller hung up (or Asterisk dropped the call); nothing more can be played."""


class ChannelFailure(Exception):
    """A channel command failed on a live call (missing prompt, rejected command)."""


@dataclass(frozen=True, slots=True)
class KeyInput:
    """What the caller keyed in answer to a prompt."""

    digits: str
    timed_out: bool


@dataclass(frozen=True, slots=True)
class Recording:
    """A recorded message: where it is and how it ended (``dtmf``, ``timeout``, ...)."""

    path: str
    ended_by: str


class Channel(Protocol):
    """A live call, as a flow sees it."""

    @property
    def call_id(self) -> str:
        """The call's unique id (safe for logs and file names)."""
        ...

    @property
    def caller_id(self) -> str:
        """The caller-ID number as the network gave it (untrusted text)."""
        ...

    async def answer(self) -> None:
        """Answer the call."""
        ...

    async def play(self, prompt: str) -> None:
        """Play a prompt to the end."""
        ...

    async def read_keys(self, prompt: str, max_digits: int, timeout: float) -> KeyInput:
        """Play a prompt (keys interrupt it) and collect up to ``max_digits`` keys.

        ``#`` ends the input and is not part of the result; ``timeout`` is the
        wait after the prompt for the next key.
        """
        ...

    async def say_digits(self, digits: str) -> None:
        """Speak a string of digits one by one."""
        ...

    async def say_number(self, number: int) -> None:
        """Speak a whole number."""
        ...

    async def say_alpha(self, text: str) -> None:
        """Spell letters and digits one by one (no speech synthesis: names are spelled)."""
        ...

    async def say_datetime(self, when: dt.datetime) -> None:
        """Speak a day and time (in ``when``'s time zone): "Monday, March 3 at 10:00 AM"."""
        ...

    async def say_date(self, day: dt.date) -> None:
        """Speak a calendar date."""
        ...

    async def record(self, name: str, max_seconds: int, silence_seconds: int) -> Recording:
        """Record the caller after a beep until ``#``, silence or the time limit."""
        ...

    async def set_variable(self, name: Var, value: str) -> None:
        """Set an ``IVR_*`` channel variable for the dialplan."""
        ...

    async def hangup(self) -> None:
        """Hang up the call."""
        ...


RouteHandler = Callable[[Channel, Mapping[str, str]], Awaitable[None]]
"""A FastAGI route: runs one call on a channel, given the script's query string."""
