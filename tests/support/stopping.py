"""Bounded teardown: whatever a fixture started stops within a bound, or is killed and
the test fails naming it. A teardown must never hang the suite (pytest-timeout would
cut it at 60 s with nothing but a stack to say which part did not stop).
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Awaitable, Callable

STOP_SECONDS = 20.0


class DidNotStop(AssertionError):
    """A part a test started did not stop within its bound (it was killed where it could be)."""


def stop_process(
    process: subprocess.Popen[bytes], what: str, seconds: float = STOP_SECONDS
) -> None:
    """Terminate ``process`` and reap it; if it is still there after ``seconds``, kill it
    and raise ``DidNotStop`` naming ``what``. A process already gone is only reaped."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
        raise DidNotStop(
            f"{what} (pid {process.pid}) did not stop within {seconds:g} s of SIGTERM; killed"
        ) from None


async def astop_process(
    process: subprocess.Popen[bytes], what: str, seconds: float = STOP_SECONDS
) -> None:
    """``stop_process`` off the event loop (the loop may serve the process meanwhile)."""
    await asyncio.to_thread(stop_process, process, what, seconds)


async def within(
    what: str,
    stopping: Awaitable[object],
    seconds: float,
    *,
    kill: Callable[[], object] | None = None,
) -> None:
    """Await ``stopping`` for at most ``seconds``; past that, call ``kill`` (when given)
    and raise ``DidNotStop`` naming ``what``."""
    try:
        async with asyncio.timeout(seconds):
            await stopping
    except TimeoutError:
        if kill is not None:
            kill()
        killed = "; killed" if kill is not None else ""
        raise DidNotStop(f"{what} did not stop within {seconds:g} s{killed}") from None
