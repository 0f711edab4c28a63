"""The PIN hasher's load: checks counted while queued or running, dropped ones forgotten."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Literal

from argon2 import PasswordHasher

from ivr.domain.admission import Admission
from ivr.store.pins import HASH_NICENESS, PinHasher
from tests.support.harness import wait_for

HASH_SECONDS = 0.2


class GatedHasher(PasswordHasher):
    """Hashes take HASH_SECONDS (the average's first sample); checks wait for the gate."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.gate = threading.Event()

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        time.sleep(HASH_SECONDS)
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:  # noqa: A002 (argon2's name)
        self.gate.wait(10)
        return super().verify(hash, password)


async def test_admission_follows_the_checks_queued_and_dropped() -> None:
    """Each check counts from the moment it is queued; one cancelled while it waits for a
    thread leaves the queue (a shed or hung-up caller frees the place)."""
    hasher = GatedHasher()
    pins = PinHasher(hasher, threads=1, queue_max_seconds=0.5)
    try:
        stored = hasher.hash("2468")
        assert pins.average_seconds >= HASH_SECONDS * 0.9  # the decoy's hash, measured
        running = pins.start_verify(stored, "2468")
        assert pins.admission() is Admission.ONE_MOMENT  # 2 x 0.2 s: past 0.375 s
        waiting = [pins.start_verify(stored, "2468")]
        assert pins.admission() is Admission.ONE_MOMENT  # 3 x 0.2 s: before 0.75 s
        waiting.append(pins.start_verify(stored, "2468"))
        assert pins.admission() is Admission.SHED  # 4 x 0.2 s: past 0.75 s
        for check in waiting:
            check.cancel()
        await wait_for(lambda: pins.admission() is Admission.ONE_MOMENT)
        hasher.gate.set()
        assert await running
        await wait_for(lambda: pins.admission() is Admission.PROCEED)
        assert not any(check.done() and not check.cancelled() for check in waiting)
    finally:
        hasher.gate.set()
        pins.close()
        await asyncio.sleep(0)


class NicenessHasher(PasswordHasher):
    """Notes the scheduling priority of the thread each check runs on."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.seen: list[int] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:  # noqa: A002 (argon2's name)
        self.seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return super().verify(hash, password)


async def test_checks_run_below_the_event_loop() -> None:
    """Hashing threads run at a lower priority than the loop that plays the prompts, so a
    box whose cores are taken by checks still says "one moment" on time."""
    hasher = NicenessHasher()
    pins = PinHasher(hasher, threads=2)
    try:
        stored = await pins.hash("2468")
        assert all(await asyncio.gather(*(pins.verify(stored, "2468") for _ in range(4))))
    finally:
        pins.close()
    loop_level = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert hasher.seen
    assert set(hasher.seen) == {min(19, loop_level + HASH_NICENESS)}
