"""Background tasks that stop when asked, even through libraries that hide a cancel.

redis-py (and aiohttp) can turn a cancellation that lands inside a network wait
into a connection error. A loop that catches connection errors to retry would
then swallow the cancel and run on, and the service would hang at shutdown (seen:
``ivr serve`` ignoring SIGTERM while Redis was down). Every retrying loop calls
``raise_if_cancelling`` in its error path, and ``stop_task`` gives up waiting
after a bound, with a log line, so a stop can never hang for good.
``retry_forever`` is the one loop every background job runs its rounds in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NoReturn

from redis.exceptions import RedisError

from ivr.runtime.log_throttle import LogThrottle, suffix

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


@dataclass(frozen=True, slots=True)
class Retry:
    """How a background loop paces itself: ``every`` seconds between good rounds; after
    a failure ``first`` seconds, doubling on each failure in a row up to ``most``."""

    every: float
    first: float = 1.0
    most: float = 30.0

    def after(self, failures: int) -> float:
        """The pause after a round, given the failures in a row so far (0: it went well)."""
        if failures == 0:
            return self.every
        # The exponent is capped: 2.0 ** 1024 overflows, and a loop that has failed
        # a thousand times in a row (8 hours of a Redis or Asterisk down) must go on.
        return float(min(self.most, self.first * 2.0 ** min(failures - 1, 1000)))


async def retry_forever(
    round_: Callable[[], Awaitable[object]],
    *,
    name: str,
    retry: Retry,
    logger: logging.Logger,
    errors: tuple[type[Exception], ...] = (RedisError, OSError),
) -> NoReturn:
    """Run ``round_`` until cancelled: the one retry loop of every background job.

    A round that raises one of ``errors`` (Redis or the network went away) is
    logged as it starts failing, then at most once a minute with the count, and
    once more when it works again; the pause backs off meanwhile. A cancellation
    that a library turned into such an error still stops the loop.
    """
    failures = 0
    throttle = LogThrottle(interval=60.0)
    while True:
        try:
            await round_()
        except errors as exc:
            raise_if_cancelling()
            failures += 1
            held = throttle.admit(name, time.monotonic())
            if held is not None:
                reason = str(exc) or type(exc).__name__
                pause = retry.after(failures)
                logger.error("%s failed (%d in a row), retrying in %.1f s: %s%s",
                             name, failures, pause, reason, suffix(held))  # fmt: skip
        else:
            raise_if_cancelling()  # a library may have swallowed a cancel whole
            if failures:
                logger.info("%s works again after %d failed rounds", name, failures)
            failures = 0
        await asyncio.sleep(retry.after(failures))
