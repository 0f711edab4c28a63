"""The support line on a real Asterisk: an ``ivr serve`` wired to a private Asterisk.

A ``Rig`` is one Asterisk (``tests/support/asterisk.py``) and, unless the test
wants the service down, one ``ivr serve --demo`` with AMI configured (re-pager,
queue board), its clock started at the test's time, its own Redis database of
the layer's redis-server, fast PIN hashes and a 10 s gap before re-paging.
Classic AGI scripts run from the same Asterisk (``dialplan/support-line-agi.conf``
is loaded too) with the same settings in their environment.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.support.asterisk import (
    SERVICE_AMI_SECRET,
    SERVICE_AMI_USER,
    Asterisk,
    Install,
    copy_log,
    running,
    stop,
)
from tests.support.harness import free_port
from tests.support.serve import ivr_serve

ROUND_GAP_SECONDS = 10


@dataclass(frozen=True, slots=True)
class Rig:
    """One Asterisk and the service it talks to."""

    name: str
    asterisk: Asterisk
    redis_url: str
    agi_port: int
    web_port: int | None  # None: no service runs (its FastAGI port is closed)
    serve_log: Path | None
    serve_pid: int | None = None  # the service's process (its CPU and memory in /proc)


def service_settings(
    name: str, redis_url: str, home: Path, clock_start: str, extra: Mapping[str, str]
) -> dict[str, str]:
    """The ``IVR_*`` settings of a rig's service and of its classic AGI scripts."""
    recordings = home / "recordings"
    recordings.mkdir(parents=True, exist_ok=True)
    data = home / "scripts-data"
    data.mkdir(parents=True, exist_ok=True)
    return {
        "IVR_REDIS_URL": redis_url,
        "IVR_CLOCK_START": clock_start,
        "IVR_RECORDING_DIR": str(recordings),
        "IVR_DATA_DIR": str(data),
        "IVR_PIN_HASH_MEMORY_KIB": "1024",
        "IVR_PIN_HASH_TIME_COST": "1",
        "IVR_ONCALL_ROUND_GAP_SECONDS": str(ROUND_GAP_SECONDS),
        "IVR_LOG_LEVEL": "INFO",
        "IVR_WORKER_ID": str(sum(name.encode()) % 90 + 1),
        **extra,
    }


@contextlib.contextmanager
def rig(
    install: Install,
    home: Path,
    *,
    name: str,
    redis_url: str,
    clock_start: str,
    sounds: Path,
    serve: bool = True,
    extra: Mapping[str, str] | None = None,
) -> Iterator[Rig]:
    """Boot the Asterisk, then the service on the FastAGI port it calls; stop both after."""
    agi_port = free_port()
    settings = service_settings(name, redis_url, home, clock_start, dict(extra or {}))
    with running(
        install, home / "asterisk", agi_port=agi_port, sounds=sounds, environ=settings
    ) as asterisk:
        try:
            if not serve:
                yield Rig(name, asterisk, redis_url, agi_port, None, None)
                return
            ami = {
                "IVR_AMI_HOST": "127.0.0.1",
                "IVR_AMI_PORT": str(asterisk.ami_port),
                "IVR_AMI_USERNAME": SERVICE_AMI_USER,
                "IVR_AMI_SECRET": SERVICE_AMI_SECRET,
            }
            with ivr_serve(redis_url, settings | ami, agi_port=agi_port) as served:
                try:
                    yield Rig(
                        name, asterisk, redis_url, agi_port, served.web_port, served.log, served.pid
                    )
                finally:
                    # Calls end with Asterisk, so the service then stops without its drain.
                    stop(asterisk)
                    with contextlib.suppress(OSError):
                        shutil.copy(served.log, home / f"serve-{name}.log")
        finally:
            copy_log(asterisk, home / f"asterisk-{name}.log")
