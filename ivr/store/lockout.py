"""Failed-PIN counting and lockout, shared by every worker through Redis.

Failures are counted per entered account number (whether it exists or not, so a
lockout reveals nothing) and per calling number, within a window; reaching the
limit locks that account or number for a while and writes an audit entry; each
further lockout within a day lasts twice as long, up to a cap.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from redis.asyncio import Redis

from ivr.store import keys

# One round trip: count both failures, lock what reached the limit, audit it.
# Each lockout of the same subject within a day lasts twice as long as the one
# before (ARGV[3] seconds, then 2x, 4x, ...), up to ARGV[7] seconds: a guesser
# who waits out one lockout gets only a handful of tries a day.
_RECORD_FAILURE = """
local function lock(counter, lock_key, lockouts, scope, subject)
  redis.call('DEL', counter)
  local n = redis.call('INCR', lockouts)
  if n == 1 then redis.call('EXPIRE', lockouts, ARGV[8]) end
  local seconds = math.min(tonumber(ARGV[3]) * 2 ^ math.min(n - 1, 30), tonumber(ARGV[7]))
  seconds = math.floor(seconds)
  redis.call('SET', lock_key, ARGV[5], 'EX', seconds)
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', 10000, '*', 'event', 'lockout',
             'scope', scope, 'subject', subject, 'at', ARGV[5],
             'seconds', seconds, 'lockouts_today', n)
end
local acct = redis.call('INCR', KEYS[1])
if acct == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local caller = redis.call('INCR', KEYS[2])
if caller == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
local locked = 0
if acct >= tonumber(ARGV[2]) then
  lock(KEYS[1], KEYS[3], KEYS[6], 'account', ARGV[4])
  locked = 1
end
if caller >= tonumber(ARGV[2]) then
  lock(KEYS[2], KEYS[4], KEYS[7], 'caller', ARGV[6])
  locked = locked + 2
end
return locked
"""

# Lockouts of one subject count towards the doubling for this long.
LOCKOUT_MEMORY_SECONDS = 86400


def unknown_account(entered: str) -> str:
    """The name failures of a non-existent account number are counted under.

    Not the digits themselves: they may be a PIN keyed at the wrong prompt, and
    Redis holds PINs only as argon2 hashes. A plain digest is enough to keep the
    digits out of key names, logs and the audit stream; it is no protection
    against someone who can read Redis and try every number.
    """
    return "unknown-" + hashlib.sha256(f"ivr-account:{entered}".encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """How many failures, in what window, lock for how long."""

    max_failures: int
    window_seconds: int
    lock_seconds: int
    max_lock_seconds: int = 86400


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
            pipe.exists(
                keys.lock_account(account),
                keys.lock_account(unknown_account(account)),
                keys.lock_caller(caller),
            )
            pipe.hmget(keys.reseller(account), ["pin_hash", "status"])
            locks, (pin_hash, status) = await pipe.execute()
        return AuthLookup(
            locked=int(locks) > 0,
            pin_hash=pin_hash or None,
            active=status == "active",
            exists=status is not None,
        )

    async def record_failure(
        self, account: str, caller: str, now: dt.datetime, *, known: bool = True
    ) -> bool:
        """Count one failure; True when the account or the calling number is now locked.

        An account number that names no reseller (``known=False``) is counted under
        ``unknown_account``: a caller out of step with the prompts may have keyed
        their PIN where the account number was asked for.
        """
        if not known:
            account = unknown_account(account)
        locked = await self._record(
            keys=[
                keys.pin_failures_account(account),
                keys.pin_failures_caller(caller),
                keys.lock_account(account),
                keys.lock_caller(caller),
                keys.AUDIT,
                keys.lockouts_account(account),
                keys.lockouts_caller(caller),
            ],
            args=[
                self._policy.window_seconds,
                self._policy.max_failures,
                self._policy.lock_seconds,
                account,
                now.isoformat(),
                caller,
                max(self._policy.max_lock_seconds, self._policy.lock_seconds),
                LOCKOUT_MEMORY_SECONDS,
            ],
        )
        return int(locked) > 0

    async def record_success(self, account: str) -> None:
        """A verified PIN clears the account's failure count (not the caller's)."""
        await self._redis.delete(keys.pin_failures_account(account))
