"""A real helpdesk webhook for tests: an aiohttp server that can fail, dawdle or be down.

Also the reference receiver an integrator can run (from a checkout, with the
project's Python) to watch what the phone line sends::

    IVR_HELPDESK_SECRET=... python -m tests.support.helpdesk_receiver --port 8099

then ``IVR_HELPDESK_URL=http://127.0.0.1:8099/tickets ivr serve``: each delivery is
printed (its key, event, ticket and whether its signature checked out).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ivr.domain.helpdesk import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verify

SECRET = "test-helpdesk-secret-0123456789"


@dataclass
class Delivery:
    """One request the receiver took."""

    key: str
    payload: dict[str, Any]
    signed: bool


@dataclass
class Receiver:
    """Records every POST; fails the first ``fail_first``; ``slow_first`` wait ``delay`` s."""

    fail_first: int = 0
    delay: float = 0.0
    slow_first: int = 1_000_000
    requests: int = 0
    accepted: list[Delivery] = field(default_factory=list)
    port: int = 0
    secret: str = SECRET
    echo: bool = False  # print each delivery (the reference receiver)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The webhook URL (the port stays the same across stop and start)."""
        return f"http://127.0.0.1:{self.port}/tickets"

    def keys(self) -> Counter[str]:
        """How many accepted requests carried each idempotency key."""
        return Counter(d.key for d in self.accepted)

    def distinct(self) -> dict[str, dict[str, Any]]:
        """What the helpdesk keeps: one payload per idempotency key."""
        return {d.key: d.payload for d in self.accepted}

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        body = await request.read()
        if self.delay and self.requests <= self.slow_first:
            await asyncio.sleep(self.delay)
        if self.requests <= self.fail_first:
            return web.Response(status=503, text="try later")
        signed = verify(body, self.secret, request.headers.get(SIGNATURE_HEADER, ""))
        delivery = Delivery(request.headers.get(IDEMPOTENCY_HEADER, ""), json.loads(body), signed)
        self.accepted.append(delivery)
        if self.echo:
            ticket = delivery.payload.get("ticket", {})
            line = (f"{delivery.key}  {delivery.payload.get('event')}  ticket "
                    f"{ticket.get('number')}  {ticket.get('title')!r}  "
                    f"signature {'ok' if signed else 'BAD'}")  # fmt: skip
            print(line, flush=True)  # noqa: T201
        return web.json_response({"ok": True})

    async def start(self) -> None:
        """Listen (again) on loopback; the first start picks a free port."""
        app = web.Application()
        app.router.add_post("/tickets", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        if not self.port:
            server = site._server  # aiohttp exposes no public bound port
            assert isinstance(server, asyncio.Server)
            self.port = int(server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening: deliveries now fail with connection refused."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def _serve(port: int, secret: str) -> None:
    receiver = Receiver(port=port, secret=secret, echo=True)
    await receiver.start()
    print(f"listening on {receiver.url} (Ctrl-C stops)", flush=True)  # noqa: T201
    try:
        await asyncio.Event().wait()
    finally:
        await receiver.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the reference receiver until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m tests.support.helpdesk_receiver")
    parser.add_argument("--port", type=int, default=8099)
    args = parser.parse_args(argv)
    secret = os.environ.get("IVR_HELPDESK_SECRET", "")
    if not secret:
        print("set IVR_HELPDESK_SECRET to the phone line's secret", file=sys.stderr)  # noqa: T201
        return 2
    try:
        asyncio.run(_serve(args.port, secret))
    except KeyboardInterrupt:
        return 0
    return 0


async def eventually(check: Callable[[], Awaitable[object]], timeout: float = 10.0) -> None:
    """Poll an async condition (Redis state) until it holds, bounded."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


if __name__ == "__main__":
    raise SystemExit(main())
