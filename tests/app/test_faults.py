"""Faults with real processes: ``ivr serve`` and its own redis-server, stopped, slowed, flooded.

Each test says what the caller hears (prompts in order) and what is stored; the
service must stay up, other calls must go on, memory must come back near where
it was, and every failure must be one JSON log line naming the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis

from ivr.agi.simulator import CallResult, FakeAsterisk, SimulatedCall
from ivr.flows.prompts import sound_exists
from ivr.tester.load import rss_kb
from tests.support.calls import EMERGENCY, played
from tests.support.harness import free_port
from tests.support.pin_guard import PinGuard
from tests.support.stopping import astop_process, stop_process

# A normal request: each opens its own ticket (emergencies for one Host ID join one).
REQUEST = "2 1001# 2468# 234567# 1 #"

pytestmark = pytest.mark.slow


@dataclass
class RedisProcess:
    """A redis-server of the test's own, on a fixed port, that the test may stop."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start (or restart) on the same port with the same append-only data."""
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed: run ./scripts/setup.sh"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_listening(self.port)

    def stop(self) -> None:
        """Terminate and wait: the port refuses connections afterwards."""
        if self.process is not None and self.process.poll() is None:
            stop_process(self.process, f"redis-server on port {self.port}", 10)


def wait_listening(port: int, timeout: float = 30) -> None:
    """Until something accepts on the loopback port."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"nothing listening on {port}")
        time.sleep(0.05)


@dataclass
class Service:
    """``ivr serve --demo`` on a free port, logging JSON to a file."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def lines(self) -> list[dict[str, object]]:
        """The JSON log lines written so far."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    async def call(self, dtmf: str, caller: str = "9725550600", **kw: object) -> CallResult:
        """One strict simulated call."""
        call = SimulatedCall(
            caller_id=caller,
            answers=SimulatedCall.parse_dtmf(dtmf),
            sound_exists=sound_exists("ivr"),
            **kw,  # type: ignore[arg-type]
        )
        result = await FakeAsterisk("127.0.0.1", self.port).place(call, timeout=60)
        assert result.violations == [], result.violations
        return result


@contextlib.asynccontextmanager
async def serve(redis_port: int, tmp: Path, guard: PinGuard, **env: str) -> AsyncIterator[Service]:
    """Run the service against ``redis_port``; check its whole log for PINs at the end."""
    port = free_port()
    log = tmp / f"serve-{port}.log"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    environ |= {
        "IVR_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "IVR_AGI_PORT": str(port),
        "IVR_WEB_PORT": str(free_port()),
        "IVR_CLOCK_START": "2026-11-25T10:00:00-06:00",
        "IVR_LOG_FORMAT": "json",
        "IVR_DATA_DIR": str(tmp / "data"),
        **env,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: ASYNC220  (returns at once; waits are in threads)
            [sys.executable, "-m", "ivr.cli", "serve", "--demo"],
            env=environ, stdout=out, stderr=out,
        )  # fmt: skip
    try:
        await asyncio.to_thread(wait_listening, port)  # the loop may serve a proxy meanwhile
        yield Service(port, process, log)
        assert process.poll() is None, "ivr serve died"
    finally:
        await astop_process(process, "ivr serve", 40)
        guard.check(log.read_text(encoding="utf-8", errors="replace"), f"ivr serve log {log}")


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    """A private redis-server with append-only data, stopped at the end."""
    server = RedisProcess(free_port(), tmp_path / "redis")
    server.workdir.mkdir()
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_redis_stopped_mid_call_then_back(
    redis_process: RedisProcess, tmp_path: Path, pin_guard: PinGuard
) -> None:
    """Redis dies while the caller types the PIN: they hear the hand-over and go to the
    general queue; once Redis is back, the next call gets a ticket, with no restart."""
    async with serve(redis_process.port, tmp_path, pin_guard) as service:
        assert "IVR_TICKET" in (await service.call(EMERGENCY)).variables

        async def stop_at_pin(command: str) -> None:
            if "enter-pin" in command:
                await asyncio.to_thread(redis_process.stop)

        cut = await service.call(
            EMERGENCY, caller="9725550601", before_answer=stop_at_pin, unique_id="1795570001.1"
        )
        assert played(cut) == ["welcome", "main-menu", "enter-account", "enter-pin",
                               "transfer-general"]  # fmt: skip
        assert cut.variables["IVR_QUEUE"] == "support-general"
        assert "IVR_TICKET" not in cut.variables
        await asyncio.to_thread(redis_process.start)
        again = await service.call(REQUEST, caller="9725550602")
        assert again.variables["IVR_TICKET"] == "10002"
        errors = [e for e in service.lines() if e["level"] == "ERROR"]
        # The call's own: the flow's failure and the unsaved call record, both naming it.
        failures = [e for e in errors if str(e["logger"]).startswith("ivr.flows")]
        assert len(failures) == 2, failures
        assert {e.get("call_id") for e in failures} == {"1795570001.1"}
        # Background parts (the dashboard's live feed, the AMI-less pager...) say once
        # each that Redis went away; none of them names a call.
        assert all("call_id" not in e for e in errors if e not in failures), errors
    client = Redis(port=redis_process.port, decode_responses=True)
    try:
        # The two calls' tickets and the demo helpdesk ticket (77001) that --demo takes in.
        assert await client.zrange("ivr:tickets", 0, -1) == ["77001", "10001", "10002"]
        await pin_guard.check_redis(client, "test_redis_stopped_mid_call_then_back")
    finally:
        await client.aclose()


class SlowProxy:
    """A TCP proxy that holds every chunk from the client for ``delay`` seconds."""

    def __init__(self, target: int, delay: float) -> None:
        self.target = target
        self.delay = delay
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        """Listen on a free port; return it."""
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, delay: float) -> None:
            with contextlib.suppress(ConnectionError):
                while chunk := await src.read(65536):
                    if delay:
                        await asyncio.sleep(delay)
                    dst.write(chunk)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer, self.delay), pipe(up_reader, writer, 0))

    async def close(self) -> None:
        """Stop accepting."""
        if self.server is not None:
            self.server.close()


@pytest.fixture
async def slow_redis(redis_process: RedisProcess) -> AsyncIterator[int]:
    """A port where every Redis command arrives 300 ms late."""
    proxy = SlowProxy(redis_process.port, 0.3)
    port = await proxy.start()
    try:
        yield port
    finally:
        await proxy.close()


async def test_slow_redis_calls_complete_and_run_side_by_side(
    slow_redis: int, tmp_path: Path, pin_guard: PinGuard
) -> None:
    """Every Redis command 300 ms late: calls still get tickets, and eight at once take
    about as long as one (nothing waits on another call's Redis round trip)."""
    async with serve(slow_redis, tmp_path, pin_guard) as service:
        started = time.monotonic()
        one = await service.call(REQUEST)
        single = time.monotonic() - started
        started = time.monotonic()
        many = await asyncio.gather(
            *(service.call(REQUEST, caller=f"97255507{i:02d}") for i in range(8))
        )
        together = time.monotonic() - started
    assert "IVR_TICKET" in one.variables
    assert len({r.variables["IVR_TICKET"] for r in many}) == 8
    assert together < single * 2.5, (single, together)


async def closed_by_peer(reader: asyncio.StreamReader) -> bool:
    """Whether the other side closed the connection: the end of the stream, or the error
    the trickler's next byte met after the close (a reset or a broken pipe, when it was
    sent before this side read the end: seen on a loaded machine)."""
    try:
        return await reader.read() == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


async def test_silent_and_trickling_peers_are_cut_off(
    redis_process: RedisProcess, tmp_path: Path, pin_guard: PinGuard
) -> None:
    """Peers that send nothing or one byte a second are dropped at the header limit; past
    the connection cap new ones are refused with a log line; real calls go on throughout."""
    async with serve(
        redis_process.port, tmp_path, pin_guard,
        IVR_AGI_HEADER_TIMEOUT="1.5", IVR_AGI_MAX_CONNECTIONS="12",
    ) as service:  # fmt: skip
        # The baseline after one call: argon2's working memory (tens of MiB, kept by the
        # allocator once freed, so counted at most once) is not the peers' cost.
        warm = await service.call(EMERGENCY, caller="9725550611")
        assert "IVR_TICKET" in warm.variables
        baseline = rss_kb(service.process.pid)
        idle = [await asyncio.open_connection("127.0.0.1", service.port) for _ in range(8)]
        trickle_reader, trickle = await asyncio.open_connection("127.0.0.1", service.port)

        async def drip() -> None:
            with contextlib.suppress(ConnectionError):
                for byte in b"agi_network: yes\n":
                    trickle.write(bytes([byte]))
                    await trickle.drain()
                    await asyncio.sleep(1)

        dripping = asyncio.create_task(drip())
        result = await service.call(EMERGENCY)  # 9 of 12 slots taken: still served
        assert "IVR_TICKET" in result.variables
        over = [await asyncio.open_connection("127.0.0.1", service.port) for _ in range(6)]
        for reader, _ in [*over, (trickle_reader, trickle), *idle]:
            async with asyncio.timeout(5):
                assert await closed_by_peer(reader)
        dripping.cancel()
        for _, writer in [*over, (trickle_reader, trickle), *idle]:
            writer.close()
        after = await service.call(EMERGENCY, caller="9725550610")
        assert "IVR_TICKET" in after.variables
        lines = service.lines()
        refused = [e for e in lines if "IVR_AGI_MAX_CONNECTIONS" in str(e["msg"])]
        timed_out = [e for e in lines if "no complete environment in time" in str(e["msg"])]
        # One line says so at once; the rest of the burst is counted, not written one by one.
        assert len(refused) == 1
        assert len(timed_out) == 1
        assert rss_kb(service.process.pid) - baseline < 16 * 1024


async def test_megabytes_of_header_and_invalid_utf8(
    redis_process: RedisProcess, tmp_path: Path, pin_guard: PinGuard
) -> None:
    """A 5 MB header block is cut off after a line, memory stays put; invalid UTF-8 in the
    environment and in Asterisk's replies still ends the call with a route."""
    async with serve(redis_process.port, tmp_path, pin_guard) as service:
        await service.call(EMERGENCY)
        baseline = rss_kb(service.process.pid)
        for _ in range(3):
            reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
            with contextlib.suppress(ConnectionError):
                writer.write(b"agi_network: yes\nagi_x: " + b"A" * 5_000_000 + b"\n\n")
                await writer.drain()
            async with asyncio.timeout(5):
                with contextlib.suppress(ConnectionError):
                    assert await reader.read() == b""
            writer.close()
        assert rss_kb(service.process.pid) - baseline < 16 * 1024
        route = await raw_call(service.port)
        assert route == "queue"
        normal = await service.call(EMERGENCY, caller="9725550620")
        assert "IVR_TICKET" in normal.variables
        bad = [e for e in service.lines() if "bad environment" in str(e["msg"])]
        assert len(bad) == 1  # three in a burst: one line, the others counted into the next


async def raw_call(port: int) -> str:
    """A call whose environment and every GET DATA answer carry invalid UTF-8."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"agi_network: yes\nagi_network_script: support-line\nagi_uniqueid: 1795570000.9\n"
        b"agi_callerid: 97\xff\xfe55\nagi_calleridname: Caf\xc3\x28\n\n"
    )
    route = ""
    async with asyncio.timeout(20):
        while line := await reader.readline():
            command = line.decode("utf-8", "replace").strip()
            if command.startswith("GET DATA"):
                answer = b"200 result=\xff\xc3\x28\n"
            elif command.startswith("SET VARIABLE"):
                if '"IVR_ROUTE"' in command:
                    route = command.split('"')[3]
                answer = b"200 result=1\n"
            elif command.startswith("CHANNEL STATUS"):
                answer = b"200 result=6\n"
            else:
                answer = b"200 result=0 endpos=100\n"
            writer.write(answer)
            await writer.drain()
    writer.close()
    return route
