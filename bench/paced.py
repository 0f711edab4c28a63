"""Many paced calls at once, each command's server turnaround labelled by its step.

A turnaround is the time from writing Asterisk's reply to one command until the
next command line arrives: the server's own work for that step plus one
loopback hop. The label is the command whose reply started the wait, so the
turnaround labelled ``GET DATA ivr/enter-pin`` is the time from the caller's
final PIN key to the next prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import EMERGENCY, free_port, percentile, wait_listening
from ivr.agi.simulator import FakeAsterisk, SimulatedCall
from ivr.flows.prompts import sound_exists

INPUT_VERBS = ("GET DATA", "RECORD FILE")


@dataclass
class Turnarounds:
    """Turnaround samples in ms, by the step they followed."""

    by_step: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failed: list[str] = field(default_factory=list)
    calls: int = 0

    def all(self) -> list[float]:
        """Every sample."""
        return [ms for samples in self.by_step.values() for ms in samples]

    def p(self, share: float, step: str | None = None) -> float:
        """A percentile of one step's samples, or of all."""
        return percentile(self.all() if step is None else self.by_step.get(step, []), share)


def step_of(command: str) -> str:
    """``GET DATA "ivr/enter-pin" 5000 12`` -> ``GET DATA ivr/enter-pin``; other verbs alone."""
    words = command.replace('"', "").split()
    if command.startswith(INPUT_VERBS):
        return " ".join(words[:3]) if command.startswith("GET DATA") else "RECORD FILE"
    return " ".join(w for w in words[:2] if w.isupper())


async def paced_call(
    asterisk: FakeAsterisk, index: int, pause: float, delay: float, out: Turnarounds
) -> None:
    """One whole emergency call, started after ``delay``, a random pause before each key."""
    await asyncio.sleep(delay)
    replied_at = 0.0
    replied_to = ""

    async def think(command: str) -> None:
        nonlocal replied_at, replied_to
        if replied_at:
            out.by_step[replied_to].append((time.perf_counter() - replied_at) * 1000)
        if command.startswith(INPUT_VERBS):
            await asyncio.sleep(pause * random.uniform(0.5, 1.5))  # noqa: S311
        replied_to = step_of(command)
        # The reply is written right after this returns: the wait starts here.
        replied_at = time.perf_counter()

    call = SimulatedCall(
        caller_id=f"9{index:09d}",
        answers=SimulatedCall.parse_dtmf(EMERGENCY),
        sound_exists=sound_exists("ivr"),
        before_answer=think,
    )
    try:
        result = await asterisk.place(call, timeout=pause * 20 + 60)
    except OSError as exc:
        out.failed.append(f"call {index}: {exc}")
        return
    out.calls += 1
    if result.violations or not result.variables.get("IVR_TICKET"):
        out.failed.append(f"call {index}: {result.violations or result.variables}")


async def run_calls(port: int, calls: int, pause: float, ramp: float) -> Turnarounds:
    """``calls`` calls whose starts are spread evenly over ``ramp`` seconds."""
    out = Turnarounds()
    asterisk = FakeAsterisk("127.0.0.1", port)
    await asyncio.gather(
        *(paced_call(asterisk, i, pause, ramp * i / calls, out) for i in range(calls))
    )
    return out


async def echo_round_trips(port: int, connections: int, trips: int, pause: float) -> list[float]:
    """Round trips of one AGI-sized line to the echo server, ``connections`` at once."""
    samples: list[float] = []

    async def one(delay: float) -> None:
        await asyncio.sleep(delay)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for _ in range(trips):
                sent = time.perf_counter()
                writer.write(b"200 result=0\n")
                await reader.readline()
                samples.append((time.perf_counter() - sent) * 1000)
                await asyncio.sleep(pause * random.uniform(0.5, 1.5))  # noqa: S311
        finally:
            writer.close()

    await asyncio.gather(*(one(pause * i / connections) for i in range(connections)))
    return samples


@contextlib.contextmanager
def echo_server() -> Iterator[int]:
    """``bench.echo`` in its own process; yields its port."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "bench.echo", str(port)], stdout=subprocess.DEVNULL
    )
    try:
        wait_listening(port, process, "bench.echo", Path(os.devnull))
        yield port
    finally:
        process.terminate()
        process.wait(10)
