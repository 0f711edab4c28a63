"""A lease in Redis that lets exactly one worker run a background job at a time.

The holder renews the lease on every round; if it dies, the key expires and
another worker takes over on its next round. Taking, renewing and releasing
compare the holder's random token, so a worker never extends or drops a lease
that has meanwhile passed to someone else.
"""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

# Renew if still ours, or take it if nobody holds it: 1 when held by us afterwards.
_HOLD = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Lease:
    """One worker's claim on a named job, expiring unless renewed."""

    def __init__(self, redis: Redis, key: str, ttl_seconds: float, owner: str = "") -> None:
        self._redis = redis
        self._key = key
        self._ttl_ms = max(1, round(ttl_seconds * 1000))
        # The owner name (host, pid) helps an operator reading the key; the random
        # part keeps two processes with the same name apart.
        self.token = f"{owner}:{secrets.token_hex(8)}" if owner else secrets.token_hex(8)
        self._hold = redis.register_script(_HOLD)
        self._release = redis.register_script(_RELEASE)

    async def hold(self) -> bool:
        """Take or renew the lease; True when this worker holds it now."""
        return int(await self._hold(keys=[self._key], args=[self.token, self._ttl_ms])) == 1

    async def release(self) -> None:
        """Give the lease up at once (a clean stop), if this worker holds it."""
        await self._release(keys=[self._key], args=[self.token])
