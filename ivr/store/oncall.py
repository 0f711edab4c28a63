"""The on-call rotation and its dated overrides in Redis, as JSON documents.

The rotation is one string key; overrides are a hash of id -> JSON so that one can
be removed by the short id an administrator types (``ivr oncall override remove``).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import cast

from redis.asyncio import Redis

from ivr.domain.oncall import (
    ChainStep,
    Override,
    Rotation,
    on_call,
    override_from_dict,
    override_to_dict,
    rotation_from_dict,
    rotation_to_dict,
)
from ivr.store import keys

# Eight hex digits are short enough to type; a collision is retried, and this many
# in a row would mean something other than bad luck.
_ID_ATTEMPTS = 8


def _rotation(raw: str | None) -> Rotation | None:
    return rotation_from_dict(json.loads(raw)) if raw else None


def _overrides(raw: dict[str, str]) -> list[tuple[str, Override]]:
    """Parsed and ordered by start (then id), so listings and precedence are stable."""
    parsed = [(key, override_from_dict(json.loads(doc))) for key, doc in raw.items()]
    return sorted(parsed, key=lambda item: (item[1].start.timestamp(), item[0]))


class OnCallStore:
    """Reads and writes the rotation and overrides; answers who is on call."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def get_rotation(self) -> Rotation | None:
        """The rotation, or None when none is configured."""
        return _rotation(cast(str | None, await self._redis.get(keys.ONCALL_ROTATION)))

    async def set_rotation(self, rotation: Rotation) -> None:
        """Replace the rotation."""
        await self._redis.set(keys.ONCALL_ROTATION, json.dumps(rotation_to_dict(rotation)))

    async def add_override(self, override: Override) -> str:
        """Store an override; return its id."""
        doc = json.dumps(override_to_dict(override))
        for _ in range(_ID_ATTEMPTS):
            override_id = secrets.token_hex(4)
            # HSETNX: a colliding id must not silently replace another override.
            if await self._redis.hsetnx(keys.ONCALL_OVERRIDES, override_id, doc):
                return override_id
        raise RuntimeError("could not allocate an on-call override id")

    async def remove_override(self, override_id: str) -> bool:
        """Delete an override; False if there was none with that id."""
        return int(await self._redis.hdel(keys.ONCALL_OVERRIDES, override_id)) == 1

    async def overrides(self, since: dt.datetime | None = None) -> list[tuple[str, Override]]:
        """(id, override) by start time; with ``since``, only those ending after it."""
        if since is not None and (since.tzinfo is None or since.utcoffset() is None):
            raise ValueError("since must be timezone-aware (with a UTC offset)")
        raw = cast(dict[str, str], await self._redis.hgetall(keys.ONCALL_OVERRIDES))
        return [(k, o) for k, o in _overrides(raw) if since is None or o.end > since]

    async def state(self) -> tuple[Rotation | None, dict[str, Override]]:
        """The rotation and every override (id -> override, by start), in one round trip."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(keys.ONCALL_ROTATION)
            pipe.hgetall(keys.ONCALL_OVERRIDES)
            raw_rotation, raw_overrides = cast(
                tuple[str | None, dict[str, str]], await pipe.execute()
            )
        return _rotation(raw_rotation), dict(_overrides(raw_overrides))

    async def chain(self, at: dt.datetime) -> tuple[ChainStep, ...]:
        """Who is on call at ``at`` (empty when no rotation is configured)."""
        rotation, overrides = await self.state()
        return on_call(rotation, list(overrides.values()), at)
