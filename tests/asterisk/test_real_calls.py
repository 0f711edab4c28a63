"""Whole calls through a real Asterisk 22 running the project's dialplan, unchanged.

Four private Asterisks boot for this module (``tests/support/asterisk.py``):
``day`` and ``night`` each with an ``ivr serve`` whose clock starts on a Wednesday
at 10:00 or 22:00 in Chicago, ``down`` whose FastAGI service does not run, and
``norec`` whose service records into a directory that does not exist. Callers
and engineers are Local channels played through AMI (``tests/support/switchboard.py``):
keys are pressed only while the service waits for them. Every scenario runs at
once, in real time (the prompts are played), then each test below asserts what
Asterisk itself reported (VarSet, QueueCallerJoin, DialBegin/DialEnd,
BridgeEnter, Hangup) and what Redis holds.

Without an Asterisk (``IVR_TEST_ASTERISK`` or the shared bundle) the module is
skipped with one line saying how to enable it; with ``IVR_REQUIRE_ASTERISK=1``
(``.ci/run`` sets it) that is a failure instead.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
from redis.asyncio import Redis

from ivr.domain.codec import to_json
from ivr.domain.oncall import Engineer, Rotation
from ivr.services import redis_client
from ivr.store import keys
from ivr.store.accounts import Accounts, UserRole
from ivr.store.directory import Directory
from ivr.store.imports import import_systems
from ivr.store.oncall import OnCallStore
from ivr.store.tickets import TicketStore
from tests.support.asterisk import ROOT, find_asterisk, why_no_asterisk
from tests.support.harness import CHICAGO, free_port, wait_for
from tests.support.helpdesk_receiver import Delivery, Receiver
from tests.support.helpdesk_sender import SECRET as HELPDESK_SECRET
from tests.support.helpdesk_sender import event_body, post_event
from tests.support.pin_guard import PinGuard
from tests.support.real_line import Rig, rig
from tests.support.redis_server import redis_server
from tests.support.switchboard import PlacedCall, Switchboard

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(300)]

if (_missing := why_no_asterisk()) is not None and os.environ.get("IVR_REQUIRE_ASTERISK") != "1":
    pytest.skip(_missing, allow_module_level=True)

DAY = "2026-11-25T10:00:00-06:00"  # Wednesday morning: every tier is open
NIGHT = "2026-11-25T22:00:00-06:00"  # Wednesday night: only Premium Plus, through on-call
RESELLER_PHONE = "2145550100"  # reseller 1001's caller ID: "welcome back", PIN only
PIN = "2468"
# One Premium Plus system per emergency scenario, so that no two join one ticket.
TEST_SYSTEMS = (
    "host_id,reseller_account,end_customer,system_type,software_release,tier,"
    "support_expires,warranty_expires\n"
    + "\n".join(
        f"7000{n:02d},1001,Test Hospital {n},UCX450,7.2,premium_plus,2030-12-31,2027-12-31"
        for n in range(1, 10)
    )
)
ANA = Engineer("Ana Ruiz", "Local/801@ivr-test-engineers/n")
BEN = Engineer("Ben Okafor", "Local/802@ivr-test-engineers/n")
# The night's other rotation: engineers whose phones ring 5 s and are never picked up.
CY = Engineer("Cy Park", "Local/811@ivr-test-absent/n")
DEE = Engineer("Dee Moss", "Local/812@ivr-test-absent/n")
ROTATIONS = {"night": ((ANA, BEN), (15, 15, 15)), "night-absent": ((CY, DEE), (5, 5, 5))}
SCENARIO_SECONDS = 150.0
# The helpdesk the day's service delivers its ticket events to (the reference receiver).
HELPDESK_PORT = free_port()


def emergency(host_id: str) -> list[str | None]:
    """What a recognised reseller keys for an emergency on ``host_id`` (menu, PIN, no
    helpdesk ticket in hand, Host ID, confirmation, end of the description)."""
    return ["1", f"{PIN}#", "#", f"{host_id}#", "1", "#"]


@dataclass(slots=True)
class Line:
    """One rig as the scenarios use it: its switchboard, Redis, API token and helpdesk."""

    rig: Rig
    board: Switchboard
    redis: Redis
    token: str = ""
    helpdesk: Receiver | None = None

    async def api(self, path: str) -> Any:
        """GET a supervisors' API route of the rig's service."""
        url = f"http://127.0.0.1:{self.rig.web_port}{path}"
        headers = {"Authorization": f"Bearer {self.token}"}
        async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as r:
            r.raise_for_status()
            return await r.json()


@dataclass(slots=True)
class Outcome:
    """What a scenario saw: its calls, what the API showed, what Redis held at the end."""

    calls: dict[str, PlacedCall] = field(default_factory=dict)
    seen: dict[str, Any] = field(default_factory=dict)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    paging: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    redis: dict[str, Any] = field(default_factory=dict)


Scenario = Callable[[dict[str, Line]], Awaitable[Outcome]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    """Register a scenario of the module's one concurrent run."""

    def register(play: Scenario) -> Scenario:
        SCENARIOS[name] = play
        return play

    return register


async def keep(outcome: Outcome, line: Line, number: str) -> None:
    """Note the ticket as Redis holds it, with its paging log."""
    store = TicketStore(line.redis)
    ticket = await store.get(number)
    assert ticket is not None, f"no ticket {number} in Redis"
    outcome.tickets[number] = to_json(ticket)
    outcome.paging[number] = await store.paging_log(number)


async def queued(line: Line, call: PlacedCall, queue: str) -> None:
    """Wait until the caller is in ``queue``, then hang up (the agents never answer)."""
    await call.wait_for("QueueCallerJoin", Queue=queue)
    await line.board.hang_up(call)
    await call.wait_for("Hangup", Uniqueid=call.line_id)


# ---------------------------------------------------------------------------
# The scenarios: each places its calls on one rig and notes what it saw.


@scenario("in-hours emergency")
async def _in_hours_emergency(lines: dict[str, Line]) -> Outcome:
    day, out = lines["day"], Outcome()
    call = out.calls["caller"] = await day.board.call(
        "emergency", caller_id=RESELLER_PHONE, answers=emergency("700001")
    )
    await call.wait_for("QueueCallerJoin", Queue="support-premium-plus")
    ticket = call.line_variables()["IVR_TICKET"]
    async with asyncio.timeout(20):  # the supervisors' board shows the waiting caller
        while True:
            board = await day.api("/api/queues")
            queue = next(q for q in board["queues"] if q["name"] == "support-premium-plus")
            waiting = [c for c in queue["callers"] if c["ticket"] == ticket]
            if waiting and waiting[0]["reseller"]:
                out.seen["board caller"] = waiting[0]
                break
            await asyncio.sleep(0.3)
    await day.board.hang_up(call)
    await call.wait_for("Hangup", Uniqueid=call.line_id)
    await keep(out, day, ticket)
    record = await day.redis.hgetall(keys.call(call.line_id))
    out.redis["call record"] = record
    return out


@scenario("after hours, secondary accepts")
async def _secondary_accepts(lines: dict[str, Line]) -> Outcome:
    night, out = lines["night"], Outcome()
    call = out.calls["caller"] = await night.board.call(
        "accepted",
        caller_id=RESELLER_PHONE,
        answers=emergency("700002"),
        engineers={"801": "2", "802": "1"},  # the primary declines, the secondary accepts
    )
    bridged = await call.wait_for("BridgeEnter", Uniqueid=call.line_id)
    bridge = bridged.get("BridgeUniqueid")
    peers = [
        m.get("Channel") for m in call.of("BridgeEnter", BridgeUniqueid=bridge)
        if m.get("Uniqueid") != call.line_id
    ]  # fmt: skip
    out.seen["bridged with"] = peers
    await asyncio.sleep(1)
    await night.board.hang_up_channel(peers[0])  # the engineer puts the phone down
    await call.wait_for("Hangup", Uniqueid=call.line_id)
    await keep(out, night, call.line_variables()["IVR_TICKET"])
    return out


@scenario("after hours, nobody accepts")
async def _nobody_accepts(lines: dict[str, Line]) -> Outcome:
    night, out = lines["night-absent"], Outcome()
    call = out.calls["caller"] = await night.board.call(
        "unaccepted",
        caller_id=RESELLER_PHONE,
        answers=[*emergency("700003"), "#"],  # and the message after the chain
    )
    await call.wait_for("Hangup", Uniqueid=call.line_id)
    ticket = call.line_variables()["IVR_TICKET"]
    out.redis["repage at"] = await night.redis.zscore(keys.REPAGE, ticket)
    await keep(out, night, ticket)
    return out


@scenario("caller hangs up while the chain rings")
async def _hangs_up_while_ringing(lines: dict[str, Line]) -> Outcome:
    night, out = lines["night-absent"], Outcome()
    call = out.calls["caller"] = await night.board.call(
        "gone", caller_id=RESELLER_PHONE, answers=emergency("700004")
    )
    await call.wait_for("DialBegin", Uniqueid=call.line_id)
    await night.board.hang_up(call)
    await call.wait_for("Hangup", Uniqueid=call.line_id)
    ticket = call.line_variables()["IVR_TICKET"]
    out.seen["repage"] = await repage_of(night, ticket)
    await keep(out, night, ticket)
    return out


async def repage_of(line: Line, ticket: str) -> dict[str, str]:
    """The first re-page call Asterisk placed for ``ticket``: its channel and round."""
    async with asyncio.timeout(60):
        while True:
            for message in line.board.others("VarSet", Variable="IVR_TICKET", Value=ticket):
                uniqueid = message.get("Uniqueid")
                rounds = line.board.others("VarSet", Uniqueid=uniqueid, Variable="IVR_PAGE_ROUND")
                if rounds:
                    return {"channel": message.get("Channel"), "round": rounds[0].get("Value")}
            await asyncio.sleep(0.3)


@scenario("helpdesk ticket escalated by phone")
async def _escalated(lines: dict[str, Line]) -> Outcome:
    day, out = lines["day"], Outcome()
    body = event_body(number="78001", host_id="700008", end_customer="Test Hospital 8")
    url = f"http://127.0.0.1:{day.rig.web_port}/api/helpdesk/events"
    out.seen["posted"] = await post_event(url, body)
    call = out.calls["caller"] = await day.board.call(
        "escalation", caller_id=RESELLER_PHONE, answers=["1", f"{PIN}#", "78001#", "1", "#"]
    )
    await queued(day, call, "support-premium-plus")
    helpdesk = day.helpdesk
    assert helpdesk is not None

    def escalations() -> list[Delivery]:
        return [d for d in helpdesk.accepted if d.payload["event"] == "escalated"]

    await wait_for(lambda: bool(escalations()), 30)  # the outbox delivers it, signed
    sent = escalations()
    out.seen["escalated event"] = {"signed": sent[0].signed, "payload": sent[0].payload}
    await keep(out, day, "78001")
    return out


@scenario("wrong PINs to lockout")
async def _lockout(lines: dict[str, Line]) -> Outcome:
    day, out = lines["day"], Outcome()
    wrong = ["1", "1002#", "0000#", "1002#", "0001#", "1002#", "0002#"]
    first = out.calls["guessing"] = await day.board.call(
        "guessing", caller_id="9725550123", answers=wrong
    )
    await queued(day, first, "support-general")
    right = out.calls["right PIN, locked"] = await day.board.call(
        "locked", caller_id="9725550124", answers=["1", "1002#", "1357#"]
    )
    await queued(day, right, "support-general")
    out.redis["account locked"] = await day.redis.exists(keys.lock_account("1002"))
    entries = cast(list[tuple[str, dict[str, str]]], await day.redis.xrange(keys.AUDIT))
    out.redis["audit"] = [dict(fields) for _id, fields in entries]
    return out


@scenario("expired contract")
async def _expired(lines: dict[str, Line]) -> Outcome:
    day, out = lines["day"], Outcome()
    call = out.calls["caller"] = await day.board.call(
        "expired", caller_id=RESELLER_PHONE, answers=["2", f"{PIN}#", "456789#", "1"]
    )
    await queued(day, call, "support-renewals")
    out.redis["call record"] = await day.redis.hgetall(keys.call(call.line_id))
    return out


@scenario("option 4, warranty active")
async def _warranty_active(lines: dict[str, Line]) -> Outcome:
    day, out = lines["day"], Outcome()
    call = out.calls["caller"] = await day.board.call(
        "warranty", caller_id=RESELLER_PHONE, answers=["4", f"{PIN}#", "678901#", "1", "#"]
    )
    await queued(day, call, "support-warranty")
    await keep(out, day, call.line_variables()["IVR_TICKET"])
    return out


@scenario("option 4, warranty expired")
async def _warranty_expired(lines: dict[str, Line]) -> Outcome:
    day, out = lines["day"], Outcome()
    call = out.calls["caller"] = await day.board.call(
        "no-warranty", caller_id=RESELLER_PHONE, answers=["4", f"{PIN}#", "456789#", "1"]
    )
    await queued(day, call, "support-renewals")
    out.redis["call record"] = await day.redis.hgetall(keys.call(call.line_id))
    return out


@scenario("Standard after hours")
async def _standard_closed(lines: dict[str, Line]) -> Outcome:
    night, out = lines["night"], Outcome()
    call = out.calls["caller"] = await night.board.call(
        "closed", caller_id=RESELLER_PHONE, answers=["2", f"{PIN}#", "345678#", "1", "#"]
    )
    await call.wait_for("Hangup", Uniqueid=call.line_id)
    ticket = call.line_variables()["IVR_TICKET"]
    await keep(out, night, ticket)
    out.redis["callback at"] = await night.redis.zscore(keys.CALLBACKS, ticket)
    return out


@scenario("FastAGI service down")
async def _service_down(lines: dict[str, Line]) -> Outcome:
    down, out = lines["down"], Outcome()
    call = out.calls["caller"] = await down.board.call("down", caller_id=RESELLER_PHONE)
    await queued(down, call, "support-general")
    return out


@scenario("recording directory missing")
async def _no_recording_dir(lines: dict[str, Line]) -> Outcome:
    norec, out = lines["norec"], Outcome()
    call = out.calls["caller"] = await norec.board.call(
        "norec", caller_id=RESELLER_PHONE, answers=emergency("700005")
    )
    await queued(norec, call, "support-premium-plus")
    await keep(out, norec, call.line_variables()["IVR_TICKET"])
    return out


@scenario("a phone that presses its own keys")
async def _phone_keys(lines: dict[str, Line]) -> Outcome:
    day, out = lines["day"], Outcome()
    call = out.calls["caller"] = await day.board.call(
        "own-keys", caller_id=RESELLER_PHONE, answers=emergency("700009"), phone_keys=True
    )
    await queued(day, call, "support-premium-plus")
    return out


@scenario("classic AGI, in-hours emergency")
async def _classic_in_hours(lines: dict[str, Line]) -> Outcome:
    day, out = lines["day"], Outcome()
    call = out.calls["caller"] = await day.board.call(
        "classic-day", context="ivr-support-line-agi", caller_id=RESELLER_PHONE,
        answers=emergency("700006"),
    )  # fmt: skip
    await queued(day, call, "support-premium-plus")
    await keep(out, day, call.line_variables()["IVR_TICKET"])
    return out


@scenario("classic AGI, after hours, secondary accepts")
async def _classic_secondary_accepts(lines: dict[str, Line]) -> Outcome:
    night, out = lines["night"], Outcome()
    call = out.calls["caller"] = await night.board.call(
        "classic-night", context="ivr-support-line-agi", caller_id=RESELLER_PHONE,
        answers=emergency("700007"), engineers={"801": "2", "802": "1"},
    )  # fmt: skip
    bridged = await call.wait_for("BridgeEnter", Uniqueid=call.line_id)
    bridge = bridged.get("BridgeUniqueid")
    peers = [
        m.get("Channel") for m in call.of("BridgeEnter", BridgeUniqueid=bridge)
        if m.get("Uniqueid") != call.line_id
    ]  # fmt: skip
    out.seen["bridged with"] = peers
    await night.board.hang_up_channel(peers[0])
    await call.wait_for("Hangup", Uniqueid=call.line_id)
    await keep(out, night, call.line_variables()["IVR_TICKET"])
    return out


# ---------------------------------------------------------------------------
# The run: every rig booted, every scenario at once.

RIGS = {
    "day": {
        "clock_start": DAY,
        "extra": {
            "IVR_PIN_MAX_FAILURES": "3",
            "IVR_HELPDESK_URL": f"http://127.0.0.1:{HELPDESK_PORT}/tickets",
            "IVR_HELPDESK_SECRET": HELPDESK_SECRET,
        },
    },
    "night": {"clock_start": NIGHT},
    "night-absent": {"clock_start": NIGHT},
    "down": {"clock_start": DAY, "serve": False},
    "norec": {"clock_start": DAY, "extra": {"IVR_RECORDING_DIR": "/nonexistent/ivr-recordings"}},
}


async def _prepare(name: str, line: Line) -> None:
    """Test systems, a supervisor's API token and the on-call rotation of the rig."""
    await import_systems(Directory(line.redis), TEST_SYSTEMS)
    accounts = Accounts(line.redis)
    now = dt.datetime.now(dt.UTC)
    await accounts.add("watcher", UserRole.SUPERVISOR, "watcher-password-long", now)
    line.token = await accounts.new_token("watcher")
    engineers, steps = ROTATIONS.get(name, ROTATIONS["night"])
    starts = dt.datetime(2026, 11, 23, 9, 0, tzinfo=CHICAGO)
    rotation = Rotation(engineers=engineers, starts=starts, step_seconds=steps)
    await OnCallStore(line.redis).set_rotation(rotation)


async def _play(rigs: dict[str, Rig]) -> dict[str, Outcome | BaseException]:
    lines: dict[str, Line] = {}
    helpdesk = Receiver(port=HELPDESK_PORT)
    await helpdesk.start()
    try:
        for name, running in rigs.items():
            line = Line(
                running, Switchboard(running.asterisk.ami_port), redis_client(running.redis_url)
            )
            lines[name] = line
            line.helpdesk = helpdesk if name == "day" else None
            await line.board.start()
            if running.web_port is not None:  # a service runs and has loaded its demo data
                await _prepare(name, line)
        plays = [asyncio.wait_for(play(lines), SCENARIO_SECONDS) for play in SCENARIOS.values()]
        results = await asyncio.gather(*plays, return_exceptions=True)
        errors = [e for line in lines.values() for e in line.board.errors]
        assert not errors, f"the switchboard could not play its part: {errors}"
        return dict(zip(SCENARIOS, results, strict=True))
    finally:
        for line in lines.values():
            await line.board.close()
            await line.redis.aclose()
        await helpdesk.stop()


def _boot(
    managers: Mapping[str, contextlib.AbstractContextManager[Rig]], stack: contextlib.ExitStack
) -> dict[str, Rig]:
    """Boot every rig at once (each is an Asterisk and a service: seconds apiece); each one
    booted is stopped with ``stack``, even when another fails to boot."""
    with concurrent.futures.ThreadPoolExecutor(len(managers)) as pool:
        futures = {name: pool.submit(m.__enter__) for name, m in managers.items()}
        concurrent.futures.wait(futures.values())
    rigs: dict[str, Rig] = {}
    for name, future in futures.items():
        if future.exception() is None:
            stack.push(managers[name].__exit__)
            rigs[name] = future.result()
    for future in futures.values():
        future.result()  # the first boot that failed, raised
    return rigs


@dataclass(frozen=True, slots=True)
class World:
    """What the module's run saw, by scenario."""

    outcomes: dict[str, Outcome | BaseException]

    def __getitem__(self, name: str) -> Outcome:
        found = self.outcomes[name]
        if isinstance(found, BaseException):
            raise AssertionError(f"scenario {name!r} failed: {found!r}") from found
        return found


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, pin_guard: PinGuard) -> World:
    """Boot the rigs, play every scenario at once, stop the rigs; the outcomes by scenario."""
    home = tmp_path_factory.mktemp("real-asterisk")
    found = find_asterisk(home)
    if isinstance(found, str):
        if os.environ.get("IVR_REQUIRE_ASTERISK") == "1":  # CI: a skip would hide a failure
            pytest.fail(f"IVR_REQUIRE_ASTERISK=1 but {found}")
        pytest.skip(found)
    sounds = home / "prompts"
    built = subprocess.run(
        [sys.executable, "-m", "ivr.cli", "prompts", "build", "--out", str(sounds)],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    with redis_server(home / "redis") as base, contextlib.ExitStack() as stack:
        managers = {
            name: rig(found, home / name, name=name, sounds=sounds,
                      redis_url=f"{base.rsplit('/', 1)[0]}/{n}", **options)  # type: ignore[arg-type]
            for n, (name, options) in enumerate(RIGS.items(), start=1)
        }  # fmt: skip
        rigs = _boot(managers, stack)
        outcomes = asyncio.run(_play(rigs))
        for running in rigs.values():
            if running.serve_log is not None:
                pin_guard.check(running.serve_log.read_text(errors="replace"), running.name)
        failed = [name for name, o in outcomes.items() if isinstance(o, BaseException)]
        if failed:
            for running in rigs.values():
                sys.stderr.write(f"--- Asterisk {running.name}:\n{running.asterisk.tail(40)}\n")
                if running.serve_log is not None:
                    log = running.serve_log.read_text(errors="replace").splitlines()[-40:]
                    sys.stderr.write(f"--- ivr serve {running.name}:\n" + "\n".join(log) + "\n")
    return World(outcomes)


# ---------------------------------------------------------------------------
# What each scenario must show.


def test_in_hours_emergency_joins_the_premium_plus_queue_at_emergency_priority(
    world: World,
) -> None:
    """Ticket, tier queue and priority as Asterisk set and used them; AGISTATUS SUCCESS."""
    out = world["in-hours emergency"]
    call = out.calls["caller"]
    variables = call.line_variables()
    assert variables["IVR_ROUTE"] == "queue"
    assert variables["IVR_QUEUE"] == "support-premium-plus"
    assert variables["QUEUE_PRIO"] == variables["IVR_QUEUE_PRIORITY"] == "35"
    assert variables["AGISTATUS"] == "SUCCESS"
    assert call.of("QueueCallerJoin", Queue="support-premium-plus")
    ticket = out.tickets[variables["IVR_TICKET"]]
    assert ticket["emergency"] is True
    assert ticket["tier"] == "premium_plus"
    assert ticket["host_id"] == "700001"
    assert out.redis["call record"]["decision"] == "queue"


def test_the_supervisors_api_shows_the_waiting_caller(world: World) -> None:
    """While the emergency waits, /api/queues shows its reseller, tier, Host ID and ticket."""
    out = world["in-hours emergency"]
    caller = out.seen["board caller"]
    ticket = out.calls["caller"].line_variables()["IVR_TICKET"]
    assert (caller["reseller"], caller["tier"], caller["host_id"], caller["ticket"]) == (
        "1001", "premium_plus", "700001", ticket,
    )  # fmt: skip
    assert caller["emergency"] in (True, "1")


def test_after_hours_the_secondary_accepts_and_is_bridged_to_the_caller(world: World) -> None:
    """The primary declines (DialEnd ANSWER all the same), the chain goes on to the secondary,
    who presses 1 and talks to the caller; the ticket names who accepted, and when."""
    out = world["after hours, secondary accepts"]
    call = out.calls["caller"]
    dialled = [m.get("DestChannel").split("@")[0] for m in call.of("DialBegin")]
    assert dialled == ["Local/801", "Local/802"]
    first_end = call.of("DialEnd")[0]
    assert first_end.get("DialStatus") == "CONTINUE"  # the screening's GOSUB_RESULT...
    dialstatus = call.of("VarSet", Uniqueid=call.line_id, Variable="DIALSTATUS")
    assert "ANSWER" in [m.get("Value") for m in dialstatus]  # ...yet DIALSTATUS says ANSWER
    assert [c.split("@")[0] for c in out.seen["bridged with"]] == ["Local/802"]
    ticket = out.tickets[call.line_variables()["IVR_TICKET"]]
    assert ticket["acknowledged_by"] == "Ben Okafor"
    assert ticket["oncall_state"] == "accepted"
    accepted_at = dt.datetime.fromisoformat(ticket["acknowledged_at"])
    assert accepted_at.astimezone(CHICAGO).hour == 22  # on the service's (night) clock
    outcomes = [(p["step"], p["outcome"]) for p in out.paging[ticket["number"]]]
    assert outcomes == [("1", "declined"), ("2", "accepted")]


def test_after_hours_nobody_accepts_the_caller_leaves_a_message(world: World) -> None:
    """Neither engineer picks up (each rings out): the caller records a message and is hung
    up (not sent to the general queue); the ticket is unaccepted and its first re-page is
    scheduled."""
    out = world["after hours, nobody accepts"]
    call = out.calls["caller"]
    variables = call.line_variables()
    assert [m.get("DialStatus") for m in call.of("DialEnd")] == ["NOANSWER", "NOANSWER"]
    assert variables["IVR_ROUTE"] == "hangup"  # set by oncall-message
    assert not call.of("QueueCallerJoin")
    assert sum(1 for c in call.asked if c.startswith("RECORD FILE")) == 2  # problem, message
    ticket = out.tickets[variables["IVR_TICKET"]]
    assert ticket["oncall_state"] == "unaccepted"
    assert ticket["acknowledged_by"] == ""
    assert out.redis["repage at"] is not None


def test_a_caller_who_hangs_up_while_the_chain_rings_starts_re_paging(world: World) -> None:
    """The h extension tells the service: the ticket is unaccepted, and a round gap later an
    Originate rings the chain's engineer again, with the ticket and round on the channel."""
    out = world["caller hangs up while the chain rings"]
    ticket = out.tickets[out.calls["caller"].line_variables()["IVR_TICKET"]]
    assert ticket["oncall_state"] == "unaccepted"
    repage = out.seen["repage"]
    assert repage["channel"].startswith(("Local/811@ivr-test-absent", "Local/812@ivr-test-absent"))
    assert repage["round"] == "1"
    assert any(p.get("via") == "originate" for p in out.paging[ticket["number"]])


def test_a_helpdesk_ticket_is_escalated_by_phone_and_the_helpdesk_told(world: World) -> None:
    """Posted, signed, to /api/helpdesk/events; named by its number after option 1 and
    confirmed: the ticket becomes an emergency, the caller joins the Premium Plus queue at
    emergency priority, and the helpdesk receives a signed ``escalated`` event."""
    out = world["helpdesk ticket escalated by phone"]
    status, _answer = out.seen["posted"]
    assert status in (200, 201)
    call = out.calls["caller"]
    variables = call.line_variables()
    assert variables["IVR_TICKET"] == "78001"
    assert (variables["IVR_QUEUE"], variables["QUEUE_PRIO"]) == ("support-premium-plus", "35")
    assert not any("enter-host-id" in m.get("Command") for m in call.of("AGIExecStart"))
    ticket = out.tickets["78001"]
    assert ticket["emergency"] is True
    assert ticket["title"].startswith("Emergency \u2013 System Down")
    sent = out.seen["escalated event"]
    assert sent["signed"] is True
    assert sent["payload"]["ticket"]["number"] == "78001"


def test_wrong_pins_lock_the_account_and_the_right_pin_is_then_refused(world: World) -> None:
    """Three wrong PINs (IVR_PIN_MAX_FAILURES=3 here) lock account 1002; the next caller with
    the right PIN is sent to the general queue too, told only that it cannot be verified."""
    out = world["wrong PINs to lockout"]
    for call in out.calls.values():
        assert call.line_variables()["IVR_QUEUE"] == "support-general"
        assert call.of("QueueCallerJoin", Queue="support-general")
    assert out.redis["account locked"] == 1
    assert any("lockout" in json.dumps(entry) for entry in out.redis["audit"])
    refused = out.calls["right PIN, locked"]
    assert any("auth-unavailable" in m.get("Command") for m in refused.of("AGIExecStart"))


def test_an_expired_contract_goes_to_renewals_without_a_ticket(world: World) -> None:
    """The expiry date is said, the renewals queue joined, no ticket opened."""
    out = world["expired contract"]
    call = out.calls["caller"]
    variables = call.line_variables()
    assert variables["IVR_ROUTE"] == "renewals"
    assert variables.get("IVR_TICKET", "") == ""  # cleared by the dialplan, never set
    assert call.of("QueueCallerJoin", Queue="support-renewals")
    commands = [m.get("Command") for m in call.of("AGIExecStart")]
    assert any(c.startswith("SAY DATETIME") for c in commands)  # the expiry date
    assert out.redis["call record"]["ticket"] == ""


def test_option_4_with_an_active_warranty_opens_a_best_effort_ticket_in_the_warranty_queue(
    world: World,
) -> None:
    """Support expired, warranty active: a warranty ticket with no SLA, the warranty queue."""
    out = world["option 4, warranty active"]
    call = out.calls["caller"]
    variables = call.line_variables()
    assert (variables["IVR_ROUTE"], variables["IVR_QUEUE"]) == ("queue", "support-warranty")
    assert variables.get("IVR_SLA_DUE", "") == ""
    assert call.of("QueueCallerJoin", Queue="support-warranty")
    ticket = out.tickets[variables["IVR_TICKET"]]
    assert ticket["kind"] == "warranty"
    assert ticket["sla_due"] is None
    assert ticket["host_id"] == "678901"


def test_option_4_with_the_warranty_expired_too_goes_to_renewals_without_a_ticket(
    world: World,
) -> None:
    """Warranty and support both expired: renewals, and no ticket."""
    out = world["option 4, warranty expired"]
    call = out.calls["caller"]
    variables = call.line_variables()
    assert variables["IVR_ROUTE"] == "renewals"
    assert variables.get("IVR_TICKET", "") == ""
    assert call.of("QueueCallerJoin", Queue="support-renewals")
    assert out.redis["call record"]["ticket"] == ""


def test_standard_after_hours_is_closed_with_hours_sla_and_a_callback(world: World) -> None:
    """Closed: the ticket stands, the hours and the SLA and callback times are said, the
    dialplan hangs up, and the callback is scheduled for Friday 9:00 (Thursday is
    Thanksgiving, a US public holiday)."""
    out = world["Standard after hours"]
    call = out.calls["caller"]
    variables = call.line_variables()
    assert variables["IVR_ROUTE"] == "closed"
    commands = [m.get("Command") for m in call.of("AGIExecStart")]
    assert any("ivr/closed-standard" in c for c in commands)
    assert sum(1 for c in commands if c.startswith("SAY DATETIME")) == 2  # SLA, callback
    assert not call.of("QueueCallerJoin")
    callback = dt.datetime.fromtimestamp(out.redis["callback at"], CHICAGO)
    assert (callback.weekday(), callback.hour, callback.minute) == (4, 9, 0)


def test_with_the_fastagi_service_down_the_caller_reaches_the_general_queue(
    world: World,
) -> None:
    """Nothing answers FastAGI: AGISTATUS FAILURE, no route, the general queue after the
    transfer prompt; never silence, never a dropped call."""
    call = world["FastAGI service down"].calls["caller"]
    variables = call.line_variables()
    assert variables["AGISTATUS"] == "FAILURE"
    assert "IVR_ROUTE" not in variables or variables["IVR_ROUTE"] == ""
    assert call.of("QueueCallerJoin", Queue="support-general")


def test_a_missing_recording_directory_does_not_change_where_the_caller_goes(
    world: World,
) -> None:
    """RECORD FILE fails (AGISTATUS FAILURE), yet the emergency gets its ticket and joins the
    Premium Plus queue at emergency priority, as the service decided."""
    out = world["recording directory missing"]
    call = out.calls["caller"]
    variables = call.line_variables()
    assert variables["AGISTATUS"] == "FAILURE"
    assert variables["IVR_ROUTE"] == "queue"
    assert call.of("QueueCallerJoin", Queue="support-premium-plus")
    assert variables["QUEUE_PRIO"] == "35"
    ticket = out.tickets[variables["IVR_TICKET"]]
    assert ticket["emergency"] is True
    assert ticket["scenario"] == ""


def test_a_phone_that_presses_its_own_keys_gets_through_with_each_wait_timed(
    world: World,
) -> None:
    """The benchmark's callers: the phone's own SendDTMF ([ivr-test-keys]) keys the same
    emergency through to its queue, and the wait after each answer for the next command is
    read from Asterisk's event timestamps, one per answer."""
    call = world["a phone that presses its own keys"].calls["caller"]
    variables = call.line_variables()
    assert (variables["IVR_ROUTE"], variables["IVR_QUEUE"]) == ("queue", "support-premium-plus")
    assert variables["IVR_TICKET"]
    assert call.of("Newexten", Uniqueid=call.phone_id, Context="ivr-test-keys")
    waits = call.key_waits()
    asked = [command.split(" ", 2)[:2] for command, _wait in waits]
    assert asked == [["GET", "DATA"]] * 5 + [["RECORD", "FILE"]]
    assert all(0 < wait < 10 for _command, wait in waits)


def test_classic_agi_scripts_route_an_in_hours_emergency_the_same_way(world: World) -> None:
    """The same call through dialplan/support-line-agi.conf and agi_scripts/: same queue."""
    out = world["classic AGI, in-hours emergency"]
    variables = out.calls["caller"].line_variables()
    assert (variables["IVR_ROUTE"], variables["IVR_QUEUE"], variables["QUEUE_PRIO"]) == (
        "queue", "support-premium-plus", "35",
    )  # fmt: skip
    assert out.tickets[variables["IVR_TICKET"]]["emergency"] is True


def test_classic_agi_scripts_reach_the_secondary_after_hours(world: World) -> None:
    """The classic variant's screening reaches the secondary when the primary declines."""
    out = world["classic AGI, after hours, secondary accepts"]
    assert [c.split("@")[0] for c in out.seen["bridged with"]] == ["Local/802"]
    ticket = out.tickets[out.calls["caller"].line_variables()["IVR_TICKET"]]
    assert ticket["acknowledged_by"] == "Ben Okafor"


def test_every_scenario_of_the_run_has_a_test() -> None:
    """No scenario plays without a test asserting on it."""
    module = sys.modules[__name__]
    tested = Path(module.__file__ or "").read_text(encoding="utf-8")
    for name in SCENARIOS:
        assert f'world["{name}"]' in tested, name
