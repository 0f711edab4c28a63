"""Many lightweight SSE readers in one process (``python -m bench.sse_clients``).

    python -m bench.sse_clients URL TOKEN COUNT OUT.json

Connects COUNT readers to URL (``Authorization: Bearer TOKEN``), prints ``ready``
once every one has its first event, then records when each reader first sees
each marker ``bench-N`` (``time.monotonic``, one clock for every process) until
its standard input closes, and writes ``[{marker: seconds}, ...]`` to OUT.json.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from pathlib import Path

import aiohttp

MARKER = re.compile(rb"bench-(\d+)")
CONNECT_AT_ONCE = 100


async def reader(
    session: aiohttp.ClientSession,
    url: str,
    token: str,
    seen: dict[str, float],
    ready: asyncio.Event,
    limit: asyncio.Semaphore,
) -> None:
    """One browser: read the stream line by line, stamp each new marker."""
    async with limit:
        response = await session.get(url, headers={"Authorization": f"Bearer {token}"})
    first = True
    async with response:
        async for line in response.content:
            if first:
                first = False
                ready.set()
            if not line.startswith(b"data:"):
                continue
            now = time.monotonic()
            for number in MARKER.findall(line):
                seen.setdefault(number.decode(), now)


async def _main(url: str, token: str, count: int) -> list[dict[str, float]]:
    seen: list[dict[str, float]] = [{} for _ in range(count)]
    ready = [asyncio.Event() for _ in range(count)]
    limit = asyncio.Semaphore(CONNECT_AT_ONCE)
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = [
            asyncio.create_task(reader(session, url, token, seen[i], ready[i], limit))
            for i in range(count)
        ]
        await asyncio.gather(*(event.wait() for event in ready))
        print("ready", flush=True)  # noqa: T201  (the parent waits for this line)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return seen


if __name__ == "__main__":
    seen = asyncio.run(_main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    Path(sys.argv[4]).write_text(json.dumps(seen))
