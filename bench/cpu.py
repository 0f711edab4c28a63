"""CPU per whole support-line call: FastAGI server against a classic AGI script per call.

FastAGI: the CPU time the ``ivr serve`` process spent (from /proc) over N whole
emergency calls, divided by N. Classic: ``agi_scripts/support-line.py`` spawned
once per call as Asterisk does (environment block on stdin, commands answered on
its stdout), its whole CPU time counted, interpreter start and imports included
(``RUSAGE_CHILDREN`` of this process, which reaps it).
"""

from __future__ import annotations

import asyncio
import itertools
import resource
import tempfile
import time

import redis
from argon2 import PasswordHasher

from bench.common import (
    EMERGENCY,
    ROOT,
    Figure,
    Served,
    cpu_seconds,
    ivr_environ,
    ivr_serve,
    ratio,
)
from bench.turnaround import CHEAP_ENV, cheap_pin_hash
from ivr.agi.simulator import DEFAULT_ENV_TEMPLATE, CallResult, FakeAsterisk, SimulatedCall
from ivr.agi.simulator import _Session as AsteriskSession
from ivr.flows.prompts import sound_exists
from ivr.store import keys

SCRIPT = ROOT / "agi_scripts" / "support-line.py"
CALLER = "9725550100"  # an unknown number: account and PIN are asked
ACCOUNT, PIN = "1001", "2468"  # the demo reseller the emergency call signs in as
HASH_TRIALS = 5
_ids = itertools.count(1)


def emergency_call() -> SimulatedCall:
    """The measured call: menu 1, account, PIN, Host ID, confirm, description."""
    return SimulatedCall(
        caller_id=CALLER,
        answers=SimulatedCall.parse_dtmf(EMERGENCY),
        sound_exists=sound_exists("ivr"),
    )


def classic_block(call: SimulatedCall) -> bytes:
    """The environment block classic AGI writes to a script's stdin."""
    seq = next(_ids)
    values = {
        "script": "support-line.py",
        "host": "",
        "port": "",
        "seq": seq,
        "uniqueid": f"1795570000.{seq}",
        "callerid": call.caller_id,
        "calleridname": call.caller_name,
        "dialed": call.dialed,
    }
    lines = [
        f"{key}: {template.format(**values)}"
        for key, template in DEFAULT_ENV_TEMPLATE
        if key not in {"agi_network", "agi_network_script"}
    ]
    return ("\n".join(lines) + "\n\n").encode()


async def classic_call(environ: dict[str, str]) -> CallResult:
    """Spawn the script as Asterisk does and answer its commands until it exits."""
    call = emergency_call()
    result = CallResult(route="support-line")
    session = AsteriskSession(call, result)
    process = await asyncio.create_subprocess_exec(
        str(SCRIPT),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=environ,
    )
    if process.stdin is None or process.stdout is None:
        raise RuntimeError("the script's pipes are missing")
    process.stdin.write(classic_block(call))
    async with asyncio.timeout(60):
        while raw := await process.stdout.readline():
            replies = session.answer(raw.decode().rstrip("\n"))
            process.stdin.write("".join(r + "\n" for r in replies).encode())
            await process.stdin.drain()
        process.stdin.close()
        await process.wait()
    return result


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _fastagi_calls(port: int, calls: int, concurrency: int) -> list[CallResult]:
    asterisk = FakeAsterisk("127.0.0.1", port)
    limit = asyncio.Semaphore(concurrency)

    async def one() -> CallResult:
        async with limit:
            return await asterisk.place(emergency_call(), timeout=60)

    return await asyncio.gather(*(one() for _ in range(calls)))


def _check(results: list[CallResult]) -> None:
    for result in results:
        if result.violations or not result.variables.get("IVR_TICKET"):
            raise RuntimeError(f"a measured call failed: {result.violations or result.variables}")


async def cpu_per_call(
    redis_url: str, served: Served, calls: int, scripts: int, extra: dict[str, str] | None = None
) -> tuple[float, float]:
    """CPU ms per call: the FastAGI server's share, and a classic script's whole."""
    before = cpu_seconds(served.pid)
    _check(await _fastagi_calls(served.agi_port, calls, 10))
    fastagi_ms = (cpu_seconds(served.pid) - before) * 1000 / calls
    with tempfile.TemporaryDirectory() as data:
        environ = ivr_environ(redis_url, data) | (extra or {})  # the server's PIN cost too
        before = _children_cpu()
        _check([await classic_call(environ) for _ in range(scripts)])
        classic_ms = (_children_cpu() - before) * 1000 / scripts
    return fastagi_ms, classic_ms


async def measure(redis_url: str, fastagi_calls: int = 200, classic_calls: int = 6) -> list[Figure]:
    """CPU ms per call both ways, in the same run against the same Redis and data.

    Then both again with a minimum-cost PIN hash stored: what the calls cost
    besides the hash, which both kinds pay alike.
    """
    with ivr_serve(redis_url) as served:
        _check(await _fastagi_calls(served.agi_port, 5, 5))  # warm-up: imports, scripts
        fastagi_ms, classic_ms = await cpu_per_call(redis_url, served, fastagi_calls, classic_calls)
        product_hash_ms, owasp_hash_ms = hash_cpu_ms(redis_url)
    with ivr_serve(redis_url, CHEAP_ENV) as served:
        cheap_pin_hash(redis_url)
        bare_fastagi, bare_classic = await cpu_per_call(
            redis_url, served, fastagi_calls, classic_calls, CHEAP_ENV
        )
    cheaper = ratio(classic_ms, fastagi_ms)
    return [
        Figure(
            "CPU per call, FastAGI server (ms; peer: classic AGI script; ratio: x cheaper)",
            round(fastagi_ms, 2),
            round(classic_ms, 2),
            round(cheaper, 2),
            ">= 20x cheaper",
            cheaper >= 20,
        ),
        Figure(
            "PIN verify CPU, the stored argon2id hash (ms; peer: OWASP minimum m=19MiB t=2 p=1)",
            round(product_hash_ms, 2),
            round(owasp_hash_ms, 2),
            round(ratio(product_hash_ms, owasp_hash_ms), 2),
            "(diagnostic: both call kinds pay it)",
            True,
        ),
        Figure(
            "CPU per call with a minimum-cost PIN hash, FastAGI (ms; peer: classic; x cheaper)",
            round(bare_fastagi, 2),
            round(bare_classic, 2),
            round(ratio(bare_classic, bare_fastagi), 2),
            "(diagnostic: 20x goal without the hash)",
            True,
        ),
    ]


def hash_cpu_ms(redis_url: str) -> tuple[float, float]:
    """CPU ms of one verify of the demo reseller's stored hash, and of an OWASP-minimum one.

    Process CPU time, so argon2's own lane threads are counted.
    """
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        stored = str(client.hget(keys.reseller(ACCOUNT), "pin_hash"))
    owasp = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
    results = []
    for hasher, hashed in ((PasswordHasher(), stored), (owasp, owasp.hash(PIN))):
        started = time.process_time()
        for _ in range(HASH_TRIALS):
            hasher.verify(hashed, PIN)
        results.append((time.process_time() - started) * 1000 / HASH_TRIALS)
    return results[0], results[1]
