"""Every benchmark in one run: ``python -m bench.run`` (``make bench``).

Prints one table (figure, value, peer, ratio, goal, met) and writes the same
rows to ``bench/results.json``. Each benchmark starts its own processes and
Redis servers on loopback and is bounded in time; the whole run takes a few
minutes on two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from pathlib import Path

from bench import (
    ami_ingest,
    ami_parse,
    cli_start,
    cpu,
    durable,
    helpdesk_sync,
    lag,
    overload,
    real_calls,
    redis_trips,
    sse,
    turnaround,
)
from bench.common import RESULTS, SOAK, Figure, merge_rows, redis_server, table

# 1,000 readers and 1,000 calls need more descriptors than a default soft limit.
WANTED_FILES = 8192


def raise_file_limit() -> None:
    """Raise this process's soft limit of open files to what the large runs need."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = WANTED_FILES if hard == resource.RLIM_INFINITY else min(WANTED_FILES, hard)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def run_all(only: set[str] | None = None) -> list[Figure]:
    """Run the benchmarks (each with a fresh Redis) and return their rows in order."""
    figures: list[Figure] = []

    def step(name: str) -> bool:
        wanted = only is None or name in only
        if wanted:
            print(f"bench: {name} ...", file=sys.stderr, flush=True)  # noqa: T201
        return wanted

    if step("cpu"):
        with redis_server() as url:
            figures += asyncio.run(cpu.measure(url))
    if step("turnaround"):
        with redis_server() as url:
            figures += asyncio.run(turnaround.measure(url))
    if step("lag"):
        with redis_server() as url:
            figures += asyncio.run(lag.measure(url))
    if step("redis"):
        with redis_server() as url:
            figures += asyncio.run(redis_trips.measure(url))
    if step("durable"):
        figures += asyncio.run(durable.measure())
    if step("ami"):
        figures += ami_parse.measure()
        with redis_server() as url:
            figures += asyncio.run(ami_ingest.measure(url))
    if step("sse"):
        with redis_server() as url:
            figures += sse.measure(url)
    if step("helpdesk"):
        figures += helpdesk_sync.measure()
    if step("overload"):
        with redis_server() as url:
            figures += asyncio.run(overload.measure(url))
    if step("cli"):
        figures += cli_start.measure()
    if step("asterisk"):  # real time: about 5 minutes of calls
        figures += real_calls.measure()
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write the JSON; exit 0 even when a goal is missed (the table says)."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--only",
        action="append",
        choices=[
            "cpu",
            "turnaround",
            "lag",
            "redis",
            "durable",
            "ami",
            "sse",
            "helpdesk",
            "overload",
            "asterisk",
            "cli",
        ],
        help="run only these (repeatable)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    raise_file_limit()
    started = time.monotonic()
    figures = run_all(set(args.only) if args.only else None)
    print(table(figures))  # noqa: T201
    print(f"({time.monotonic() - started:.0f} s)")  # noqa: T201
    # The soak's rows (make bench-soak) stay; with --only, every row not measured now does.
    merge_rows(args.out, figures, lambda figure: bool(args.only) or figure.startswith(SOAK))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
