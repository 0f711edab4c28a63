"""Server turnaround per AGI command at 1, 100 and 1,000 calls, and per step with the real hash.

The concurrency runs store a minimum-cost argon2id hash for the calling
reseller: 1,000 PIN checks at the product's cost would need minutes of CPU on
two cores, and the hash is measured on its own in the per-step run, which keeps
the product's hash and a load the machine can carry. The peer is the bare round
trip of one AGI line to ``bench.echo`` at the same number of connections.
"""

from __future__ import annotations

import redis
from argon2 import PasswordHasher

from bench.common import Figure, ivr_serve, percentile, ratio
from bench.paced import Turnarounds, echo_round_trips, echo_server, run_calls
from ivr.store import keys

ACCOUNT, PIN = "1001", "2468"
# Per level: (calls started over ramp seconds, pause before each key).
LEVELS = {1: (1, 0.0, 0.05), 100: (100, 2.0, 1.0), 1000: (1000, 8.0, 4.0)}
ROUNDS_AT_ONE = 20
STEPS = {
    "menu (option 1)": "GET DATA ivr/main-menu",
    "account number": "GET DATA ivr/enter-account",
    "PIN (argon2 verify)": "GET DATA ivr/enter-pin",
    "Host ID": "GET DATA ivr/enter-host-id",
    "Host ID confirmed (lookup)": "GET DATA ivr/host-id-confirm",
    "description recorded (ticket created)": "RECORD FILE",
}
PIN_STEP = "PIN (argon2 verify)"
OWASP_MINIMUM = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def store_pin_hash(redis_url: str, hasher: PasswordHasher) -> None:
    """Store the demo PIN hashed by ``hasher`` (argon2 reads its cost from the hash)."""
    with redis.Redis.from_url(redis_url) as client:
        client.hset(keys.reseller(ACCOUNT), "pin_hash", hasher.hash(PIN))


# The server's own PIN cost set to match the cheap hash, so it is not upgraded
# (to the product's cost) at the first good login of the run.
CHEAP_ENV = {"IVR_PIN_HASH_MEMORY_KIB": "8", "IVR_PIN_HASH_TIME_COST": "1"}


def cheap_pin_hash(redis_url: str) -> None:
    """Store a minimum-cost argon2id hash of the demo PIN (see the module docstring)."""
    store_pin_hash(redis_url, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def _check(out: Turnarounds, what: str) -> None:
    if out.failed:
        raise RuntimeError(f"{what}: {len(out.failed)} calls failed, e.g. {out.failed[:3]}")


async def measure(redis_url: str) -> list[Figure]:
    """Turnaround rows per level and the final-key-to-next-prompt rows per step."""
    figures: list[Figure] = []
    with ivr_serve(redis_url) as served:
        # Per step, with the product's hash: 30 calls over 10 s (about 3 PIN checks a second).
        steps = await run_calls(served.agi_port, 30, pause=1.0, ramp=10.0)
        _check(steps, "per-step run")
        # The same with the OWASP-minimum argon2id another branch moves to.
        store_pin_hash(redis_url, OWASP_MINIMUM)
        owasp = await run_calls(served.agi_port, 30, pause=1.0, ramp=10.0)
        _check(owasp, "per-step run, OWASP-minimum hash")
    with ivr_serve(redis_url, CHEAP_ENV) as served:
        cheap_pin_hash(redis_url)
        levels: dict[int, Turnarounds] = {}
        for level, (calls, ramp, pause) in LEVELS.items():
            out = Turnarounds()
            for _ in range(ROUNDS_AT_ONE if level == 1 else 1):
                one = await run_calls(served.agi_port, calls, pause=pause, ramp=ramp)
                _check(one, f"{level} calls")
                for step, samples in one.by_step.items():
                    out.by_step[step] += samples
            levels[level] = out
    with echo_server() as port:
        echo = {
            level: await echo_round_trips(port, level, 20 if level == 1 else 5, 0.2)
            for level in LEVELS
        }
    for level, out in levels.items():
        value, peer = out.p(0.99), percentile(echo[level], 0.99)
        at_goal = level == 1000
        figures.append(
            Figure(
                f"turnaround p99 per AGI command, {level} calls (ms; peer: echo round trip)",
                round(value, 3),
                round(peer, 3),
                round(ratio(value, peer), 2),
                "p99 <= 2 ms" if at_goal else "(reported)",
                value <= 2.0 if at_goal else True,
            )
        )
    baseline = levels[100].p(0.95)
    for name, step in STEPS.items():
        value = steps.p(0.95, step)
        limit = 150.0 if name == PIN_STEP else 50.0
        figures.append(
            Figure(
                f"final key to next prompt p95, {name} (ms; peer: turnaround p95 at 100 calls)",
                round(value, 2),
                round(baseline, 3),
                round(ratio(value, baseline), 1),
                f"p95 <= {limit:g} ms",
                value <= limit,
            )
        )
    value = owasp.p(0.95, STEPS[PIN_STEP])
    figures.append(
        Figure(
            "final key to next prompt p95, PIN with argon2id m=19MiB t=2 p=1 "
            "(ms; peer: the stored hash's)",
            round(value, 2),
            round(steps.p(0.95, STEPS[PIN_STEP]), 2),
            round(ratio(value, steps.p(0.95, STEPS[PIN_STEP])), 3),
            "(diagnostic) p95 <= 150 ms",
            value <= 150.0,
        )
    )
    return figures
