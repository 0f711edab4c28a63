"""Background tasks that stop when asked, even through libraries that hide a cancel.

redis-py (and aiohttp) can turn a cancellation that lands inside a network wait
into a connection error. A loop that catches connection errors to retry would
then swallow the cancel and run on, and the service would hang at shutdown (seen:
``ivr serve`` ignoring SIGTERM while Redis was down). Every retrying loop calls
``raise_if_cancelling`` in its error path, and ``stop_task`` gives up waiting
after a bound, with a log line, so a stop can never hang for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger("ivr")

STOP_TIMEOUT = 10.0


def raise_if_cancelling() -> None:
    """Raise CancelledError when this task was asked to stop (whatever a library did)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def stop_task(task: asyncio.Task[None], timeout: float = STOP_TIMEOUT) -> None:
    """Cancel a background task and wait for it, at most ``timeout`` seconds."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        log.error("background task %s did not stop within %.0f s; leaving it",
                  task.get_name(), timeout)  # fmt: skip
        return
    with contextlib.suppress(asyncio.CancelledError):
        exc = task.exception()
        if exc is not None:
            log.error("background task %s ended with %s: %s",
                      task.get_name(), type(exc).__name__, exc)  # fmt: skip
