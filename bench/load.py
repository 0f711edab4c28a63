"""Load generator: many whole support-line calls at once against ``ivr serve``.

Starts its own ``ivr serve --demo`` (private data directory, free loopback port)
unless ``--port`` names a running one, then keeps ``--concurrency`` simulated
calls going (each a whole emergency call, with a pause before every key) until
``--calls`` have run or ``--duration`` seconds have passed. Prints failed calls,
the server's command turnaround (reply sent to next command received) p50/p99,
and the server's memory at start and end. Loopback only; bounded in count and time.

    .venv/bin/python -m bench.load --calls 200 --concurrency 200
    .venv/bin/python -m bench.load --calls 100000 --concurrency 1000 --duration 300
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ivr.agi.simulator import FakeAsterisk, SimulatedCall
from ivr.flows.prompts import sound_exists

# Option 2 opens a ticket per call; repeat emergencies for one Host ID would join one.
REQUEST = "2 1001# 2468# 123456# 1 #"
INPUT_VERBS = ("GET DATA", "RECORD FILE")


@dataclass
class LoadResult:
    """What a load run measured."""

    calls: int = 0
    failed: list[str] = field(default_factory=list)
    turnaround_ms: list[float] = field(default_factory=list)
    tickets: set[str] = field(default_factory=set)
    rss_start_kb: int = 0
    rss_end_kb: int = 0
    seconds: float = 0.0

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


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def served(fixed_now: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """``ivr serve --demo`` on a free port with a private data directory."""
    with tempfile.TemporaryDirectory() as data:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
        env |= {
            "IVR_DATA_DIR": data,
            "IVR_AGI_PORT": str(port),
            "IVR_WEB_PORT": str(free_port()),
            "IVR_FIXED_NOW": fixed_now,
            "IVR_LOG_LEVEL": "WARNING",
        }
        log = Path(data) / "serve.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "ivr.cli", "serve", "--demo"],
                env=env,
                stdout=out,
                stderr=out,
            )
        try:
            deadline = time.monotonic() + 60
            while not _listening(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"ivr serve did not start: {log.read_text()}")
                time.sleep(0.1)
            yield port, process
        finally:
            process.terminate()
            process.wait(30)


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


async def one_call(asterisk: FakeAsterisk, index: int, pause: float, result: LoadResult) -> None:
    """One whole emergency call with a pause before each key; measured."""
    last_sent = 0.0

    async def think(command: str) -> None:
        nonlocal last_sent
        now = time.perf_counter()
        if last_sent:
            result.turnaround_ms.append((now - last_sent) * 1000)
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
    """Keep ``concurrency`` calls in flight until ``calls`` ran or ``duration`` passed."""
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


def main(argv: list[str] | None = None) -> int:
    """Run a load and print its figures; exit 1 if any call failed."""
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--duration", type=float, default=300.0, help="stop starting calls after")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds before each key")
    parser.add_argument("--port", type=int, default=None, help="a running ivr serve on loopback")
    parser.add_argument("--at", default="2026-11-25T10:00:00-06:00", help="the served 'now'")
    args = parser.parse_args(argv)
    if args.port is not None:
        result = asyncio.run(
            run_load(args.port, None, args.calls, args.concurrency, args.duration, args.pause)
        )
    else:
        with served(args.at) as (port, process):
            result = asyncio.run(
                run_load(port, process.pid, args.calls, args.concurrency, args.duration, args.pause)
            )
    print(result.report())  # noqa: T201
    return 1 if result.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
