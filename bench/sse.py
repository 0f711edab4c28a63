"""Browser-visible latency: an AMI event in, its update out to 1,000 SSE readers.

``ivr serve`` follows a fake Asterisk (real TCP, in its own thread here) and
serves ``/api/live`` to 1,000 readers in a separate process
(``bench.sse_clients``), signed in with a bearer token. Each measured event is a
caller joining a queue of 20 as another leaves; its latency is from just before the fake Asterisk
writes it until the last reader has the update. Then one stalled reader (a
socket that never reads, with a tiny receive buffer) joins and the same is
measured again, in alternating rounds (the stalled reader settles in first, so
its sign-in and first board are not counted as stalling). The peer is
``bench.sse_bare``: the same update bytes POSTed to a bare aiohttp broadcast,
read by the same kind of readers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

from redis.asyncio import Redis

from bench.common import Figure, free_port, ivr_serve, ratio, rss_kb, wait_listening
from ivr.store import keys
from ivr.store.accounts import Accounts
from tests.support.fake_ami import FakeAmi, recorded_events

T = TypeVar("T")
SECRET = "bench-secret"  # noqa: S105  (the fake Asterisk's login, loopback only)
CLIENTS = 1000
WAITING = 20  # callers in the queue throughout: each update lists them all
WARM_UP = 100000  # numbers of the callers waiting before the measured ones
EVENTS = 48  # per case, in ROUNDS alternating rounds
ROUNDS = 12
SETTLE = 0.5  # seconds for a new stalled reader to be signed in and sent its board
GAP = 0.15  # seconds between measured events: each is delivered before the next
MAX_KIB_PER_CLIENT = 64.0


class LoopThread:
    """An event loop in a thread of its own (for servers that must run while we block)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run ``coro`` there and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        """Stop the loop and its thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


def queue_event(kind: str, number: int) -> str:
    """A recorded ``QueueCaller<kind>`` event whose caller is ``bench-<number>``."""
    recorded = next(
        e
        for e in recorded_events("ami-queue-events.txt")
        if e.startswith(f"Event: QueueCaller{kind}")
    )
    return "\n".join(
        f"Uniqueid: bench-{number}" if line.startswith("Uniqueid: ") else line
        for line in recorded.split("\n")
    )


def turnover(number: int) -> list[str]:
    """Caller ``number`` joins and the one ``WAITING`` before leaves: the queue keeps its size."""
    gone = number - WAITING if number >= WAITING else WARM_UP + number
    return [queue_event("Join", number), queue_event("Leave", gone)]


@contextlib.contextmanager
def readers(url: str, token: str, count: int) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """``bench.sse_clients`` connected and ready; yields where its results will be."""
    with tempfile.TemporaryDirectory() as data:
        out = Path(data) / "seen.json"
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "bench.sse_clients", url, token, str(count), str(out)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None  # noqa: S101  (PIPE above)
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError("the SSE readers did not connect")
            yield out, process
        finally:
            if process.poll() is None:
                process.communicate(timeout=60)


def collect(process: subprocess.Popen[str], out: Path) -> list[dict[str, float]]:
    """End the readers and read what they saw."""
    process.communicate(timeout=60)
    seen: list[dict[str, float]] = json.loads(out.read_text())
    return seen


def last_reader_ms(seen: list[dict[str, float]], sent: dict[int, float]) -> list[float]:
    """Per event: ms from sending it until the last reader had it."""
    latencies = []
    for number, at in sent.items():
        times = [s[str(number)] for s in seen if str(number) in s]
        if len(times) < len(seen):
            raise RuntimeError(f"event {number}: {len(seen) - len(times)} readers never got it")
        latencies.append((max(times) - at) * 1000)
    return latencies


@contextlib.contextmanager
def stalled_reader(port: int, path: str, token: str) -> Iterator[socket.socket]:
    """A reader that asks for the stream and never reads a byte of it."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    )
    try:
        yield sock
    finally:
        sock.close()


async def _token(redis_url: str) -> str:
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        return await Accounts(redis).new_token("admin")
    finally:
        await redis.aclose()


async def _snapshot(redis_url: str, queue: str) -> str:
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        return str(await redis.get(keys.queue_state(queue)))
    finally:
        await redis.aclose()


def product_run(redis_url: str) -> tuple[list[float], list[float], float, str]:
    """Last-reader latencies without and with a stalled reader, KiB per reader, last update."""
    thread = LoopThread()
    fake = FakeAmi(secret=SECRET)
    ami_port = thread.run(fake.start())
    env = {
        "IVR_AMI_HOST": "127.0.0.1",
        "IVR_AMI_PORT": str(ami_port),
        "IVR_AMI_SECRET": SECRET,
    }
    try:
        with ivr_serve(redis_url, env) as served:
            thread.run(fake.wait_logins(1, timeout=30), timeout=40)
            token = asyncio.run(_token(redis_url))
            url = f"http://127.0.0.1:{served.web_port}/api/live"
            rss_before = rss_kb(served.pid)
            sent: dict[int, float] = {}

            async def emit(number: int) -> None:
                sent[number] = time.monotonic()
                await fake.emit(*turnover(number))

            for number in range(WARM_UP, WARM_UP + WAITING):  # callers already waiting
                thread.run(fake.emit(queue_event("Join", number)))

            with readers(url, token, CLIENTS) as (out, process):
                kib = (rss_kb(served.pid) - rss_before) / CLIENTS
                # Alternate rounds without and with a (fresh) stalled reader, so the
                # machine's other load falls on both alike.
                alone_numbers: list[int] = []
                stalled_numbers: list[int] = []
                number = 0
                for _ in range(ROUNDS):
                    for stall in (False, True):
                        with contextlib.ExitStack() as stack:
                            if stall:
                                stack.enter_context(
                                    stalled_reader(served.web_port, "/api/live", token)
                                )
                                time.sleep(SETTLE)
                            for _ in range(EVENTS // ROUNDS):
                                thread.run(emit(number))
                                (stalled_numbers if stall else alone_numbers).append(number)
                                number += 1
                                time.sleep(GAP)
                seen = collect(process, out)
            alone = last_reader_ms(seen, {n: sent[n] for n in alone_numbers})
            stalled = last_reader_ms(seen, {n: sent[n] for n in stalled_numbers})
            queue = next(
                line.removeprefix("Queue: ")
                for line in queue_event("Join", 0).split("\n")
                if line.startswith("Queue: ")
            )
            snapshot = asyncio.run(_snapshot(redis_url, queue))
    finally:
        thread.run(fake.close())
        thread.stop()
    return alone, stalled, kib, snapshot


def bare_run(snapshot: str) -> tuple[list[float], float]:
    """Last-reader latencies and KiB per reader of the bare aiohttp broadcast."""
    snapshot = snapshot.replace("bench-", "caller-")  # only the marker may name an event
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "bench.sse_bare", str(port)], stdout=subprocess.DEVNULL
    )
    try:
        wait_listening(port, process, "bench.sse_bare", Path("/dev/null"))
        rss_before = rss_kb(process.pid)
        sent: dict[int, float] = {}
        with readers(f"http://127.0.0.1:{port}/live", "none", CLIENTS) as (out, readers_process):
            kib = (rss_kb(process.pid) - rss_before) / CLIENTS
            for number in range(EVENTS):
                body = json.dumps(
                    {"kind": "queue", "queue": json.loads(snapshot), "marker": f"bench-{number}"}
                ).encode()
                sent[number] = time.monotonic()
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/emit", data=body, method="POST"
                )
                with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
                    reply.read()
                time.sleep(GAP)
            seen = collect(readers_process, out)
    finally:
        process.kill()  # a peer with no state to save: no graceful shutdown to wait for
        process.wait(10)
    return last_reader_ms(seen, sent), kib


def measure(redis_url: str) -> list[Figure]:
    """Last-reader p50 beside the bare broadcast; the stalled reader's cost; memory per reader."""
    alone, stalled, kib, snapshot = product_run(redis_url)
    bare, bare_kib = bare_run(snapshot)
    p50, p50_stalled, p50_bare = (statistics.median(x) for x in (alone, stalled, bare))
    # Each stalled round against the round just before it: the machine's other
    # load drifts over the run, a pair of neighbouring rounds shares it.
    per_round = EVENTS // ROUNDS
    paired = statistics.median(
        ratio(
            statistics.median(stalled[i : i + per_round]),
            statistics.median(alone[i : i + per_round]),
        )
        for i in range(0, len(alone), per_round)
    )
    return [
        Figure(
            f"live update, AMI event to last of {CLIENTS} SSE readers p50 "
            "(ms; peer: bare aiohttp broadcast)",
            round(p50, 2),
            round(p50_bare, 2),
            round(ratio(p50, p50_bare), 2),
            "p50 <= 50 ms",
            p50 <= 50,
        ),
        Figure(
            "live update p50 with one stalled reader (ms; peer: without it)",
            round(p50_stalled, 2),
            round(p50, 2),
            round(paired, 3),
            "<= 1.10x (median of paired rounds)",
            paired <= 1.10,
        ),
        Figure(
            "web server memory per SSE reader (KiB; peer: bare aiohttp)",
            round(kib, 1),
            round(bare_kib, 1),
            round(ratio(kib, bare_kib), 2),
            f"<= {MAX_KIB_PER_CLIENT:g} KiB (queue bounded)",
            kib <= MAX_KIB_PER_CLIENT,
        ),
    ]
