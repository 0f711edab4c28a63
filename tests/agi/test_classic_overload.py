"""A classic AGI script on a busy box: its own clock keeps the caller out of long silence.

A script is a process per call with a hashing pool of its own, so no queue is
shared and nothing is estimated; what protects its caller is the clock. Here the
reseller's stored hash is made costly (argon2 reads the cost from the hash), so
the check outlasts a limit of 0.1 s as it would on a box whose cores are taken.
"""

from __future__ import annotations

from pathlib import Path

from argon2 import PasswordHasher

from ivr.store import pin_load
from ivr.store.pin_load import PinLoad
from ivr.store.stores import Stores
from tests.agi.test_classic import (
    SUPPORT_LINE_SCRIPT,
    assert_clean,
    run_script,
    script_environ,
    strict_call,
)
from tests.support.calls import EMERGENCY

# About 0.3 s of one core or more: three times past the point the check is given up.
COSTLY = PasswordHasher(time_cost=10, memory_cost=32 * 1024, parallelism=1)
LIMIT = 0.1  # the smallest IVR_PIN_QUEUE_MAX_SECONDS


async def test_slow_check_says_one_moment_then_sheds_to_the_general_queue(
    stores: Stores, redis_url: str, tmp_path: Path
) -> None:
    """The script plays "one moment" before the limit, gives the check up, hands the caller
    to the general queue and counts it where every worker's counts are."""
    await stores.directory.set_pin_hash("1001", COSTLY.hash("2468"))
    environ = script_environ(redis_url, tmp_path, IVR_PIN_QUEUE_MAX_SECONDS=str(LIMIT))
    run = await run_script(SUPPORT_LINE_SCRIPT, environ, tmp_path, strict_call(EMERGENCY))
    assert_clean(run)
    played = [step.text for step in run.result.steps if step.kind == "play"]
    assert played[-2:] == ["ivr/one-moment", "ivr/transfer-general"], played
    assert run.result.variables["IVR_QUEUE"] == "support-general"
    assert "IVR_TICKET" not in run.result.variables
    assert (await pin_load.counts(stores.redis))[PinLoad.SHED] == 1
