"""``ivr serve --demo`` as a process of its own, on free loopback ports with private data.

The whole-process tests (``tests/app``) and the benchmarks (``bench``) start the
service this one way: a temporary data directory, no stray ``IVR_*`` setting of
the caller's environment, the clock fixed, and a wait until both the FastAGI and
the web port accept connections. Given a Redis URL the service uses it; without
one it starts and owns a Redis in its data directory, as an operator's first
``ivr serve`` does.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.support.harness import free_port
from tests.support.stopping import stop_process

ROOT = Path(__file__).resolve().parents[2]
CLOCK_START = "2026-11-25T10:00:00-06:00"  # a Wednesday morning: every tier is open


def wait_listening(port: int, process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    """Until ``port`` accepts connections; raises if ``process`` died or 60 s passed."""
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start: {log.read_text(errors='replace')}")
        time.sleep(0.05)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the process and reap it; killed if it is not gone after 30 s (quietly:
    the benchmark's use; a test's ``ivr_serve`` fails by name instead)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@dataclass(frozen=True, slots=True)
class Served:
    """A running ``ivr serve``."""

    pid: int
    agi_port: int
    web_port: int
    log: Path


def ivr_environ(
    redis_url: str | None, data: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of an ``ivr`` process: this Redis, no stray ``IVR_*`` setting.

    ``redis_url`` None leaves ``IVR_REDIS_URL`` unset: the service's own Redis in ``data``.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if redis_url is not None:
        env["IVR_REDIS_URL"] = redis_url
    env |= {
        "IVR_DATA_DIR": data,
        "IVR_CLOCK_START": CLOCK_START,
        "IVR_LOG_LEVEL": "WARNING",
        "IVR_RECORDING_DIR": data,
    }
    env.update(extra or {})
    return env


@contextlib.contextmanager
def ivr_serve(
    redis_url: str | None = None,
    extra: Mapping[str, str] | None = None,
    *,
    agi_port: int | None = None,
) -> Iterator[Served]:
    """``ivr serve --demo`` on free loopback ports against ``redis_url`` (None: its own Redis).

    ``extra`` overrides or adds settings (``IVR_CLOCK_START``, ``IVR_LOG_LEVEL``, ...);
    ``agi_port`` is the FastAGI port to listen on (default: a free one).
    The process is stopped and its data directory removed on leaving.
    """
    with tempfile.TemporaryDirectory() as data:
        agi_port, web_port = agi_port or free_port(), free_port()
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
            stop_process(process, "ivr serve", 30)
