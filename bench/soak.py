"""The 5-minute soak: 1,000 concurrent simulated calls for 300 s against ``ivr serve``.

``python -m bench.soak`` (``make bench-soak``; not part of ``make bench`` or
``make test``). It starts its own ``ivr serve --demo`` (its own Redis in a
private data directory, as ``bench.load`` does) and keeps 1,000 whole
ticket-opening calls in flight (``ivr.tester.load``: a simulated Asterisk over
TCP, a 1 s pause before every key) until 300 s have passed, then lets the calls
in flight finish. It records the calls, the failed ones, the distinct tickets,
the command turnaround p50/p99 (each beside the same figure over the first
minute, so drift shows) and the server's resident memory: at start, once warm
(after the first minute at full concurrency: every connection's buffers and the
pools are there by then) and at the end; the goal is on the growth from warm to
end. Its rows replace the soak rows of ``bench/results.json`` and leave every
other row as it is.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import (
    RESULTS,
    SOAK,
    Figure,
    ivr_serve,
    merge_rows,
    percentile,
    ratio,
    rss_kb,
    table,
)
from bench.run import raise_file_limit
from ivr.tester.load import PIN_LIMIT_OUT_OF_REACH, LoadResult, run_load

CLOCK_START = "2026-11-25T10:00:00-06:00"  # a Wednesday morning: every tier open
CONCURRENCY = 1000
DURATION = 300.0
PAUSE = 1.0  # seconds before each key, as the README's load runs
WARM_AFTER = 60.0  # seconds into the run when the memory counts as warm
RSS_EVERY = 5.0
MAX_GROWTH = 1.10


@dataclass
class Soak:
    """One soak's load figures and the server's memory over time."""

    load: LoadResult
    rss_kb: list[tuple[float, int]] = field(default_factory=list)  # (seconds in, KiB)

    def rss_at(self, seconds: float) -> int:
        """The first memory sample taken at or after ``seconds`` into the run."""
        return next((kb for at, kb in self.rss_kb if at >= seconds), self.load.rss_end_kb)


async def soak(port: int, pid: int, concurrency: int, duration: float, pause: float) -> Soak:
    """Run the load against the server on ``port``, sampling its memory as it goes."""
    samples: list[tuple[float, int]] = []
    started = time.monotonic()

    async def sample() -> None:
        while True:
            samples.append((time.monotonic() - started, rss_kb(pid)))
            await asyncio.sleep(RSS_EVERY)

    sampler = asyncio.create_task(sample())
    try:
        # As many calls as fit: the duration ends the run.
        load = await run_load(port, pid, 10**7, concurrency, duration, pause)
    finally:
        sampler.cancel()
    return Soak(load, samples)


def figures(run: Soak, concurrency: int, duration: float) -> list[Figure]:
    """The soak's rows."""
    load = run.load
    name = f"{SOAK}, {concurrency} concurrent calls for {duration:.0f} s"
    first = [ms for ms, at in zip(load.turnaround_ms, load.turnaround_at, strict=True)
             if at < WARM_AFTER]  # fmt: skip
    p50, p99 = load.percentile(0.50), load.percentile(0.99)
    first_p50, first_p99 = percentile(first, 0.50), percentile(first, 0.99)
    warm, end = run.rss_at(WARM_AFTER), load.rss_end_kb
    failed = len(load.failed)
    return [
        Figure(
            f"{name}: failed calls (peer: calls completed)",
            failed, load.calls, round(ratio(failed, load.calls), 4), "0 failed", failed == 0,
        ),
        Figure(
            f"{name}: distinct tickets (peer: calls completed)",
            len(load.tickets), load.calls, round(ratio(len(load.tickets), load.calls), 4),
            "one ticket per call", len(load.tickets) == load.calls,
        ),
        Figure(
            f"{name}: command turnaround p50 (ms; peer: the first minute's)",
            round(p50, 3), round(first_p50, 3), round(ratio(p50, first_p50), 2),
            "(reported)", True,
        ),
        Figure(
            f"{name}: command turnaround p99 (ms; peer: the first minute's)",
            round(p99, 1), round(first_p99, 1), round(ratio(p99, first_p99), 2),
            "(reported)", True,
        ),
        Figure(
            f"{name}: server RSS warm, after {WARM_AFTER:.0f} s (MiB; peer: at start)",
            round(warm / 1024, 1), round(load.rss_start_kb / 1024, 1),
            round(ratio(warm, load.rss_start_kb), 2), "(reported: buffers of the calls)", True,
        ),
        Figure(
            f"{name}: server RSS at the end (MiB; peer: warm; ratio: growth)",
            round(end / 1024, 1), round(warm / 1024, 1), round(ratio(end, warm), 3),
            f"< {MAX_GROWTH:.2f}x (growth under 10 %)", ratio(end, warm) < MAX_GROWTH,
        ),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the soak, print its rows and merge them into the results; exit 0 (the table says)."""
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--duration", type=float, default=DURATION)
    parser.add_argument("--pause", type=float, default=PAUSE)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    raise_file_limit()
    print(f"bench: soak, {args.concurrency} calls for {args.duration:.0f} s ...",  # noqa: T201
          file=sys.stderr, flush=True)  # fmt: skip
    with ivr_serve(None, {"IVR_CLOCK_START": CLOCK_START} | PIN_LIMIT_OUT_OF_REACH) as served:
        run = asyncio.run(
            soak(served.agi_port, served.pid, args.concurrency, args.duration, args.pause)
        )
    print(run.load.report())  # noqa: T201
    rows = figures(run, args.concurrency, args.duration)
    print(table(rows))  # noqa: T201
    merge_rows(args.out, rows, lambda figure: not figure.startswith(SOAK))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
