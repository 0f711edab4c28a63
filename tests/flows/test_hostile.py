"""Hostile callers and files: PIN guessing, enumeration, every key, CSV injection.

Against the real server and Redis with the strict fake Asterisk (tests/flows/test_fuzz.py
has the random sequences; these are the targeted attacks).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections.abc import AsyncIterator
from typing import Literal

import pytest
from argon2 import PasswordHasher
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis

from ivr.config import Settings
from ivr.domain.imports import ImportRejected, parse_resellers, parse_systems
from ivr.domain.records import Route
from ivr.services import build_agi_server
from ivr.store import keys
from ivr.store.lockout import Lockout, LockoutPolicy
from ivr.store.pins import MEMORY_KIB, PARALLELISM, TIME_COST, PinHasher, default_hasher
from ivr.store.stores import Stores
from tests.support.calls import EMERGENCY, played
from tests.support.harness import OPEN_HOURS, Clock, Line

KEYS = "0123456789*#"
WRONG = ("1111", "2222", "3333")
NOW = OPEN_HOURS.astimezone(dt.UTC)


async def audit_entries(redis: Redis) -> list[dict[str, str]]:
    """The audit stream's entries, oldest first."""
    entries = await redis.xrange(keys.AUDIT) or []
    return [{str(k): str(v) for k, v in (entry or {}).items()} for _, entry in entries]


@pytest.fixture
async def second_worker(stores: Stores, settings: Settings, clock: Clock) -> AsyncIterator[Line]:
    """Another FastAGI worker on the same Redis, as a second `ivr serve` would be."""
    server = build_agi_server(stores, settings, clock)
    host, port = await server.start("127.0.0.1", 0)
    try:
        yield Line(server, host, port)
    finally:
        await server.close()


async def test_lockouts_double_within_a_day_up_to_the_cap(redis: Redis) -> None:
    """Each lockout of the same account lasts twice the one before, capped; each is audited."""
    lockout = Lockout(
        redis, LockoutPolicy(max_failures=2, window_seconds=3600, lock_seconds=100,
                             max_lock_seconds=350)
    )  # fmt: skip
    durations = []
    for round_ in range(4):
        for _ in range(2):
            await lockout.record_failure("7001", f"97255500{round_}{_}", NOW)
        durations.append(await redis.ttl(keys.lock_account("7001")))
        await redis.delete(keys.lock_account("7001"))  # the lockout runs out
    assert [round(d, -1) for d in durations] == [100, 200, 350, 350]
    audit = [e for e in await audit_entries(redis) if e["scope"] == "account"]
    assert [e["seconds"] for e in audit] == ["100", "200", "350", "350"]
    assert [e["lockouts_today"] for e in audit] == ["1", "2", "3", "4"]


async def test_guessing_across_workers_and_numbers_locks_the_account(
    line: Line, second_worker: Line, redis: Redis
) -> None:
    """Six wrong PINs spread over two workers and six calling numbers lock account 1001.

    Afterwards even the right PIN is refused, and the caller hears exactly what a
    wrong PIN sounds like on a locked account: no oracle.
    """
    for index in range(2):
        worker = (line, second_worker)[index]
        for attempt, pin in enumerate(WRONG):
            await worker.call(f"1 1001# {pin}#", caller=f"97255501{index}{attempt}")
    right = await second_worker.call("1 1001# 2468# # 123456# 1 #", caller="9725550300")
    wrong = await line.call("1 1001# 1111#", caller="9725550301")
    assert "IVR_TICKET" not in right.variables
    assert played(right) == played(wrong)
    assert right.variables == wrong.variables
    assert right.variables["IVR_QUEUE"] == "support-general"
    audit = await audit_entries(redis)
    assert [e["subject"] for e in audit if e["scope"] == "account"] == ["1001"]


async def test_guessing_many_accounts_from_one_number_locks_the_number(
    line: Line, second_worker: Line, redis: Redis
) -> None:
    """One calling number trying PINs on many accounts, via both workers, gets locked."""
    for index, account in enumerate(("3001", "3002", "3003", "3004", "3005", "3006")):
        worker = (line, second_worker)[index % 2]
        await worker.call(f"1 {account}# 1111#", caller="9725550400")
    result = await line.call("1 1002# 1357# # 567890# 1 #", caller="9725550400")
    assert "IVR_TICKET" not in result.variables
    audit = await audit_entries(redis)
    assert [e["subject"] for e in audit if e["scope"] == "caller"] == ["9725550400"]


async def test_other_resellers_host_id_sounds_exactly_like_unknown(line: Line) -> None:
    """Reseller 1001 probing 1002's Host ID hears exactly what an unknown Host ID gives."""
    mine_unknown = await line.call("1 1001# 2468# # 999999# 1 999998# 1 999997# 1")
    theirs = await line.call("1 1001# 2468# # 567890# 1 567890# 1 567890# 1")
    assert played(theirs) == played(mine_unknown)
    assert theirs.variables == mine_unknown.variables
    assert [s.text for s in theirs.steps if s.kind == "say"] == [
        s.text.replace("999999", "567890").replace("999998", "567890").replace("999997", "567890")
        for s in mine_unknown.steps
        if s.kind == "say"
    ]


async def test_other_resellers_ticket_sounds_exactly_like_unknown(line: Line) -> None:
    """Ticket 10001 (reseller 1001's) looked up by 1002 gives the unknown-ticket answer."""
    await line.call(EMERGENCY)
    theirs = await line.call("3 1002# 1357# 10001# 10001# 10001#")
    unknown = await line.call("3 1002# 1357# 99999# 99999# 99999#")
    assert played(theirs) == played(unknown)
    assert theirs.variables == unknown.variables


async def test_every_key_and_length_at_every_entry(line: Line) -> None:
    """Each key, alone or repeated to 1, 12 and 40 presses, at each prompt that takes keys.

    The call always ends with a route for the dialplan (never silence) and the
    service closes the socket; the fake Asterisk fails on any malformed command.
    """
    prefix = ["1", "1001#", "2468#", "123456#", "1"]
    for position in range(len(prefix)):
        for key in KEYS:
            for length in (1, 12, 40):
                answers = [*prefix[:position], key * length, *prefix[position + 1 :], "#"]
                result = await line.call(" ".join(answers))
                assert result.variables.get("IVR_ROUTE") in {r.value for r in Route}, answers
                assert result.closed_by_service


async def test_old_hash_parameters_verify_and_are_upgraded(line: Line, stores: Stores) -> None:
    """A PIN hashed with other argon2 parameters still works and is rehashed at login."""
    old = PasswordHasher(time_cost=1, memory_cost=2048, parallelism=2).hash("2468")
    await stores.directory.set_pin_hash("1001", old)
    result = await line.call(EMERGENCY)
    assert "IVR_TICKET" in result.variables
    stored = str(await stores.redis.hget(keys.reseller("1001"), "pin_hash"))
    assert stored != old
    assert stored.startswith("$argon2id$")
    assert not stores.pins.needs_rehash(stored)


async def test_wrong_pin_does_not_rehash(line: Line, stores: Stores) -> None:
    """Only a verified PIN replaces an old hash."""
    old = PasswordHasher(time_cost=1, memory_cost=2048, parallelism=2).hash("2468")
    await stores.directory.set_pin_hash("1001", old)
    await line.call("1 1001# 1111#")
    assert await stores.redis.hget(keys.reseller("1001"), "pin_hash") == old


def test_default_pin_hash_is_owasp_minimum_argon2id() -> None:
    """The service hashes with argon2id, 19 MiB, 2 passes, 1 lane (OWASP's minimum)."""
    hashed = default_hasher().hash("2468")
    assert hashed.startswith(f"$argon2id$v=19$m={MEMORY_KIB},t={TIME_COST},p={PARALLELISM}$")
    assert (MEMORY_KIB, TIME_COST, PARALLELISM) == (19456, 2, 1)


class CountingHasher(PasswordHasher):
    """Counts how many verifications run at the same moment."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.lock = threading.Lock()
        self.running = self.most = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:  # noqa: A002
        """Verify, noting the concurrency."""
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.002)
            return super().verify(hash, password)
        finally:
            with self.lock:
                self.running -= 1


async def test_hash_pool_is_bounded() -> None:
    """However many checks are waiting, at most ``threads`` run at once."""
    hasher = CountingHasher()
    pins = PinHasher(hasher, threads=2)
    stored = await pins.hash("2468")
    try:
        results = await asyncio.gather(*(pins.verify(stored, "2468") for _ in range(40)))
    finally:
        pins.close()
    assert all(results)
    assert hasher.most == 2


FORMULA = st.sampled_from(["=", "+", "-", "@"])


@given(lead=st.text(" ", max_size=3), start=FORMULA, rest=st.text(max_size=30))
def test_formula_cells_never_stored(lead: str, start: str, rest: str) -> None:
    """A name or customer starting with =, +, - or @ (even after spaces) is rejected."""
    cell = '"' + (lead + start + rest).replace('"', '""') + '"'
    with pytest.raises(ImportRejected):
        parse_resellers(f"account,name,pin,phones\n1001,{cell},,\n")
    with pytest.raises(ImportRejected):
        parse_systems(
            f"host_id,reseller_account,end_customer,system_type,software_release,tier,"
            f"support_expires,warranty_expires\n123456,1001,{cell},B,C,standard,2030-01-01,\n"
        )


@given(name=st.text(min_size=1, max_size=60))
def test_accepted_names_are_safe_to_export(name: str) -> None:
    """Whatever text is accepted has no control character and no formula start."""
    cell = '"' + name.replace('"', '""') + '"'
    try:
        rows = parse_resellers(f"account,name,pin,phones\n1001,{cell},,\n")
    except ImportRejected:
        return
    stored = rows[0].reseller.name
    assert not stored.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert not any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in stored)


@pytest.mark.parametrize("size", [10_000, 5_000_000])
def test_huge_field_is_rejected_with_its_line(size: int) -> None:
    """A field of kilobytes or megabytes is refused with line 3, nothing kept."""
    text = "account,name,pin,phones\n1001,Fine,,\n1002," + "x" * size + ",,\n"
    with pytest.raises(ImportRejected) as caught:
        parse_resellers(text)
    assert caught.value.errors[0].line == 3
    assert len(str(caught.value)) < 500


async def test_pin_keyed_as_account_number_stays_out_of_redis(line: Line, redis: Redis) -> None:
    """A caller out of step types their PIN at the account prompt: no key or value holds it."""
    for caller in ("9725550501", "9725550502"):
        await line.call("1 2468# 2468# 2468# 2468# 2468# 2468#", caller=caller)
    names = [str(k) async for k in redis.scan_iter()]
    assert any(n.startswith("ivr:lock:account:unknown-") for n in names), names
    assert not [n for n in names if "2468" in n]
    assert all("2468" not in str(e) for e in await audit_entries(redis))
