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

Load: the hasher counts the checks queued or running and keeps a moving average
of how long one took, so that a flow can tell, before queuing a check, how long
its caller would wait (``admission``; the rules are ``ivr.domain.admission``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ivr.domain.admission import QUIET_LIMIT_SECONDS, Admission, admission, moving_average
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


# How much lower than the process the hashing threads run (Linux nice levels).
HASH_NICENESS = 10


def _yield_to_calls() -> None:
    """Lower this hashing thread's priority: when the cores are all taken, the event
    loop that plays the callers' prompts (and Asterisk beside it) runs first, and the
    checks wait; the admission rules keep that wait short."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux, or not permitted
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)


def hash_threads() -> int:
    """One hashing thread per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover  (not Linux)
        return max(1, os.cpu_count() or 1)


class PinHasher:
    """Hashes and verifies PINs; verification of an unknown account costs the same."""

    def __init__(
        self,
        hasher: PasswordHasher | None = None,
        threads: int | None = None,
        *,
        queue_max_seconds: float = QUIET_LIMIT_SECONDS,
    ) -> None:
        self._hasher = hasher or default_hasher()
        self.threads = threads or hash_threads()
        self.queue_max_seconds = queue_max_seconds
        self._pool = ThreadPoolExecutor(
            max_workers=self.threads, thread_name_prefix="pin-hash", initializer=_yield_to_calls
        )
        # Touched from the hashing threads and the event loop alike.
        self._lock = threading.Lock()
        self._pending = 0
        self._average: float | None = None
        # A real hash of nothing anyone can type, so an unknown account takes as
        # long to reject as a wrong PIN and timing tells the caller nothing. Its
        # time is the first sample of the average.
        self._decoy = self._timed(self._hasher.hash, "decoy-not-a-pin")

    def _timed(self, work: Callable[[str], T], text: str) -> T:
        started = time.perf_counter()
        try:
            return work(text)
        finally:
            took = time.perf_counter() - started
            with self._lock:
                self._average = moving_average(self._average, took)

    def _finished(self, _done: Future[T]) -> None:
        with self._lock:
            self._pending -= 1

    def _submit(self, func: functools.partial[T]) -> asyncio.Future[T]:
        """Queue ``func`` in the pool now (counted as pending at once, so the next
        admission sees it), as a future of the running loop."""
        context = contextvars.copy_context()  # the call id reaches the thread's log lines
        with self._lock:
            self._pending += 1
        done = self._pool.submit(context.run, func)
        # Run, failed or cancelled before it started (the caller gave up): no longer pending.
        done.add_done_callback(self._finished)
        return asyncio.wrap_future(done)

    @property
    def average_seconds(self) -> float:
        """The moving average of how long one hash or check took lately."""
        with self._lock:
            return self._average or 0.0

    def admission(self) -> Admission:
        """Whether a check queued now keeps its caller within ``queue_max_seconds``."""
        with self._lock:
            pending, average = self._pending, self._average or 0.0
        return admission(pending, self.threads, average, self.queue_max_seconds)

    def hash_sync(self, pin: str) -> str:
        """An argon2id hash of a PIN (blocking: call from a thread or the CLI)."""
        if not PIN_RE.match(pin):
            raise ValueError("a PIN is 4 to 12 digits")
        return self._timed(self._hasher.hash, pin)

    async def hash(self, pin: str) -> str:
        """``hash_sync`` in the hashing pool."""
        return await self._submit(functools.partial(self.hash_sync, pin))

    def verify_sync(self, stored: str | None, pin: str) -> bool:
        """True when ``pin`` matches ``stored``; a missing hash is checked against a decoy."""
        against = functools.partial(self._hasher.verify, stored or self._decoy)
        try:
            matched = self._timed(against, pin)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return matched and stored is not None

    async def verify(self, stored: str | None, pin: str) -> bool:
        """``verify_sync`` in the hashing pool."""
        return await self.start_verify(stored, pin)

    def start_verify(self, stored: str | None, pin: str) -> asyncio.Future[bool]:
        """``verify_sync`` queued in the hashing pool now; cancel the future to drop it
        while it waits for a thread."""
        return self._submit(functools.partial(self.verify_sync, stored, pin))

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
