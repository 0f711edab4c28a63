"""Redis round trips per call step, counted by a TCP proxy in front of Redis.

``ivr serve`` talks to Redis through the proxy. A round trip is a burst of
requests sent while no answer is awaited (a pipeline or a script is one); the
proxy keeps the command names of each. The trips are attributed to the step
whose caller input preceded them, as the simulated Asterisk sees the commands.
Before each call with the right PIN the Host ID's emergency is resolved (directly,
not through the proxy), so that call opens a new ticket; the call with a wrong PIN
that follows it is a repeat call joining that ticket.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import re
import statistics
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import cast

from redis.asyncio import Redis

from bench.common import Figure, ivr_serve, ratio
from bench.paced import step_of
from ivr.agi.simulator import FakeAsterisk, SimulatedCall
from ivr.flows.prompts import sound_exists
from ivr.store import keys
from ivr.store.tickets import TicketStore

_COMMAND = re.compile(rb"\*\d+\r\n\$\d+\r\n([A-Za-z]+)\r\n")
CALLS = 5
_callers = itertools.count(1)
ACCOUNT, HOST_ID = "1001", "123456"
RIGHT_PIN = "1 1001# 2468# # 123456# 1 #"
WRONG_THEN_RIGHT = "1 1001# 1111# 1001# 2468# # 123456# 1 #"
STEPS = {
    "PIN accepted": "GET DATA ivr/enter-pin",
    "Host ID confirmed (lookup)": "GET DATA ivr/host-id-confirm",
    "description recorded (ticket created)": "RECORD FILE",
}


@dataclass
class CountingProxy:
    """Forwards loopback connections to Redis and records every round trip's commands."""

    upstream: tuple[str, int]
    trips: list[list[str]] = field(default_factory=list)

    async def _pipe_up(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, waiting: list[bool]
    ) -> None:
        while data := await reader.read(65536):
            names = [m.decode().upper() for m in _COMMAND.findall(data)]
            if waiting[0] and self.trips:
                self.trips[-1] += names  # the rest of a burst already under way
            else:
                self.trips.append(names)
            waiting[0] = True
            writer.write(data)
            await writer.drain()
        writer.close()

    async def _pipe_down(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, waiting: list[bool]
    ) -> None:
        while data := await reader.read(65536):
            waiting[0] = False
            writer.write(data)
            await writer.drain()
        writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        waiting = [False]
        with contextlib.suppress(ConnectionError):
            await asyncio.gather(
                self._pipe_up(reader, up_writer, waiting),
                self._pipe_down(up_reader, writer, waiting),
            )

    @contextlib.contextmanager
    def serving(self) -> Iterator[int]:
        """Listen on a free loopback port, in a thread with its own loop; yield the port.

        Its own thread: ``ivr serve`` is started with blocking waits that must
        not stall the proxy it is connecting through.
        """
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        started = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._client, "127.0.0.1", 0), loop
        )
        server = started.result(10)
        try:
            yield int(server.sockets[0].getsockname()[1])
        finally:
            loop.call_soon_threadsafe(server.close)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)


async def trips_by_step(proxy: CountingProxy, port: int, dtmf: str) -> dict[str, list[list[str]]]:
    """One call; the round trips (their commands) that followed each step's reply."""
    by_step: dict[str, list[list[str]]] = defaultdict(list)
    mark, last = 0, ""

    async def think(command: str) -> None:
        nonlocal mark, last
        by_step[last] += proxy.trips[mark:]
        mark, last = len(proxy.trips), step_of(command)
        if last in by_step:  # a step met again (a second PIN try) is counted apart
            last += " (again)"

    call = SimulatedCall(
        caller_id=f"97255{next(_callers):05d}",  # a fresh number: no lockout builds up
        answers=SimulatedCall.parse_dtmf(dtmf),
        sound_exists=sound_exists("ivr"),
        before_answer=think,
    )
    result = await FakeAsterisk("127.0.0.1", port).place(call, timeout=30)
    if result.violations or not result.variables.get("IVR_TICKET"):
        raise RuntimeError(f"counted call failed: {result.violations or result.variables}")
    return by_step


def _row(name: str, trips: list[int], commands: list[int], goal: int) -> Figure:
    value, peer = statistics.median(trips), statistics.median(commands)
    return Figure(
        f"Redis round trips, {name} (peer: Redis commands in them)",
        value,
        peer,
        round(ratio(peer, value), 2),
        f"<= {goal}",
        value <= goal,
    )


async def resolve_open_emergency(redis: Redis) -> None:
    """Resolve the counted calls' open emergency, if any: the next call opens a ticket."""
    number = cast(str | None, await redis.get(keys.open_emergency(ACCOUNT, HOST_ID)))
    if number:
        await TicketStore(redis).resolve(number, "bench", dt.datetime.now(dt.UTC))


async def measure(redis_url: str) -> list[Figure]:
    """Round trips per step over a few calls (median, so a background timer does not count)."""
    host, _, port = redis_url.removeprefix("redis://").partition("/")[0].rpartition(":")
    proxy = CountingProxy((host, int(port)))
    right: list[dict[str, list[list[str]]]] = []
    wrong: list[dict[str, list[list[str]]]] = []
    direct = Redis.from_url(redis_url, decode_responses=True)
    try:
        with (
            proxy.serving() as proxy_port,
            ivr_serve(f"redis://127.0.0.1:{proxy_port}/0") as served,
        ):
            for _ in range(CALLS):
                await resolve_open_emergency(direct)
                right.append(await trips_by_step(proxy, served.agi_port, RIGHT_PIN))
                wrong.append(await trips_by_step(proxy, served.agi_port, WRONG_THEN_RIGHT))
    finally:
        await direct.aclose()
    pin = STEPS["PIN accepted"]
    figures = [
        _row(
            "lock check + PIN hash fetch, before the hash is verified",
            [1 if c[pin] and {"EXISTS", "HMGET"} <= set(c[pin][0]) else 99 for c in right],
            [len(c[pin][0]) for c in right],
            1,
        ),
        _row(
            "wrong PIN step (lookup + failure count, lockout)",
            [len(c[pin]) for c in wrong],
            [sum(map(len, c[pin])) for c in wrong],
            2,
        ),
    ]
    for name, step in STEPS.items():
        figures.append(
            _row(
                name,
                [len(c[step]) for c in right],
                [sum(map(len, c[step])) for c in right],
                2,
            )
        )
    joined = STEPS["description recorded (ticket created)"]
    figures.append(
        _row(
            "repeat emergency call joins the open ticket",
            [len(c[joined]) for c in wrong],
            [sum(map(len, c[joined])) for c in wrong],
            2,
        )
    )
    return figures
