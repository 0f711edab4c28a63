"""Test harness: a settable clock, the in-process support line, small helpers."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest

from ivr.agi.server import FastAgiServer
from ivr.agi.simulator import CallResult, FakeAsterisk, SimulatedCall
from ivr.flows.prompts import sound_exists
from tests.support.calls import UNKNOWN_CALLER

CHICAGO = ZoneInfo("America/Chicago")
# Wednesday 2026-11-25 10:00 in Chicago: every tier is open.
OPEN_HOURS = dt.datetime(2026, 11, 25, 10, 0, tzinfo=CHICAGO)
# Wednesday 2026-11-25 22:00 in Chicago: only Premium Plus is open.
AFTER_HOURS = dt.datetime(2026, 11, 25, 22, 0, tzinfo=CHICAGO)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Clock:
    """A clock the test sets; the flow reads it through ``clock()``."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


class Line:
    """The support line served in-process: place calls, get results."""

    def __init__(self, server: FastAgiServer, host: str, port: int) -> None:
        self.server = server
        self.asterisk = FakeAsterisk(host, port)
        self.host = host
        self.port = port

    async def call(
        self,
        dtmf: str,
        caller: str = UNKNOWN_CALLER,
        *,
        hangup_at: int | None = None,
        script: str = "support-line",
        unique_id: str = "",
    ) -> CallResult:
        """Place one strict call; fail the test on any protocol violation."""
        result = await self.asterisk.place(
            SimulatedCall(
                caller_id=caller,
                unique_id=unique_id,
                answers=SimulatedCall.parse_dtmf(dtmf),
                hangup_at=hangup_at,
                script=script,
                sound_exists=sound_exists("ivr"),
            )
        )
        assert result.violations == [], result.violations
        return result


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll a condition without sleeping blindly (bounded)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        await asyncio.sleep(0.01)
