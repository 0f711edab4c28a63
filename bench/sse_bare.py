"""The live-update peer: a bare aiohttp SSE broadcast (``python -m bench.sse_bare PORT``).

``GET /live`` streams; ``POST /emit`` hands its body, as one event, to every
stream's bounded queue. No Redis, no sign-in, no board: what delivering the
same bytes to the same readers costs with aiohttp alone.
"""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web

STREAMS: web.AppKey[set[asyncio.Queue[bytes]]] = web.AppKey("streams")
QUEUE = 256


async def live(request: web.Request) -> web.StreamResponse:
    """One reader's stream."""
    queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE)
    request.app[STREAMS].add(queue)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    try:
        await response.prepare(request)
        await response.write(b'event: message\ndata: {"kind": "hello"}\n\n')
        while True:
            await response.write(await queue.get())
    finally:
        request.app[STREAMS].discard(queue)


async def emit(request: web.Request) -> web.Response:
    """Queue the body as one event for every reader."""
    data = b"event: message\ndata: " + await request.read() + b"\n\n"
    streams = request.app[STREAMS]
    for queue in list(streams):
        if queue.full():
            streams.discard(queue)
        else:
            queue.put_nowait(data)
    return web.Response(text="ok")


def main(port: int) -> None:
    """Serve on loopback until killed."""
    app = web.Application()
    app[STREAMS] = set()
    app.router.add_get("/live", live)
    app.router.add_post("/emit", emit)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main(int(sys.argv[1]))
