"""Event-loop lag inside ``ivr serve`` during 200 live calls, with and without 50 hostile peers.

The server runs its lag probe (``IVR_LAG_PROBE_FILE``); only the samples taken
while the calls ran count. Hostile peers: half of them send half an AGI
environment and go quiet, half trickle theirs a byte at a time; each one that
the server cuts off (header timeout) connects again until the calls are done.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from pathlib import Path

from bench.common import Figure, ivr_serve, percentile, ratio
from bench.paced import run_calls
from bench.turnaround import CHEAP_ENV, cheap_pin_hash

CALLS, RAMP, PAUSE = 200, 4.0, 1.0
HOSTILE = 50
BYTE_GAP = 0.02
HALF_ENV = b"agi_network: yes\nagi_network_script: support-line\nagi_request: agi://127.0.0.1/sup"
FULL_ENV = (
    b"agi_network: yes\nagi_network_script: support-line\n"
    + b"".join(b"agi_x%d: %s\n" % (i, b"y" * 30) for i in range(20))
    + b"\n"
)


async def hostile_peer(port: int, slow: bool, stop: asyncio.Event) -> None:
    """Keep one bad connection open (reconnecting when cut) until ``stop``."""
    while not stop.is_set():
        with contextlib.suppress(OSError):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                if slow:
                    for byte in FULL_ENV:
                        if stop.is_set() or writer.is_closing():
                            break
                        writer.write(bytes([byte]))
                        await writer.drain()
                        await asyncio.sleep(BYTE_GAP)
                else:
                    writer.write(HALF_ENV)
                    await writer.drain()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(30):
                            stopper = asyncio.create_task(stop.wait())
                            reading = asyncio.create_task(reader.read())
                            await asyncio.wait(
                                {stopper, reading}, return_when=asyncio.FIRST_COMPLETED
                            )
                            stopper.cancel()
                            reading.cancel()
            finally:
                writer.close()
        await asyncio.sleep(0.05)


async def lag_during_calls(redis_url: str, hostile: int) -> list[float]:
    """Lag samples (ms) inside the server while the calls ran."""
    with tempfile.TemporaryDirectory() as data:
        probe_file = Path(data) / "lag.json"
        with ivr_serve(redis_url, {"IVR_LAG_PROBE_FILE": str(probe_file)} | CHEAP_ENV) as served:
            cheap_pin_hash(redis_url)
            stop = asyncio.Event()
            peers = [
                asyncio.create_task(hostile_peer(served.agi_port, i % 2 == 0, stop))
                for i in range(hostile)
            ]
            started = time.monotonic()
            out = await run_calls(served.agi_port, CALLS, pause=PAUSE, ramp=RAMP)
            ended = time.monotonic()
            stop.set()
            await asyncio.gather(*peers)
            if out.failed:
                raise RuntimeError(f"lag run: {len(out.failed)} calls failed: {out.failed[:3]}")
        samples = json.loads(probe_file.read_text())
    return [ms for at, ms in samples if started <= at <= ended]


async def measure(redis_url: str) -> list[Figure]:
    """p99 lag with hostile peers beside the same calls without them."""
    calm = await lag_during_calls(redis_url, 0)
    attacked = await lag_during_calls(redis_url, HOSTILE)
    value, peer = percentile(attacked, 0.99), percentile(calm, 0.99)
    return [
        Figure(
            f"event-loop lag p99, {CALLS} calls + {HOSTILE} hostile peers (ms; peer: calls alone)",
            round(value, 2),
            round(peer, 2),
            round(ratio(value, peer), 2),
            "p99 < 10 ms in both",
            value < 10 and peer < 10,
        )
    ]
