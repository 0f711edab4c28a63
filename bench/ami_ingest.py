"""AMI ingest into the Redis queue board, events per second, beside parsing the same bytes.

A fake Asterisk (``tests/fake_ami.FakeAmi``, real TCP) sends the recorded queue
call of ``tests/transcripts/ami-queue-events.txt`` (every event of it: channel
noise, dial, bridge and queue events) over and over, each repetition with its
own unique ids, then one marker caller joining. The figure is the events sent
divided by the time until the board in Redis shows the marker: parse, board,
caller lookups and coalesced writes. The peer parses the same bytes only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from bench.ami_parse import chunks, ours
from bench.common import Figure, ratio
from ivr.ami.client import AmiSettings
from ivr.store import keys
from ivr.store.live import LiveStore
from ivr.workers.queue_board import AmiConsumer
from tests.support.fake_ami import FakeAmi, _block, recorded_events

SECRET = "bench-secret"  # noqa: S105  (the fake Asterisk's login, loopback only)
REPEATS = 600
RECORDED_ID = "1795570928."
MARKER = "bench.last"


def stream_events() -> list[str]:
    """The recorded queue call's events, repeated with fresh unique ids, then the marker."""
    recorded = recorded_events("ami-queue-events.txt")
    events = []
    for rep in range(REPEATS):
        events += [e.replace(RECORDED_ID, f"{2000000000 + rep}.") for e in recorded]
    join = next(e for e in recorded if e.startswith("Event: QueueCallerJoin"))
    marker = "\n".join(
        f"Uniqueid: {MARKER}" if line.startswith("Uniqueid: ") else line
        for line in join.split("\n")
    )
    return [*events, marker]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _board_has_marker(redis: Redis, queue: str) -> bool:
    raw = await redis.get(keys.queue_state(queue))
    if not raw:
        return False
    return any(c["uniqueid"] == MARKER for c in json.loads(raw).get("callers", []))


async def measure(redis_url: str) -> list[Figure]:
    """Events per second into the Redis board, and parse-only on the same bytes."""
    events = stream_events()
    queue = next(
        line.removeprefix("Queue: ")
        for line in events[-1].split("\n")
        if line.startswith("Queue: ")
    )
    fake = FakeAmi(secret=SECRET)
    port = await fake.start()
    redis = Redis.from_url(redis_url, decode_responses=True)
    consumer = AmiConsumer(
        AmiSettings(host="127.0.0.1", port=port, username="ivr", secret=SECRET),
        LiveStore(redis, ZoneInfo("America/Chicago")),
        _now,
    )
    try:
        await consumer.start()
        async with asyncio.timeout(20):
            await consumer.rebuilt.wait()
        started = time.perf_counter()
        await fake.emit(*events)
        async with asyncio.timeout(120):
            while not await _board_has_marker(redis, queue):  # noqa: ASYNC110  (polls Redis)
                await asyncio.sleep(0.005)
        seconds = time.perf_counter() - started
        seen = consumer.events_seen
    finally:
        await consumer.close()
        await fake.close()
        await redis.aclose()
    if seen < len(events):
        raise RuntimeError(f"the consumer saw {seen} of {len(events)} events")
    data = b"Asterisk Call Manager/11.0.0\r\n" + "".join(_block(e) for e in events).encode()
    parse_started = time.perf_counter()
    parsed = ours(chunks(data, 65536))
    parse_rate = parsed / (time.perf_counter() - parse_started)
    rate = len(events) / seconds
    return [
        Figure(
            "AMI ingest into the Redis board, events/s (peer: parse only, same bytes)",
            round(rate),
            round(parse_rate),
            round(ratio(rate, parse_rate), 3),
            ">= 20000 events/s",
            rate >= 20000,
        )
    ]
