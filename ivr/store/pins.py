"""PIN hashing with argon2id, always off the event loop, in a bounded pool of its own.

A PIN exists in memory only between the keypad and this module; it is never
logged, stored, or put in a channel variable.

Cost: argon2id with OWASP's minimum (19 MiB, 2 passes, 1 lane) takes about 17 ms
of one core, where the library's default (64 MiB, 3 passes, 4 lanes) took about
90 ms. Hashing runs in its own pool with one thread per core: enough to keep every
core busy, never so many that 64 MiB hashes crowd each other out of the caches
and memory (the default pool ran dozens at once), and never in the pool that
Redis and file work share. Hashes made with other parameters still verify
(argon2 records them in the hash) and are replaced at the next good login.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ivr.domain.records import PIN_RE

T = TypeVar("T")

# OWASP Password Storage Cheat Sheet, argon2id minimum configuration.
MEMORY_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1


def default_hasher(memory_kib: int = MEMORY_KIB, time_cost: int = TIME_COST) -> PasswordHasher:
    """argon2id with the parameters above (or the operator's, from the settings)."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=PARALLELISM)


def below_minimum(memory_kib: int, time_cost: int) -> bool:
    """Whether a configured cost is under OWASP's minimum (allowed, but said loudly)."""
    return memory_kib < MEMORY_KIB or time_cost < TIME_COST


def hash_threads() -> int:
    """One hashing thread per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover  (not Linux)
        return max(1, os.cpu_count() or 1)


class PinHasher:
    """Hashes and verifies PINs; verification of an unknown account costs the same."""

    def __init__(self, hasher: PasswordHasher | None = None, threads: int | None = None) -> None:
        self._hasher = hasher or default_hasher()
        self._pool = ThreadPoolExecutor(
            max_workers=threads or hash_threads(), thread_name_prefix="pin-hash"
        )
        # A real hash of nothing anyone can type, so an unknown account takes as
        # long to reject as a wrong PIN and timing tells the caller nothing.
        self._decoy = self._hasher.hash("decoy-not-a-pin")

    async def _in_pool(self, func: functools.partial[T]) -> T:
        context = contextvars.copy_context()  # the call id reaches the thread's log lines
        return await asyncio.get_running_loop().run_in_executor(self._pool, context.run, func)

    def hash_sync(self, pin: str) -> str:
        """An argon2id hash of a PIN (blocking: call from a thread or the CLI)."""
        if not PIN_RE.match(pin):
            raise ValueError("a PIN is 4 to 12 digits")
        return self._hasher.hash(pin)

    async def hash(self, pin: str) -> str:
        """``hash_sync`` in the hashing pool."""
        return await self._in_pool(functools.partial(self.hash_sync, pin))

    def verify_sync(self, stored: str | None, pin: str) -> bool:
        """True when ``pin`` matches ``stored``; a missing hash is checked against a decoy."""
        try:
            return self._hasher.verify(stored or self._decoy, pin) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def verify(self, stored: str | None, pin: str) -> bool:
        """``verify_sync`` in the hashing pool."""
        return await self._in_pool(functools.partial(self.verify_sync, stored, pin))

    def needs_rehash(self, stored: str) -> bool:
        """True when ``stored`` was made with other parameters than today's."""
        try:
            return self._hasher.check_needs_rehash(stored)
        except (InvalidHashError, ValueError):
            return True

    async def upgraded(self, stored: str | None, pin: str) -> str | None:
        """After a good login: a new hash when ``stored`` has old parameters, else None."""
        if stored is None or not self.needs_rehash(stored):
            return None
        return await self.hash(pin)

    def close(self) -> None:
        """Stop the hashing threads once their work is done."""
        self._pool.shutdown(wait=False)
