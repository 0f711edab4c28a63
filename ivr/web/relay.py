"""Live updates to browsers: one Redis subscription per web process, fanned out
to every connected dashboard as server-sent events.

Each browser has a bounded queue. A browser that stops reading fills its queue
and is disconnected (its EventSource reconnects and starts from a fresh
snapshot), so one stalled client never slows the others or grows memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.asyncio import Redis

from ivr.runtime.tasks import Retry, retry_forever
from ivr.store import keys

log = logging.getLogger("ivr.web")

CLIENT_QUEUE = 256  # messages a browser may lag behind before it is dropped
RETRY_FIRST = 0.5
RETRY_MAX = 10.0


def sse(data: str, event: str = "message") -> bytes:
    """One server-sent event (``data`` must be a single line, as JSON is)."""
    return f"event: {event}\ndata: {data}\n\n".encode()


RESYNC = sse('{"kind": "resync"}')


class Listener:
    """One browser's queue of encoded events."""

    __slots__ = ("dropped", "queue")

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(CLIENT_QUEUE)
        self.dropped = asyncio.Event()


class Relay:
    """Subscribes to ``keys.LIVE`` and hands each message to every listener."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self.listeners: set[Listener] = set()
        self.subscribed = asyncio.Event()
        self.delivered = 0
        self.dropped = 0
        self._lost = False
        self._closed = False

    def add(self) -> Listener:
        """A new browser (once the server is stopping, one already told to go: a stream
        still being signed in when ``close_all`` ran must not hold the stop)."""
        listener = Listener()
        if self._closed:
            listener.dropped.set()
        else:
            self.listeners.add(listener)
        return listener

    def remove(self, listener: Listener) -> None:
        """A browser went away."""
        self.listeners.discard(listener)

    def close_all(self) -> None:
        """The server is stopping: end every browser's stream now, and any added later."""
        self._closed = True
        for listener in list(self.listeners):
            listener.dropped.set()
            with contextlib.suppress(asyncio.QueueFull):
                listener.queue.put_nowait(b"")  # wakes its handler
        self.listeners.clear()

    def broadcast(self, data: bytes) -> None:
        """Queue an encoded event for every browser; drop the ones that lag too far."""
        for listener in list(self.listeners):
            try:
                listener.queue.put_nowait(data)
            except asyncio.QueueFull:
                self.listeners.discard(listener)
                listener.dropped.set()
                self.dropped += 1
        self.delivered += 1

    async def run(self) -> None:
        """Relay until cancelled; a lost Redis is retried and browsers told to resync."""
        retry = Retry(every=0.0, first=RETRY_FIRST, most=RETRY_MAX)
        await retry_forever(self._relay, name="web: live updates", retry=retry, logger=log)

    async def _relay(self) -> None:
        """Subscribe and hand every message on; after a lost link, browsers resync first
        (whatever was published meanwhile is lost: they fetch a fresh board)."""
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(keys.LIVE)
            self.subscribed.set()
            if self._lost:
                self.broadcast(RESYNC)
                self._lost = False
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    self.broadcast(sse(str(message["data"])))
        except BaseException:
            self._lost = True
            raise
        finally:
            self.subscribed.clear()
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
