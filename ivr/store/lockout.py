"""Failed-PIN counting and lockout, shared by every worker through Redis.

Failures are counted per entered account number (whether it exists or not, so a
lockout reveals nothing) and per calling number, within a window; reaching the
limit locks that account or number for a while and writes an audit entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from redis.asyncio import Redis

from ivr.store import keys

# One round trip: count both failures, lock what reached the limit, audit it.
_RECORD_FAILURE = """
local acct = redis.call('INCR', KEYS[1])
if acct == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local caller = redis.call('INCR', KEYS[2])
if caller == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
local locked = 0
if acct >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[3], ARGV[5], 'EX', ARGV[3])
  redis.call('DEL', KEYS[1])
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', 10000, '*', 'event', 'lockout',
             'scope', 'account', 'subject', ARGV[4], 'at', ARGV[5])
  locked = 1
end
if caller >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[4], ARGV[5], 'EX', ARGV[3])
  redis.call('DEL', KEYS[2])
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', 10000, '*', 'event', 'lockout',
             'scope', 'caller', 'subject', ARGV[6], 'at', ARGV[5])
  locked = locked + 2
end
return locked
"""


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """How many failures, in what window, lock for how long."""

    max_failures: int
    window_seconds: int
    lock_seconds: int


@dataclass(frozen=True, slots=True)
class AuthLookup:
    """What one round trip tells before a PIN is checked."""

    locked: bool
    pin_hash: str | None
    active: bool
    exists: bool


class Lockout:
    """Checks and records PIN failures."""

    def __init__(self, redis: Redis, policy: LockoutPolicy) -> None:
        self._redis = redis
        self._policy = policy
        self._record = redis.register_script(_RECORD_FAILURE)

    async def lookup(self, account: str, caller: str) -> AuthLookup:
        """Lock state of account and calling number plus the reseller, in one round trip."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.exists(keys.lock_account(account), keys.lock_caller(caller))
            pipe.hmget(keys.reseller(account), ["pin_hash", "status"])
            locks, (pin_hash, status) = await pipe.execute()
        return AuthLookup(
            locked=int(locks) > 0,
            pin_hash=pin_hash or None,
            active=status == "active",
            exists=status is not None,
        )

    async def record_failure(self, account: str, caller: str, now: dt.datetime) -> bool:
        """Count one failure; True when the account or the calling number is now locked."""
        locked = await self._record(
            keys=[
                keys.pin_failures_account(account),
                keys.pin_failures_caller(caller),
                keys.lock_account(account),
                keys.lock_caller(caller),
                keys.AUDIT,
            ],
            args=[
                self._policy.window_seconds,
                self._policy.max_failures,
                self._policy.lock_seconds,
                account,
                now.isoformat(),
                caller,
            ],
        )
        return int(locked) > 0

    async def record_success(self, account: str) -> None:
        """A verified PIN clears the account's failure count (not the caller's)."""
        await self._redis.delete(keys.pin_failures_account(account))
