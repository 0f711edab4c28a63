"""Waiting for a PIN check without leaving the caller in silence.

The check runs in the hasher's threads (``ivr.store.pins``) while the call
waits. With the operator's limit L (``IVR_PIN_QUEUE_MAX_SECONDS``), counted
from the moment the PIN was entered, and P = 3/4 L (``quiet_times``: a quarter
kept in hand for an event loop that a burst makes late):

- a check done within P: the caller hears nothing extra;
- still running at P: "one moment", once, while the check goes on;
- expected past 2 P (``Admission.SHED``): the check is not queued at all, and
  still running at 2 P: it is dropped; either way ``PinCheckShed``.

"One moment" plays at P even when the estimate foresaw it (``Admission.ONE_MOMENT``):
earlier, the silence after it, up to 2 P, could be longer than L. The check runs
in the hasher's threads while the prompt plays; its result waits at most for
the prompt's end. ``PinCheckShed`` sends the caller to the general queue, where a
person answers: a busy box costs them the self-service, never a long silence.
"""

from __future__ import annotations

import asyncio

from ivr.domain.admission import Admission, quiet_times
from ivr.flows.channel import Channel
from ivr.flows.prompts import Prompt
from ivr.store.pins import PinHasher


class PinCheckShed(Exception):
    """The check would keep (or kept) the caller waiting past the giving up (2 P)."""

    def __init__(self, before_queuing: bool) -> None:
        super().__init__("estimated wait too long" if before_queuing else "check too slow")
        self.before_queuing = before_queuing


class PinCheck:
    """One PIN check of one call, and what its caller heard while it ran."""

    def __init__(self, channel: Channel, pins: PinHasher) -> None:
        self._channel = channel
        self._pins = pins
        self.matched = False
        self.spoke = False  # "one moment" was played

    async def run(self, stored: str | None, pin: str, entered: float) -> PinCheck:
        """Check the PIN (see the module docstring); ``self`` with the outcome.

        ``entered`` is the event loop's time when the PIN arrived.
        """
        loop = asyncio.get_running_loop()
        times = quiet_times(self._pins.queue_max_seconds)
        verdict = self._pins.admission()
        if verdict is Admission.SHED:
            raise PinCheckShed(before_queuing=True)
        check = self._pins.start_verify(stored, pin)
        try:
            await asyncio.wait({check}, timeout=entered + times.one_moment_after - loop.time())
            if not check.done():
                self.spoke = True
                await self._channel.play(Prompt.ONE_MOMENT)
                remaining = entered + times.give_up_after - loop.time()
                if remaining > 0 and not check.done():
                    await asyncio.wait({check}, timeout=remaining)
            if not check.done():
                raise PinCheckShed(before_queuing=False)
            self.matched = check.result()
            return self
        finally:
            # Shed, hung up or failed: a check not yet started leaves the queue.
            check.cancel()
