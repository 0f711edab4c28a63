"""Whole calls through a real Asterisk 22: how many one box carries, where the CPU goes.

The machinery is the real-Asterisk test layer's (``tests/support``): the same
discovery (``IVR_TEST_ASTERISK``, then the shared bundle; with neither every row
says "skipped: no Asterisk"), one private Asterisk running the project's
``dialplan/`` files with an ``ivr serve`` on it (``real_line.rig``), and callers
played over AMI (``switchboard``): each is a Local channel into the support line
whose phone presses the caller's answer only when the service asks for it (an
``AGIExecStart`` of GET DATA or RECORD FILE), so every prompt plays in real time
and a call lasts about 40 s.

For each N (50, 100, 200) N emergency calls start evenly over ``RAMP_SECONDS``
(so all N are in progress together for most of a call) through the FastAGI
service (``ivr-support-line``), then the same calls through the classic AGI
scripts (``ivr-support-line-agi``: a Python process per call), these only up to
the first N they do not hold (0 failed, key to prompt p95 under 150 ms): past it
they take minutes to lose calls, and the rows show 0 there. Every call is its
own reseller's (a caller ID of its own, so "welcome back", PIN only; lockouts stay
per reseller) on a Premium Plus system of its own (an emergency on a Host ID with
an open one would join it), in hours. A call counts as correct when Asterisk
reported ``IVR_ROUTE=queue``, ``IVR_QUEUE=support-premium-plus``, a ticket number
no other call got, the ticket in Redis is its Host ID's emergency, and the caller
joined that queue (``QueueCallerJoin``); the queue's agents never answer, so the
caller is hung up there.

CPU: utime+stime from /proc of Asterisk (its own; the scripts it runs and reaps
are its children's time), of ``ivr serve`` and of Redis, before the first call and
after the last hangup. Key to prompt: from the caller's last key of an answer
(``DTMFEnd`` on the line) to the service's next command (``AGIExecStart``), both
stamped by Asterisk. The PIN hashes are at the product's cost (argon2id at OWASP's
minimum), not the test layer's fast ones: an operator's box pays it. Redis is
append-only, as the managed one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import ROOT, Figure, percentile, ratio, redis_server
from bench.cpu import hash_cpu_ms
from ivr.services import redis_client
from ivr.store.directory import Directory
from ivr.store.imports import import_resellers, import_systems
from ivr.store.pins import PinHasher, default_hasher
from ivr.store.tickets import TicketStore
from ivr.tester.load import PIN_LIMIT_OUT_OF_REACH
from tests.support.asterisk import Install, find_asterisk
from tests.support.real_line import Rig, rig
from tests.support.switchboard import PlacedCall, Switchboard

STEPS = (50, 100, 200)
RAMP_SECONDS = 10.0
CALL_TIMEOUT = 150.0  # seconds a call may take to reach its queue
KEY_TO_PROMPT_MS = 150.0
SERVICE_SHARE_GOAL = 0.10  # of Asterisk's CPU
CLOCK_START = "2026-11-25T10:00:00-06:00"  # a Wednesday morning: every tier is open
QUEUE = "support-premium-plus"
PIN = "2468"
# The product's PIN cost (the rig's default is the test layer's fast hashes).
# (With PIN_LIMIT_OUT_OF_REACH: the PIN checks' admission control sheds no caller, so the
# rows measure what the box carries, not how it sheds.)
PRODUCT_PIN_COST = {"IVR_PIN_HASH_MEMORY_KIB": "19456", "IVR_PIN_HASH_TIME_COST": "2"}
FASTAGI, CLASSIC = "ivr-support-line", "ivr-support-line-agi"
SKIPPED = "skipped: no Asterisk"
NAME = "real Asterisk"


def emergency(host_id: str) -> list[str | None]:
    """A recognised reseller's emergency: menu 1, PIN, no ticket in hand, Host ID, confirm,
    end of the description (as ``tests/asterisk/test_real_calls.py`` keys it)."""
    return ["1", f"{PIN}#", "#", f"{host_id}#", "1", "#"]


@dataclass(frozen=True, slots=True)
class Caller:
    """One benchmark caller: a reseller of its own and a system of its own."""

    account: str
    phone: str
    host_id: str


def callers(count: int) -> list[Caller]:
    """``count`` distinct callers."""
    return [Caller(f"6{n:05d}", f"469{n:07d}", f"8{n:05d}") for n in range(count)]


def _directory_files(people: Sequence[Caller]) -> tuple[str, str]:
    resellers = "account,name,pin,phones\n" + "".join(
        f"{c.account},Bench Reseller {c.account},{PIN},{c.phone}\n" for c in people
    )
    systems = (
        "host_id,reseller_account,end_customer,system_type,software_release,tier,"
        "support_expires,warranty_expires\n"
        + "".join(
            f"{c.host_id},{c.account},Bench Customer {c.host_id},UCX450,7.2,premium_plus,"
            "2030-12-31,2027-12-31\n"
            for c in people
        )
    )
    return resellers, systems


@dataclass(slots=True)
class Batch:
    """N calls one way: what Asterisk reported and what the processes spent."""

    kind: str  # FASTAGI or CLASSIC
    size: int
    failures: list[str] = field(default_factory=list)
    waits_ms: list[float] = field(default_factory=list)
    waits_by_prompt: dict[str, list[float]] = field(default_factory=dict)  # the question keyed
    # CPU seconds over the batch: asterisk (its own), service (ivr serve or the scripts),
    # serve (ivr serve in either case), redis.
    cpu: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def correct(self) -> int:
        """Calls that did what the line promises."""
        return self.size - len(self.failures)

    @property
    def p95(self) -> float:
        """Key-to-prompt p95, ms."""
        return percentile(self.waits_ms, 0.95)

    def held(self) -> bool:
        """No call failed and the p95 key-to-prompt stayed under the limit."""
        return not self.failures and self.p95 < KEY_TO_PROMPT_MS

    def slowest(self, count: int = 2) -> str:
        """The questions after which the caller waited longest (p95), for the progress line."""
        by = sorted(((percentile(w, 0.95), p) for p, w in self.waits_by_prompt.items()),
                    reverse=True)  # fmt: skip
        return ", ".join(f"{prompt} {p95:.0f} ms" for p95, prompt in by[:count])

    def per_call_ms(self, what: str) -> float:
        """CPU ms per call of one process (or ``total``)."""
        return self.cpu.get(what, 0.0) * 1000 / self.size


def _stat(pid: int) -> tuple[float, float]:
    """A process's own CPU seconds and its reaped children's, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick


async def _one(board: Switchboard, call: PlacedCall) -> None:
    """Until the caller is in the queue (then hang up) or the call ended."""
    with contextlib.suppress(TimeoutError, AssertionError):
        await call.wait_for("QueueCallerJoin", timeout=CALL_TIMEOUT)
    if not call.ended.is_set():
        await board.hang_up(call)
    with contextlib.suppress(TimeoutError):
        await call.wait_for("Hangup", timeout=30, Uniqueid=call.line_id)


def _question(command: str) -> str:
    """What an input command asked: its prompt's name, or "recording"."""
    if command.startswith("RECORD FILE"):
        return "recording"
    quoted = command.split('"')
    return quoted[1].rsplit("/", 1)[-1] if len(quoted) > 1 else command


async def _check(call: PlacedCall, host_id: str, tickets: TicketStore) -> str | None:
    """Why the call is not correct (None: it is)."""
    variables = call.line_variables()
    route, queue = variables.get("IVR_ROUTE", ""), variables.get("IVR_QUEUE", "")
    number = variables.get("IVR_TICKET", "")
    if (route, queue) != ("queue", QUEUE) or not number:
        status, commands = variables.get("AGISTATUS", ""), len(call.of("AGIExecStart"))
        return (
            f"{call.name}: route {route!r}, queue {queue!r}, ticket {number!r} "
            f"(AGISTATUS {status!r} after {commands} AGI commands)"
        )
    if not call.of("QueueCallerJoin", Queue=QUEUE):
        return f"{call.name}: never joined {QUEUE}"
    ticket = await tickets.get(number)
    if ticket is None or ticket.host_id != host_id or not ticket.emergency:
        return f"{call.name}: ticket {number} is not an emergency for {host_id}: {ticket}"
    return None


async def run_batch(
    line: Rig, board: Switchboard, kind: str, people: Sequence[Caller], pids: dict[str, int]
) -> Batch:
    """Place the calls evenly over the ramp, wait for each, check each, count the CPU."""
    batch = Batch(kind, len(people))
    before = {name: _stat(pid) for name, pid in pids.items()}
    started = time.monotonic()
    waiting: list[asyncio.Task[None]] = []
    calls: list[PlacedCall] = []
    for n, caller in enumerate(people):
        call = await board.call(
            f"{kind[-3:]}-{caller.host_id}", context=kind, caller_id=caller.phone,
            answers=emergency(caller.host_id),
        )  # fmt: skip
        calls.append(call)
        waiting.append(asyncio.create_task(_one(board, call)))
        await asyncio.sleep(
            max(0.0, started + RAMP_SECONDS * (n + 1) / len(people) - time.monotonic())
        )
    await asyncio.gather(*waiting)
    batch.seconds = time.monotonic() - started
    after = {name: _stat(pid) for name, pid in pids.items()}
    spent = {name: after[name][0] - before[name][0] for name in pids}
    scripts = after["asterisk"][1] - before["asterisk"][1]
    batch.cpu = {
        "asterisk": spent["asterisk"],
        "service": spent["serve"] if kind == FASTAGI else scripts,
        "serve": spent["serve"],
        "redis": spent["redis"],
        "total": spent["asterisk"] + scripts + spent["serve"] + spent["redis"],
    }
    async with redis_client(line.redis_url) as redis:
        tickets = TicketStore(redis)
        numbers: dict[str, str] = {}
        for call, caller in zip(calls, people, strict=True):
            why = await _check(call, caller.host_id, tickets)
            number = call.line_variables().get("IVR_TICKET", "")
            if why is None and number in numbers:
                why = f"{call.name}: ticket {number} was {numbers[number]}'s too"
            numbers.setdefault(number, call.name)
            if why is not None:
                batch.failures.append(why)
            for command, wait in call.key_waits():
                batch.waits_ms.append(wait * 1000)
                prompt = _question(command)
                batch.waits_by_prompt.setdefault(prompt, []).append(wait * 1000)
    return batch


async def _prepare(line: Rig, people: Sequence[Caller]) -> int:
    """Import the callers' resellers and systems; return Redis's process id."""
    resellers, systems = _directory_files(people)
    async with redis_client(line.redis_url) as redis:
        directory = Directory(redis)
        await import_resellers(directory, PinHasher(default_hasher()), resellers)
        await import_systems(directory, systems)
        info = await redis.info("server")
    return int(info["process_id"])


async def play(line: Rig, steps: Sequence[int]) -> list[Batch]:
    """Every batch, FastAGI then classic at each N, on one Asterisk; the classic scripts
    only up to the first N they do not hold (past it they only take minutes to fail)."""
    if line.serve_pid is None or line.asterisk.process is None:
        raise RuntimeError("the rig has no service or no Asterisk")
    people = callers(2 * sum(steps))
    redis_pid = await _prepare(line, people)
    pids = {"asterisk": line.asterisk.process.pid, "serve": line.serve_pid, "redis": redis_pid}
    board = Switchboard(line.asterisk.ami_port, phone_keys=True)
    await board.start()
    batches: list[Batch] = []
    try:
        for size in steps:
            for kind in (FASTAGI, CLASSIC):
                if kind == CLASSIC and any(b.kind == CLASSIC and not b.held() for b in batches):
                    continue
                chosen, people = people[:size], people[size:]
                print(f"bench: real Asterisk, {size} calls, {kind} ...",  # noqa: T201
                      file=sys.stderr, flush=True)  # fmt: skip
                batch = await run_batch(line, board, kind, chosen, pids)
                print(f"  {batch.correct}/{size} correct in {batch.seconds:.0f} s, key to prompt "  # noqa: T201
                      f"p95 {batch.p95:.0f} ms (after {batch.slowest()}), CPU ms per call: "
                      + ", ".join(f"{k} {batch.per_call_ms(k):.1f}" for k in batch.cpu)
                      + "".join(f"\n  {why}" for why in batch.failures[:5]),
                      file=sys.stderr, flush=True)  # fmt: skip
                batches.append(batch)
                await asyncio.sleep(1)  # the last hangups settle
        if board.errors:
            raise RuntimeError(f"the switchboard could not play its part: {board.errors[:3]}")
    finally:
        await board.close()
    return batches


@contextlib.contextmanager
def _rig(found: Install, home: Path) -> Iterator[Rig]:
    sounds = home / "prompts"
    built = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "ivr.cli", "prompts", "build", "--out", str(sounds)],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    if built.returncode != 0:
        raise RuntimeError(f"ivr prompts build failed: {built.stderr}")
    with redis_server("--appendonly", "yes", "--appendfsync", "everysec") as url, rig(
        found, home, name="bench", redis_url=url, clock_start=CLOCK_START, sounds=sounds,
        extra=PRODUCT_PIN_COST | PIN_LIMIT_OUT_OF_REACH,
    ) as line:  # fmt: skip
        yield line


def measure(steps: Sequence[int] = STEPS) -> list[Figure]:
    """The real-Asterisk rows (every one "skipped: no Asterisk" without one)."""
    with tempfile.TemporaryDirectory() as work:
        found = find_asterisk(Path(work))
        if isinstance(found, str):
            print(f"bench: real Asterisk skipped: {found}", file=sys.stderr)  # noqa: T201
            return skipped(steps)
        with _rig(found, Path(work) / "rig") as line:
            batches = asyncio.run(play(line, steps))
            verify_ms, _owasp_ms = hash_cpu_ms(line.redis_url)
    return figures(batches, steps, verify_ms)


def skipped(steps: Sequence[int]) -> list[Figure]:
    """The rows, each saying there was no Asterisk to measure."""
    return [Figure(name, 0, 0, 0, SKIPPED, False) for name in _names(steps)]


def _names(steps: Sequence[int]) -> list[str]:
    classic = "peer: classic AGI, run until an N it does not hold"
    return [
        *(f"{NAME}, {n} concurrent emergency calls: completed correctly ({classic})"
          for n in steps),
        *(f"{NAME}, {n} concurrent calls: key to prompt p95 (ms; {classic})" for n in steps),
        f"{NAME}: Asterisk CPU per call, FastAGI calls (ms; peer: classic AGI calls)",
        f"{NAME}: service CPU per call, ivr serve (ms; peer: the classic AGI scripts)",
        f"{NAME}: Redis CPU per call, FastAGI calls (ms; peer: classic AGI calls)",
        f"{NAME}: service share of the whole box's CPU, ivr serve (%; peer: classic scripts)",
        f"{NAME}: service CPU over Asterisk's, ivr serve (%; peer: classic scripts)",
        f"{NAME}: service CPU over Asterisk's less the PIN verify (%; peer: the PIN verify's)",
        f"{NAME}: total CPU per call, FastAGI (ms; peer: classic AGI; ratio: FastAGI/classic)",
        f"{NAME}: largest N held, 0 failed and key to prompt p95 < 150 ms "
        "(calls; peer: classic AGI)",
    ]  # fmt: skip


def figures(batches: Sequence[Batch], steps: Sequence[int], verify_ms: float) -> list[Figure]:
    """The rows from the batches, in ``_names`` order; a classic N not run has peer 0.

    ``verify_ms``: CPU ms of one verify of the stored PIN hash, measured in the same run
    (every call pays one, in ``ivr serve`` or in its script).
    """
    names = iter(_names(steps))
    rows: list[Figure] = []

    def row(value: float, peer: float, goal: str = "(reported)", met: bool = True) -> None:
        rows.append(Figure(next(names), value, peer, round(ratio(value, peer), 3), goal, met))

    fast = {b.size: b for b in batches if b.kind == FASTAGI}
    classic = {b.size: b for b in batches if b.kind == CLASSIC}
    for n in steps:
        peer = classic[n].correct if n in classic else 0
        row(fast[n].correct, peer, f"{n} of {n} (0 failed)", fast[n].correct == n)
    for n in steps:
        p95 = round(classic[n].p95, 1) if n in classic else 0.0
        row(round(fast[n].p95, 1), p95, f"(reported) p95 < {KEY_TO_PROMPT_MS:.0f} ms")
    # CPU per call over the batches whose every call went the whole way, when there is
    # one: a call lost early (a script that never answered, say) costs little and would
    # flatter its side. Otherwise over every call placed.
    fast_all = [b for b in fast.values() if not b.failures] or list(fast.values())
    classic_all = [b for b in classic.values() if not b.failures] or list(classic.values())
    for what in ("asterisk", "service", "redis"):
        row(round(_per_call(fast_all, what), 1), round(_per_call(classic_all, what), 1))
    share = [100 * ratio(_sum(g, "service"), _sum(g, "total")) for g in (fast_all, classic_all)]
    row(round(share[0], 1), round(share[1], 1))
    over = [100 * ratio(_sum(g, "service"), _sum(g, "asterisk")) for g in (fast_all, classic_all)]
    goal = f"<= {SERVICE_SHARE_GOAL:.0%} of Asterisk's"
    row(round(over[0], 1), round(over[1], 1), goal, over[0] <= SERVICE_SHARE_GOAL * 100)
    asterisk_ms = _per_call(fast_all, "asterisk")
    verify = 100 * ratio(verify_ms, asterisk_ms)
    row(round(over[0] - verify, 1), round(verify, 1), "(diagnostic)")
    row(round(_per_call(fast_all, "total"), 1), round(_per_call(classic_all, "total"), 1))
    largest = [
        max((n for n in steps if n in g and g[n].held()), default=0) for g in (fast, classic)
    ]
    tried = ", ".join(map(str, steps))
    row(largest[0], largest[1], f">= {max(steps)} (of {tried})", largest[0] >= max(steps))
    return rows


def _sum(batches: Sequence[Batch], what: str) -> float:
    return sum(b.cpu.get(what, 0.0) for b in batches)


def _per_call(batches: Sequence[Batch], what: str) -> float:
    """CPU ms per call of one process (or ``total``) over the batches."""
    return ratio(_sum(batches, what) * 1000, sum(b.size for b in batches))
