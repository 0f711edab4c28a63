"""Two ``ivr serve`` workers on one Redis: numbers, lockouts and confirmed tickets hold."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ivr.agi.simulator import FakeAsterisk, SimulatedCall
from ivr.flows.prompts import sound_exists
from ivr.store.stores import Stores
from tests.support.calls import EMERGENCY
from tests.support.harness import free_port
from tests.support.stopping import stop_process

pytestmark = pytest.mark.slow

# Option 2: a new ticket each time (repeat emergencies for one Host ID join the first).
REQUEST = "2 1001# 2468# 123456# 1 #"


class Worker:
    """One ``ivr serve`` process."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log
        self.asterisk = FakeAsterisk("127.0.0.1", port)


async def start_worker(redis_url: str, tmp_path: Path, name: str) -> Worker:
    """Start a worker on a free port and wait until it serves."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    env |= {
        "IVR_REDIS_URL": redis_url,
        "IVR_AGI_PORT": str(port),
        "IVR_WEB_PORT": str(free_port()),
        "IVR_CLOCK_START": "2026-11-25T10:00:00-06:00",
        "IVR_DATA_DIR": str(tmp_path / name),
    }
    log = tmp_path / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: ASYNC220  (returns at once; the worker outlives us)
            [sys.executable, "-m", "ivr.cli", "serve"], env=env, stdout=out, stderr=out
        )
    deadline = time.monotonic() + 30
    while b"ivr serve ready" not in log.read_bytes():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "worker did not start"
        await asyncio.sleep(0.05)
    return Worker(process, port, log)


@pytest.fixture
async def workers(
    redis_url: str, stores: Stores, tmp_path: Path
) -> AsyncIterator[tuple[Worker, Worker]]:
    """Two workers sharing the test Redis (demo data loaded by ``stores``)."""
    pair = (
        await start_worker(redis_url, tmp_path, "a"),
        await start_worker(redis_url, tmp_path, "b"),
    )
    try:
        yield pair
    finally:
        for worker in pair:
            stop_process(worker.process, f"ivr serve worker on port {worker.port}", 20)


def call(dtmf: str, caller: str = "9725550100") -> SimulatedCall:
    """A strict simulated call."""
    return SimulatedCall(
        caller_id=caller, answers=SimulatedCall.parse_dtmf(dtmf), sound_exists=sound_exists("ivr")
    )


async def test_ticket_numbers_never_collide(workers: tuple[Worker, Worker]) -> None:
    """Concurrent calls spread over both workers all get distinct ticket numbers."""
    results = await asyncio.gather(
        *(workers[i % 2].asterisk.place(call(REQUEST, f"97255501{i:02d}")) for i in range(20))
    )
    assert all(r.violations == [] for r in results)
    numbers = [r.variables["IVR_TICKET"] for r in results]
    assert len(set(numbers)) == 20


async def test_lockout_reached_on_one_worker_holds_on_the_other(
    workers: tuple[Worker, Worker],
) -> None:
    """PIN failures counted through worker A lock the account on worker B."""
    a, b = workers
    for _ in range(2):
        await a.asterisk.place(call("1 1001# 1111# 1001# 2222# 1001# 3333#", "9725550123"))
    result = await b.asterisk.place(call(EMERGENCY, "9725550123"))
    assert result.violations == []
    assert "IVR_TICKET" not in result.variables
    assert result.variables["IVR_QUEUE"] == "support-general"


async def test_killed_worker_loses_no_confirmed_ticket(
    workers: tuple[Worker, Worker], stores: Stores
) -> None:
    """Kill a worker right after the caller heard the ticket number: the ticket is in Redis."""
    a, b = workers
    heard: list[str] = []
    announced = False

    async def kill_after_number(command: str) -> None:
        nonlocal announced
        if "emergency-ticket-created" in command:
            announced = True
        elif announced and command.startswith("SAY DIGITS"):
            heard.append(command.split('"')[1])
        elif heard and a.process.poll() is None:
            a.process.send_signal(signal.SIGKILL)
            await asyncio.to_thread(a.process.wait, 10)

    simulated = call(EMERGENCY)
    simulated.before_answer = kill_after_number
    result = await a.asterisk.place(simulated)
    assert result.closed_by_service  # the worker died under the call
    assert heard, "the caller never heard a ticket number"
    ticket = await stores.tickets.get(heard[0])
    assert ticket is not None
    assert ticket.emergency
    # The other worker goes on serving, with the next number.
    after = await b.asterisk.place(call(REQUEST, "9725550177"))
    assert int(after.variables["IVR_TICKET"]) == int(heard[0]) + 1
