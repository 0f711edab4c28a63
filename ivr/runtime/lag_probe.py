"""Event-loop lag probe: how late the loop wakes a task that asked to sleep.

Enabled by ``IVR_LAG_PROBE_FILE`` (diagnostics and benchmarks): ``ivr serve``
runs the probe for its whole life and writes the samples to that file as JSON
when it stops: ``[monotonic seconds, lag ms]`` pairs, so a reader can keep the
window it loaded (``time.monotonic`` is one clock for every process). Anything
that blocks the loop (a slow parse, a hash on the loop thread, a flood of tiny
reads) shows up as overshoot here.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from pathlib import Path

INTERVAL = 0.01
MAX_SAMPLES = 360_000  # an hour at the interval: bounded however long it runs


class LagProbe:
    """Sleeps ``interval`` seconds in a loop and keeps each wake-up's time and overshoot (ms)."""

    def __init__(self, interval: float = INTERVAL) -> None:
        self.interval = interval
        self.samples: deque[tuple[float, float]] = deque(maxlen=MAX_SAMPLES)

    async def run(self) -> None:
        """Measure until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(self.interval)
            woke = loop.time()
            self.samples.append((woke, max(0.0, (woke - started - self.interval) * 1000)))

    def write(self, path: Path) -> None:
        """The samples so far as a JSON list of ``[seconds, ms]`` pairs."""
        path.write_text(json.dumps([[round(at, 4), round(ms, 3)] for at, ms in self.samples]))
