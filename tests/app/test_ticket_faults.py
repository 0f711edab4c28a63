"""Faults at the wrong moment: every ticket a caller heard reaches the helpdesk exactly once.

Real processes: an own redis-server stopped and restarted during a call, a real
webhook server, and ``ivr serve`` killed right after it confirmed a ticket.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from ivr.agi.simulator import FakeAsterisk, SimulatedCall
from ivr.app import helpdesk_deliverer
from ivr.config import Settings
from ivr.demo import load_demo
from ivr.flows.prompts import sound_exists
from ivr.services import build_agi_server, build_stores, redis_client
from ivr.store import keys
from ivr.store.journal import TicketJournal
from ivr.store.pins import PinHasher
from tests.support.calls import EMERGENCY
from tests.support.harness import OPEN_HOURS, Clock, free_port, wait_for
from tests.support.helpdesk_receiver import SECRET, Receiver, eventually
from tests.support.stopping import stop_process

pytestmark = pytest.mark.slow


class OwnRedis:
    """A redis-server process of this test's own, append-only, that can be stopped."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its address."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or restart, on the same port and data) and wait until it answers."""
        binary = shutil.which("redis-server")
        assert binary
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        """Kill it (no shutdown save: what survives is what the append-only file holds)."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A private redis-server."""
    server = OwnRedis(tmp_path / "redis")
    server.workdir.mkdir()
    server.start()
    try:
        yield server
    finally:
        if server.process is not None and server.process.poll() is None:
            server.stop()


def call(dtmf: str, caller: str = "9725550100") -> SimulatedCall:
    """A strict simulated call."""
    return SimulatedCall(
        caller_id=caller, answers=SimulatedCall.parse_dtmf(dtmf), sound_exists=sound_exists("ivr")
    )


def heard_number(commands: list[str]) -> str:
    """The ticket number the caller heard (the SAY DIGITS after the ticket prompt)."""
    announced = False
    for command in commands:
        if "ticket-created" in command:
            announced = True
        elif announced and command.startswith("SAY DIGITS"):
            return command.split('"')[1]
    return ""


async def test_redis_stopped_during_ticket_creation_journal_then_replay(
    own_redis: OwnRedis, receiver: Receiver, tmp_path: Path, fast_pins: PinHasher
) -> None:
    """Redis dies while the caller records: the ticket is journaled, heard, routed, replayed."""
    settings = Settings(
        redis_url=own_redis.url, data_dir=tmp_path / "data", helpdesk_url=receiver.url,
        helpdesk_secret=SECRET, helpdesk_retry_base_seconds=0.05, helpdesk_retry_max_seconds=0.2,
    )  # fmt: skip
    redis = redis_client(own_redis.url)
    stores = build_stores(redis, settings, pins=fast_pins)
    await load_demo(stores.directory, stores.pins)
    server = build_agi_server(stores, settings, Clock(OPEN_HOURS))
    host, port = await server.start("127.0.0.1", 0)
    commands: list[str] = []

    async def stop_redis_while_recording(command: str) -> None:
        commands.append(command)
        if command.startswith("RECORD FILE"):
            await asyncio.to_thread(own_redis.stop)

    simulated = call(EMERGENCY)
    simulated.before_answer = stop_redis_while_recording
    try:
        result = await FakeAsterisk(host, port).place(simulated)
    finally:
        await server.close()
    number = heard_number(commands)
    assert number.startswith("0"), "a journal number, never one Redis allocates"
    assert result.variables["IVR_TICKET"] == number
    assert result.variables["IVR_ROUTE"] == "queue"  # still routed
    journal = TicketJournal(settings.data_dir, settings.worker_id)
    assert await journal.pending() == [number]

    await asyncio.to_thread(own_redis.start)
    assert await journal.replay(stores.tickets) == 1
    assert await journal.replay(stores.tickets) == 0
    # A crash before the "replayed" line was written: the same ticket replays again, as a no-op.
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    lines = journal.path.read_text().splitlines()
    (crashed / journal.path.name).write_text("\n".join(x for x in lines if "replayed" not in x))
    assert await TicketJournal(crashed, settings.worker_id).replay(stores.tickets) == 1
    assert await redis.xlen(keys.HELPDESK_OUTBOX) == 1  # one event, not two
    ticket = await stores.tickets.get(number)
    assert ticket is not None
    assert ticket.emergency
    assert ticket.host_id == "123456"
    deliverer = asyncio.create_task(helpdesk_deliverer(stores, settings).run())
    try:
        await wait_for(lambda: bool(receiver.accepted))
        await eventually(lambda: outbox_empty(redis))
    finally:
        deliverer.cancel()
        await asyncio.gather(deliverer, return_exceptions=True)
        await redis.aclose()
    assert receiver.keys() == {f"ivr-ticket-{number}-1": 1}
    assert receiver.accepted[0].payload["ticket"]["number"] == number


async def outbox_empty(redis: Redis) -> bool:
    """Every queued event was delivered."""
    return int(await redis.xlen(keys.HELPDESK_OUTBOX)) == 0


def start_serve(
    redis_url: str, tmp_path: Path, name: str, hook: str
) -> tuple[subprocess.Popen[bytes], int, Path]:
    """``ivr serve`` as a user runs it, with the helpdesk webhook configured."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    env |= {
        "IVR_REDIS_URL": redis_url, "IVR_AGI_PORT": str(port), "IVR_WEB_PORT": str(free_port()),
        "IVR_CLOCK_START": "2026-11-25T10:00:00-06:00", "IVR_DATA_DIR": str(tmp_path / name),
        "IVR_HELPDESK_URL": hook, "IVR_HELPDESK_SECRET": SECRET,
        "IVR_HELPDESK_CLAIM_IDLE_SECONDS": "0.5", "IVR_HELPDESK_RETRY_BASE_SECONDS": "0.05",
    }  # fmt: skip
    log = tmp_path / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ivr.cli", "serve"], env=env, stdout=out, stderr=out
        )
    return process, port, log


def says_ready(log: Path) -> bool:
    """The service logged that it serves."""
    return b"ivr serve ready" in log.read_bytes()


async def ready(process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the service says it serves."""
    deadline = time.monotonic() + 30
    while not says_ready(log):
        assert process.poll() is None, "ivr serve exited: see its log"
        assert time.monotonic() < deadline, "ivr serve did not start"
        await asyncio.sleep(0.05)


async def test_service_killed_after_confirming_delivers_after_restart(
    redis_url: str, redis: Redis, fast_pins: PinHasher, receiver: Receiver, tmp_path: Path
) -> None:
    """SIGKILL right after the caller heard the number; the webhook is slow, so the event
    was in flight: the next ``ivr serve`` claims it and the helpdesk has it exactly once."""
    demo = build_stores(redis, Settings(), pins=fast_pins)
    await load_demo(demo.directory, demo.pins)
    receiver.delay, receiver.slow_first = 2.0, 1  # the first delivery is still in flight
    first, port, log = start_serve(redis_url, tmp_path, "a", receiver.url)
    heard: list[str] = []
    try:
        await ready(first, log)

        async def kill_after_number(command: str) -> None:
            heard.append(command)
            if heard_number(heard) and first.poll() is None and receiver.requests:
                first.send_signal(signal.SIGKILL)
                await asyncio.to_thread(first.wait, 10)

        simulated = call(EMERGENCY)
        simulated.before_answer = kill_after_number
        result = await FakeAsterisk("127.0.0.1", port).place(simulated)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
    number = heard_number(heard)
    assert number, "the caller never heard a ticket number"
    assert result.closed_by_service or "IVR_TICKET" in result.variables
    assert await TicketStoreProbe(redis).exists(number)
    second, _, log2 = start_serve(redis_url, tmp_path, "b", receiver.url)
    try:
        await ready(second, log2)
        await eventually(lambda: outbox_empty(redis), timeout=20)
    finally:
        stop_process(second, "ivr serve (the restarted one)", 20)
    assert receiver.distinct().keys() == {f"ivr-ticket-{number}-1"}
    assert all(d.signed for d in receiver.accepted)


class TicketStoreProbe:
    """Reads the ticket hash directly: is the confirmed ticket in Redis?"""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def exists(self, number: str) -> bool:
        """True when the ticket hash is there."""
        return bool(await self._redis.exists(keys.ticket(number)))
