"""A small soak: 200 concurrent whole calls against ``ivr serve`` (large runs: bench.load)."""

from __future__ import annotations

import pytest

from ivr.tester.load import PIN_LIMIT_OUT_OF_REACH, run_load
from tests.support.serve import ivr_serve

pytestmark = pytest.mark.slow


async def test_200_concurrent_calls_all_get_tickets() -> None:
    """200 calls at once: none fails, every ticket number is distinct, memory stays bounded."""
    # The service's own Redis in its private data directory, the clock at a Wednesday 10:00.
    # The PIN checks' admission control kept out of reach: every call must get a ticket.
    environ = {"IVR_CLOCK_START": "2026-11-25T10:00:00-06:00"} | PIN_LIMIT_OUT_OF_REACH
    with ivr_serve(None, environ) as served:
        result = await run_load(
            served.agi_port, served.pid, calls=200, concurrency=200, duration=120, pause=0.05
        )
    assert result.failed == []
    assert result.calls == 200
    assert len(result.tickets) == 200
    assert result.rss_end_kb - result.rss_start_kb < 64 * 1024, result.report()
