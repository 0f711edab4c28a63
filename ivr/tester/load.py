"""The load tester: many whole simulated support-line calls at once against a FastAGI port.

Where the call tester (``engine``) places one call with no side effects, this
keeps ``concurrency`` simulated calls in flight (``FakeAsterisk`` +
``SimulatedCall``, each a whole ticket-opening call with a pause before every
key) against a running service until ``calls`` have run or ``duration`` seconds
have passed. It counts the failed calls and the distinct tickets, measures the
server's command turnaround (reply sent to the next command received) and reads
the server's resident memory from ``/proc`` at start and end. Every call opens a
real ticket: point it only at a service with demo or scratch data.

Used by ``python -m bench.load`` (the large runs) and the suite's soak test.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from ivr.agi.simulator import FakeAsterisk, SimulatedCall
from ivr.flows.prompts import sound_exists

# A load run measures how many calls a box carries, so none of its callers may be
# shed to the general queue by the PIN checks' admission control (ivr/flows/pin_check.py):
# the service under load is given a limit of silence out of the run's reach.
PIN_LIMIT_OUT_OF_REACH = {"IVR_PIN_QUEUE_MAX_SECONDS": "3600"}
# Option 2 opens a ticket per call; repeat emergencies for one Host ID would join one.
REQUEST = "2 1001# 2468# 123456# 1 #"
INPUT_VERBS = ("GET DATA", "RECORD FILE")


@dataclass
class LoadResult:
    """What a load run measured."""

    calls: int = 0
    failed: list[str] = field(default_factory=list)
    turnaround_ms: list[float] = field(default_factory=list)
    turnaround_at: list[float] = field(default_factory=list)  # when each was taken (s of the run)
    tickets: set[str] = field(default_factory=set)
    rss_start_kb: int = 0
    rss_end_kb: int = 0
    seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter)

    def percentile(self, share: float) -> float:
        """A percentile of the command turnaround, in ms."""
        if not self.turnaround_ms:
            return 0.0
        ordered = sorted(self.turnaround_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    def report(self) -> str:
        """The figures, one per line."""
        return "\n".join(
            [
                f"calls            {self.calls} in {self.seconds:.1f} s",
                f"failed calls     {len(self.failed)}",
                f"distinct tickets {len(self.tickets)}",
                f"turnaround p50   {self.percentile(0.50):.2f} ms",
                f"turnaround p99   {self.percentile(0.99):.2f} ms",
                f"server RSS       {self.rss_start_kb / 1024:.1f} MiB -> "
                f"{self.rss_end_kb / 1024:.1f} MiB",
                *(f"  failure: {f}" for f in self.failed[:10]),
            ]
        )


def rss_kb(pid: int) -> int:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def one_call(asterisk: FakeAsterisk, index: int, pause: float, result: LoadResult) -> None:
    """One whole ticket-opening call with a pause before each key; measured."""
    last_sent = 0.0

    async def think(command: str) -> None:
        nonlocal last_sent
        now = time.perf_counter()
        if last_sent:
            result.turnaround_ms.append((now - last_sent) * 1000)
            result.turnaround_at.append(now - result.started)
        if command.startswith(INPUT_VERBS):
            await asyncio.sleep(pause)
        last_sent = time.perf_counter()

    call = SimulatedCall(
        caller_id=f"9{index % 10**9:09d}",
        answers=SimulatedCall.parse_dtmf(REQUEST),
        sound_exists=sound_exists("ivr"),
        before_answer=think,
    )
    try:
        outcome = await asterisk.place(call, timeout=180)
    except OSError as exc:
        result.failed.append(f"call {index}: {exc}")
        return
    ticket = outcome.variables.get("IVR_TICKET")
    if outcome.violations or not ticket:
        result.failed.append(f"call {index}: {outcome.violations or outcome.variables}")
        return
    result.tickets.add(ticket)


async def run_load(
    port: int, pid: int | None, calls: int, concurrency: int, duration: float, pause: float
) -> LoadResult:
    """Keep ``concurrency`` calls in flight until ``calls`` ran or ``duration`` passed.

    The calls go to the FastAGI server on loopback ``port``; ``pid`` is that
    server's process, whose memory is read at start and end (``None``: not read).
    """
    result = LoadResult(rss_start_kb=rss_kb(pid) if pid else 0)
    asterisk = FakeAsterisk("127.0.0.1", port)
    started = time.monotonic()
    next_index = 0
    running: set[asyncio.Task[None]] = set()
    while next_index < calls or running:
        while (
            next_index < calls
            and len(running) < concurrency
            and time.monotonic() - started < duration
        ):
            running.add(asyncio.create_task(one_call(asterisk, next_index, pause, result)))
            next_index += 1
        if not running:
            break
        done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        result.calls += len(done)
    result.seconds = time.monotonic() - started
    result.rss_end_kb = rss_kb(pid) if pid else 0
    return result
