"""How long the command line takes to start: ``ivr --help`` against a bare Python.

Both are measured in the same run, alternately, with the same interpreter (the
project's virtualenv, whose ``ivr`` script starts it): the peer is that
interpreter running ``-c pass``, so the ratio is what the command line adds to
a bare Python start. Median of 20 runs each.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Figure, ratio

RUNS = 20
GOAL = 3.0  # at most 3x a bare Python start


def _seconds(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    return time.perf_counter() - started


def measure() -> list[Figure]:
    """The ``ivr --help`` row: its median wall time over the bare start's."""
    ivr = str(Path(sys.executable).with_name("ivr"))
    bare = [sys.executable, "-c", "pass"]
    _seconds(bare), _seconds([ivr, "--help"])  # warm the file cache for both
    helps: list[float] = []
    pythons: list[float] = []
    for _ in range(RUNS):
        pythons.append(_seconds(bare))
        helps.append(_seconds([ivr, "--help"]))
    value, peer = statistics.median(helps) * 1000, statistics.median(pythons) * 1000
    return [
        Figure(
            "cli: ivr --help wall ms (peer: python -c pass), median of 20",
            value,
            peer,
            ratio(value, peer),
            f"ratio <= {GOAL:g}",
            ratio(value, peer) <= GOAL,
        )
    ]
