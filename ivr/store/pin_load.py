"""Counts of PIN checks that met a busy box, shared by every worker (for ``/metrics``).

"one moment" played, and callers shed to the general queue because the check
would have kept them waiting past twice the limit (``ivr.flows.pin_check``).
Counters since the data was made: Prometheus reads them as totals.
"""

from __future__ import annotations

from enum import StrEnum
from typing import cast

from redis.asyncio import Redis

from ivr.store import keys


class PinLoad(StrEnum):
    """What a caller met while their PIN was checked on a busy box."""

    ONE_MOMENT = "one_moment"
    SHED = "shed"


async def count(redis: Redis, event: PinLoad) -> None:
    """Add one to the count of ``event``."""
    await redis.hincrby(keys.PIN_LOAD, event.value, 1)


async def counts(redis: Redis) -> dict[PinLoad, int]:
    """Every count (0 for an event that never happened)."""
    raw = cast(dict[str, str], await redis.hgetall(keys.PIN_LOAD))
    return {event: int(raw.get(event.value, 0)) for event in PinLoad}
