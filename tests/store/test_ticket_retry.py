"""A connection lost under a ticket's commit, on a real Redis behind a cutting proxy: the
service's client sends the command once more, and the ticket is written once.

Seen under CPU load: after Redis restarted, the first call's command went out on a
pooled connection the server had closed, and the call lost its ticket.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from enum import Enum

import pytest
from redis.asyncio import Redis

from ivr.services import redis_client
from ivr.store import keys
from ivr.store.tickets import TicketStore
from tests.support.tickets import new_ticket


class Cut(Enum):
    BEFORE = "before"  # the connection closes as the commit arrives: Redis never runs it
    AFTER = "after"  # Redis runs the commit, then the connection closes: the reply is lost


class CuttingProxy:
    """Forwards to Redis; cuts the first connection that sends a ticket's commit."""

    def __init__(self, target: str, cut: Cut) -> None:
        host_port = target.removeprefix("redis://").split("/")[0]
        self.host, port = host_port.split(":")
        self.port = int(port)
        self.cut = cut
        self.armed = True
        self.cuts = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return f"redis://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/0"

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self.host, self.port)

        async def down() -> None:
            with contextlib.suppress(ConnectionError):
                while chunk := await up_reader.read(65536):
                    writer.write(chunk)
                    await writer.drain()

        relay = asyncio.create_task(down())
        try:
            while chunk := await reader.read(65536):
                if self.armed and b"commit" in chunk:
                    self.armed = False
                    self.cuts += 1
                    if self.cut is Cut.AFTER:
                        relay.cancel()  # the reply goes nowhere
                        up_writer.write(chunk)
                        await up_writer.drain()
                        await asyncio.sleep(0.2)  # Redis has run it
                    break
                up_writer.write(chunk)
                await up_writer.drain()
        finally:
            relay.cancel()
            for w in (writer, up_writer):
                w.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()


@pytest.fixture(params=[Cut.BEFORE, Cut.AFTER], ids=lambda c: c.value)
async def proxy(
    request: pytest.FixtureRequest, redis: Redis, redis_url: str
) -> AsyncIterator[tuple[CuttingProxy, str]]:
    cutting = CuttingProxy(redis_url, request.param)
    url = await cutting.start()
    try:
        yield cutting, url
    finally:
        await cutting.close()


async def test_a_commit_cut_off_is_sent_again_and_writes_one_ticket(
    proxy: tuple[CuttingProxy, str], redis: Redis
) -> None:
    cutting, url = proxy
    client = redis_client(url)
    try:
        store = TicketStore(client)
        new = dataclasses.replace(new_ticket("123456", emergency=False), call_id="c-cut")
        ticket = await store.create(new)
    finally:
        await client.aclose()
    assert cutting.cuts == 1
    assert await redis.zrange(keys.TICKETS, 0, -1) == [ticket.number]
    assert await redis.hget(keys.ticket(ticket.number), "call_id") == "c-cut"
    # One ticket, one creation event: nothing was applied twice.
    assert await redis.hget(keys.ticket(ticket.number), "events") == "1"
