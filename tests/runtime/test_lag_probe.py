"""The event-loop lag probe: a blocked loop shows as overshoot; samples written as JSON."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from ivr.config import load_settings
from ivr.runtime.lag_probe import LagProbe


async def test_a_blocked_loop_shows_as_overshoot(tmp_path: Path) -> None:
    """Blocking the loop for 50 ms makes one wake-up at least 40 ms late."""
    probe = LagProbe(interval=0.001)
    task = asyncio.create_task(probe.run())
    # The fault under test: a callback that holds the loop thread for 50 ms.
    asyncio.get_running_loop().call_later(0.01, time.sleep, 0.05)
    await asyncio.sleep(0.1)
    task.cancel()
    assert max(ms for _, ms in probe.samples) >= 40
    out = tmp_path / "lag.json"
    probe.write(out)
    written = json.loads(out.read_text())
    assert [ms for _, ms in written] == [round(ms, 3) for _, ms in probe.samples]
    assert written[0][0] <= time.monotonic()  # the shared monotonic clock


def test_probe_file_is_a_setting() -> None:
    """``IVR_LAG_PROBE_FILE`` enables the probe; unset, it is off."""
    assert load_settings({}).lag_probe_file is None
    assert load_settings({"IVR_LAG_PROBE_FILE": "/tmp/lag.json"}).lag_probe_file == "/tmp/lag.json"  # noqa: S108
