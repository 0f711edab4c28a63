"""Graceful overload: 300 callers reaching their PIN prompt within one second.

``ivr serve`` at the product's PIN cost (argon2id at OWASP's minimum) and the
default limit of silence (``IVR_PIN_QUEUE_MAX_SECONDS``, 2 s). 300 calls (option
2: each its own ticket) start evenly over one second and key at once, so every
PIN check arrives within about a second: more than two cores check within the
limit. Each call's longest silence is measured (``tests/support/silence.py``:
the simulated Asterisk plays a prompt in no time, so the time from answering
one command to the next is time the caller heard nothing). The peer is the same
burst against a service whose limit is out of reach: what callers heard before
admission control. Shed callers must be counted by the service (``ivr_pin_shed``)
and every other call must end with its ticket in the tier's queue.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import redis

from bench.common import Figure, ivr_serve, ratio
from ivr.agi.simulator import FakeAsterisk, SimulatedCall
from ivr.domain.admission import QUIET_LIMIT_SECONDS
from ivr.flows.prompts import sound_exists
from ivr.store import keys
from ivr.store.pin_load import PinLoad
from ivr.tester.load import PIN_LIMIT_OUT_OF_REACH, REQUEST
from tests.support.silence import SilenceMeter

CALLS = 300
RAMP_SECONDS = 1.0
GOAL_MARGIN = 0.5  # seconds over the limit the longest silence may reach
CALL_TIMEOUT = 120.0
NAME = "overload"


@dataclass
class Burst:
    """What one burst of calls heard."""

    longest: float = 0.0
    longest_after: str = ""  # the command whose answer the longest silence followed
    shed: int = 0
    one_moment: int = 0
    ticketed: int = 0
    failed: list[str] = field(default_factory=list)
    counted_shed: int = 0  # what the service counted (ivr_pin_shed)


async def one_call(asterisk: FakeAsterisk, index: int, burst: Burst) -> None:
    """One call started ``index / CALLS`` of the ramp in, keys pressed at once."""
    await asyncio.sleep(RAMP_SECONDS * index / CALLS)
    meter = SilenceMeter()
    call = SimulatedCall(
        caller_id=f"9{index:09d}",
        answers=SimulatedCall.parse_dtmf(REQUEST),
        sound_exists=sound_exists("ivr"),
        before_answer=meter,
    )
    try:
        result = await asterisk.place(call, timeout=CALL_TIMEOUT)
    except OSError as exc:
        burst.failed.append(f"call {index}: {exc}")
        return
    if meter.longest > burst.longest:
        burst.longest = meter.longest
        burst.longest_after = max(meter.gaps)[1]
    played = [step.text for step in result.steps if step.kind == "play"]
    burst.one_moment += "ivr/one-moment" in played
    if result.violations:
        burst.failed.append(f"call {index}: {result.violations}")
    elif result.variables.get("IVR_TICKET"):
        burst.ticketed += 1
    elif result.variables.get("IVR_QUEUE") == "support-general" and "ivr/enter-host-id" not in str(
        result.commands
    ):
        burst.shed += 1
    else:
        burst.failed.append(f"call {index}: {result.variables}")


async def burst(port: int) -> Burst:
    """CALLS calls whose starts are spread over RAMP_SECONDS."""
    out = Burst()
    asterisk = FakeAsterisk("127.0.0.1", port)
    await asyncio.gather(*(one_call(asterisk, i, out) for i in range(CALLS)))
    return out


def counted_shed(redis_url: str) -> int:
    """What the service counted as shed (the figure behind ``ivr_pin_shed``)."""
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        return int(client.hget(keys.PIN_LOAD, PinLoad.SHED.value) or 0)


async def measure(redis_url: str) -> list[Figure]:
    """The longest silence and the callers shed, with admission control and without."""
    with ivr_serve(redis_url) as served:
        controlled = await burst(served.agi_port)
    controlled.counted_shed = counted_shed(redis_url)
    with redis.Redis.from_url(redis_url) as client:
        client.flushall()
    with ivr_serve(redis_url, PIN_LIMIT_OUT_OF_REACH) as served:
        uncontrolled = await burst(served.agi_port)
    goal = QUIET_LIMIT_SECONDS + GOAL_MARGIN
    whole = not controlled.failed and controlled.shed + controlled.ticketed == CALLS
    return [
        Figure(
            f"{NAME}: longest silence, {CALLS} callers reaching the PIN within "
            f"{RAMP_SECONDS:g} s (s; peer: limit out of reach)",
            controlled.longest,
            uncontrolled.longest,
            ratio(controlled.longest, uncontrolled.longest),
            f"<= {goal:g} s (limit {QUIET_LIMIT_SECONDS:g} s + {GOAL_MARGIN:g})",
            controlled.longest <= goal and whole,
        ),
        Figure(
            f"{NAME}: callers shed to the general queue, of {CALLS} (peer: limit out of reach)",
            controlled.shed,
            uncontrolled.shed,
            0.0,
            "every shed caller counted (ivr_pin_shed), every other call ticketed",
            whole and controlled.counted_shed == controlled.shed,
        ),
        Figure(
            f"{NAME}: callers told 'one moment', of {CALLS} (peer: limit out of reach)",
            controlled.one_moment,
            uncontrolled.one_moment,
            0.0,
            "reported",
            whole,
        ),
    ]
