"""What every benchmark shares: figures, percentiles, private processes on loopback.

Every figure is measured beside a peer in the same run, so the ratio holds on a
noisy shared machine even when the absolute numbers move.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXED_NOW = "2026-11-25T10:00:00-06:00"  # a Wednesday morning: every tier is open
EMERGENCY = "1 1001# 2468# 123456# 1 #"


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


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    """Until ``port`` accepts connections; raises if ``process`` died or 60 s passed."""
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start: {log.read_text(errors='replace')}")
        time.sleep(0.05)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
            _stop(process)


@dataclass(frozen=True, slots=True)
class Served:
    """A running ``ivr serve``."""

    pid: int
    agi_port: int
    web_port: int
    log: Path


def ivr_environ(
    redis_url: str, data: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of an ``ivr`` process: this Redis, no stray ``IVR_*`` setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env |= {
        "IVR_REDIS_URL": redis_url,
        "IVR_DATA_DIR": data,
        "IVR_FIXED_NOW": FIXED_NOW,
        "IVR_LOG_LEVEL": "WARNING",
        "IVR_RECORDING_DIR": data,
    }
    env.update(extra or {})
    return env


@contextlib.contextmanager
def ivr_serve(redis_url: str, extra: Mapping[str, str] | None = None) -> Iterator[Served]:
    """``ivr serve --demo`` on free loopback ports against ``redis_url``."""
    with tempfile.TemporaryDirectory() as data:
        agi_port, web_port = free_port(), free_port()
        env = ivr_environ(redis_url, data, dict(extra or {}))
        env |= {"IVR_AGI_PORT": str(agi_port), "IVR_WEB_PORT": str(web_port)}
        log = Path(data) / "serve.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "ivr.cli", "serve", "--demo"],
                env=env,
                stdout=out,
                stderr=out,
                cwd=ROOT,
            )
        try:
            wait_listening(agi_port, process, "ivr serve", log)
            wait_listening(web_port, process, "ivr serve (web)", log)
            yield Served(process.pid, agi_port, web_port, log)
        finally:
            _stop(process)


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
