"""What the command bodies share: the stores over the configured Redis, and output."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator

from ivr.config import Settings
from ivr.services import build_stores, open_redis
from ivr.store.stores import Stores


@contextlib.asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Stores]:
    """Redis (the configured one, or the data directory's own) and every store over it,
    for the length of one command."""
    async with open_redis(settings) as redis:
        yield build_stores(redis, settings)


def fail(message: str, status: int = 1) -> int:
    """Say what went wrong on stderr (``ivr: ...``); return the exit status."""
    print(f"ivr: {message}", file=sys.stderr)
    return status
