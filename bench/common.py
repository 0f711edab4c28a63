"""What every benchmark shares: figures, percentiles, private processes on loopback.

Every figure is measured beside a peer in the same run, so the ratio holds on a
noisy shared machine even when the absolute numbers move. ``ivr serve`` is
started as the whole-process tests start it (``tests/support/serve.py``), and a
process's memory is read as the load tester reads it (``ivr.tester.load``).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ivr.tester.load import rss_kb
from tests.support.calls import EMERGENCY
from tests.support.harness import free_port
from tests.support.serve import Served, ivr_environ, ivr_serve, stop, wait_listening

__all__ = [
    "EMERGENCY",
    "RESULTS",
    "ROOT",
    "SOAK",
    "Figure",
    "Served",
    "cpu_seconds",
    "free_port",
    "ivr_environ",
    "ivr_serve",
    "merge_rows",
    "percentile",
    "ratio",
    "redis_server",
    "rss_kb",
    "table",
    "wait_listening",
]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
SOAK = "soak"  # the first word of every row of the soak (bench/soak.py)


@dataclass(frozen=True, slots=True)
class Figure:
    """One row of the results table."""

    figure: str
    value: float
    peer: float
    ratio: float
    goal: str
    met: bool

    def as_json(self) -> dict[str, Any]:
        """The row as ``bench/results.json`` holds it."""
        return asdict(self)


def ratio(value: float, peer: float) -> float:
    """``value / peer``, 0 when there is no peer."""
    return value / peer if peer else 0.0


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def redis_server(*config: str) -> Iterator[str]:
    """A private ``redis-server`` on a free loopback port; yields its URL.

    ``config`` holds extra ``--name value`` words (``--appendfsync always``).
    """
    with tempfile.TemporaryDirectory() as data:
        port = free_port()
        log = Path(data) / "redis.log"
        words = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", data]
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603
                ["redis-server", *words, "--logfile", str(log), *config],  # noqa: S607
                stdout=out,
                stderr=out,
            )
        try:
            wait_listening(port, process, "redis-server", log)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            stop(process)


def table(figures: Sequence[Figure]) -> str:
    """The figures as an aligned text table."""
    head = ("figure", "value", "peer", "ratio", "goal", "met")
    rows = [
        (f.figure, f"{f.value:.4g}", f"{f.peer:.4g}", f"{f.ratio:.3g}", f.goal,
         "yes" if f.met else "NO")
        for f in figures
    ]  # fmt: skip
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *rows]]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def merge_rows(path: Path, rows: Sequence[Figure], keep: Callable[[str], bool]) -> None:
    """Write ``rows`` to the results file after those of its rows whose figure ``keep`` keeps
    (a row of the same figure as a new one is always replaced)."""
    new = {row.figure for row in rows}
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        old = []
    kept = [r for r in old if r.get("figure") not in new and keep(str(r.get("figure")))]
    path.write_text(json.dumps(kept + [row.as_json() for row in rows], indent=2) + "\n")
