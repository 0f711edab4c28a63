"""The on-call rotation and its dated overrides in Redis (JSON documents)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
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


class OnCallStore:
    """Reads and writes the rotation and overrides; answers who is on call."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def set_rotation(self, rotation: Rotation) -> None:
        """Replace the rotation."""
        await self._redis.set(keys.ONCALL_ROTATION, json.dumps(rotation_to_dict(rotation)))

    async def add_override(self, override: Override) -> str:
        """Store an override; return its id."""
        override_id = uuid.uuid4().hex[:8]
        await self._redis.hset(
            keys.ONCALL_OVERRIDES, override_id, json.dumps(override_to_dict(override))
        )
        return override_id

    async def remove_override(self, override_id: str) -> bool:
        """Delete an override; False if there was none with that id."""
        return int(await self._redis.hdel(keys.ONCALL_OVERRIDES, override_id)) == 1

    async def state(self) -> tuple[Rotation | None, dict[str, Override]]:
        """The rotation and every override, in one round trip."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(keys.ONCALL_ROTATION)
            pipe.hgetall(keys.ONCALL_OVERRIDES)
            raw_rotation, raw_overrides = cast(
                tuple[str | None, dict[str, str]], await pipe.execute()
            )
        rotation = rotation_from_dict(json.loads(raw_rotation)) if raw_rotation else None
        overrides = {k: override_from_dict(json.loads(v)) for k, v in raw_overrides.items()}
        return rotation, overrides

    async def chain(self, at: dt.datetime) -> tuple[ChainStep, ...]:
        """Who is on call at ``at`` (empty when no rotation is configured)."""
        rotation, overrides = await self.state()
        return on_call(rotation, list(overrides.values()), at)
