"""The ``ivr`` command as a user types it: ``main(argv)`` in-process, and whole processes."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from ivr.cli import main
from ivr.config import Settings
from ivr.services import build_agi_server
from ivr.store import keys
from ivr.store.stores import Stores
from tests.support.harness import OPEN_HOURS, Clock, Line, free_port
from tests.support.oncall import ROTATION
from tests.support.stopping import stop_process

IVR = [sys.executable, "-m", "ivr.cli"]


@pytest.fixture
def cli_env(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the CLI at the test Redis."""
    monkeypatch.setenv("IVR_REDIS_URL", redis_url)
    return redis_url


def write(tmp_path: Path, name: str, text: str) -> Path:
    """A file in the test's folder."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


RESELLERS = "account,name,pin,phones\n5001,North Texas Comms,4321,9405550100\n5002,Hill Country,,\n"
SYSTEMS = (
    "host_id,reseller_account,end_customer,system_type,software_release,tier,"
    "support_expires,warranty_expires\n"
    "777001,5001,Zephyr Clinic,UCX450,7.1.3,premium,2030-01-01,\n"
)


async def test_import_and_pin_set(
    cli_env: str, redis: Redis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Resellers and systems import; ``pin set`` reads the PIN from stdin and stores a hash."""
    assert (
        await asyncio.to_thread(
            main, ["import", "resellers", str(write(tmp_path, "r.csv", RESELLERS))]
        )
        == 0
    )
    assert (
        await asyncio.to_thread(main, ["import", "systems", str(write(tmp_path, "s.csv", SYSTEMS))])
        == 0
    )
    assert await redis.hget(keys.system("777001"), "end_customer") == "Zephyr Clinic"
    assert await redis.hget(keys.reseller("5002"), "pin_hash") is None
    code = await asyncio.to_thread(main, ["pin", "set", "5002"], io.StringIO("97531\n"))
    assert code == 0
    stored = await redis.hget(keys.reseller("5002"), "pin_hash")
    assert isinstance(stored, str)
    assert stored.startswith("$argon2id$")
    out = capsys.readouterr()
    assert "97531" not in out.out + out.err


async def test_bad_file_rejected_whole(
    cli_env: str, redis: Redis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file with bad rows stores nothing and lists every bad row by line."""
    text = RESELLERS + 'abc,Bad Account,1234,\n5003,=HYPERLINK("x"),1234,\n'
    code = await asyncio.to_thread(
        main, ["import", "resellers", str(write(tmp_path, "r.csv", text))]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "line 4" in err
    assert "line 5" in err
    assert await redis.exists(keys.reseller("5001")) == 0


async def test_pin_set_rejects_bad_pin_and_unknown_account(
    cli_env: str, redis: Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    """A non-numeric PIN or an unknown account is a clear error."""
    assert await asyncio.to_thread(main, ["pin", "set", "1001"], io.StringIO("12ab\n")) == 1
    assert await asyncio.to_thread(main, ["pin", "set", "424242"], io.StringIO("1234\n")) == 1
    err = capsys.readouterr().err
    assert "4 to 12 digits" in err
    assert "no reseller" in err


async def test_call_and_tickets_commands(
    cli_env: str, line: Line, capsys: pytest.CaptureFixture[str]
) -> None:
    """``ivr call --json`` shows route, variables, ticket, transcript; ``ivr tickets`` lists it."""
    argv = ["call", "--from", "2145550100", "--dtmf", "1 2468# # 123456# 1 #",
            "--agi-host", line.host, "--agi-port", str(line.port), "--json"]  # fmt: skip
    assert await asyncio.to_thread(main, argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["route"] == "queue"
    assert data["ticket"] == "10001"
    assert data["variables"]["IVR_EMERGENCY"] == "1"
    assert data["problems"] == []
    assert any("emergency-ticket-created" in step for step in data["transcript"])
    # The transcript carries the prompts' words from the catalogue.
    assert 'play    ivr/welcome  "Thank you for calling partner support."' in data["transcript"]
    assert await asyncio.to_thread(main, ["tickets", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [t["number"] for t in listed] == ["10001"]
    assert listed[0]["title"] == "Emergency \u2013 System Down"
    assert await asyncio.to_thread(main, ["tickets", "show", "10001"]) == 0
    assert "Acme Hospital" in capsys.readouterr().out


def test_bad_setting_is_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad IVR_* value stops the command with the variable named."""
    monkeypatch.setenv("IVR_AGI_PORT", "seventy")
    assert main(["tickets"]) == 2
    assert "IVR_AGI_PORT" in capsys.readouterr().err


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes], dict[str, str]]]:
    """``ivr serve --demo`` as a process with its own managed redis-server."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    env["IVR_DATA_DIR"] = str(tmp_path / "data")
    env["IVR_AGI_PORT"] = str(port)
    env["IVR_WEB_PORT"] = str(free_port())
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen([*IVR, "serve", "--demo"], env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while b"ivr serve ready" not in (tmp_path / "serve.log").read_bytes():
        assert process.poll() is None, (tmp_path / "serve.log").read_text()
        assert time.monotonic() < deadline, "ivr serve did not start"
        time.sleep(0.1)
    try:
        yield port, process, env
    finally:
        stop_process(process, "ivr serve", 20)
        log.close()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.slow
def test_serve_and_call_end_to_end(
    served: tuple[int, subprocess.Popen[bytes], dict[str, str]],
) -> None:
    """``ivr serve --demo`` then ``ivr call --json``: an emergency call from start to ticket."""
    port, _, env = served
    out = subprocess.run(
        [*IVR, "call", "--from", "9725550100", "--dtmf", "1 1001# 2468# # 123456# 1 #",
         "--agi-port", str(port), "--json"],
        env=env, capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    data = json.loads(out.stdout)
    # Real time: the Premium Plus queue while staffed, the on-call engineer otherwise.
    assert data["route"] in {"queue", "oncall"}
    assert data["variables"]["IVR_EMERGENCY"] == "1"
    assert data["ticket"] is not None
    assert data["variables"]["IVR_TICKET"] == data["ticket"]
    listed = subprocess.run(
        [*IVR, "tickets", "--json"], env=env, capture_output=True, timeout=60, check=True
    )
    # The call's ticket, and the demo helpdesk ticket that --demo takes in.
    assert {t["number"] for t in json.loads(listed.stdout)} == {data["ticket"], "77001"}
    assert b"2468" not in out.stderr


@pytest.mark.slow
def test_server_idle_after_garbage(
    served: tuple[int, subprocess.Popen[bytes], dict[str, str]],
) -> None:
    """After garbage and a mid-header disconnect, the server serves calls and idles at ~0 CPU."""
    import socket  # noqa: PLC0415

    port, process, env = served
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"\xff\x00garbage without end")
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"agi_network: yes\nagi_network_scr")
    out = subprocess.run(
        [*IVR, "call", "--from", "9725550100", "--dtmf", "", "--agi-port", str(port), "--json"],
        env=env, capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    assert json.loads(out.stdout)["route"] == "queue"
    time.sleep(0.5)
    before = cpu_seconds(process.pid)
    time.sleep(2.0)
    assert cpu_seconds(process.pid) - before < 0.1


@pytest.mark.parametrize(
    ("tier", "at", "emergency", "route", "next_open", "sla_due"),
    [
        # Wednesday before Thanksgiving, 08:59: Standard not yet open, Premium open.
        ("standard", "2026-11-25T08:59:00-06:00", False, "closed",
         "2026-11-25T09:00:00-06:00", "2026-11-30T17:00:00-06:00"),
        ("premium", "2026-11-25T08:59:00-06:00", True, "queue",
         "2026-11-25T08:59:00-06:00", "2026-11-25T12:59:00-06:00"),
        # Thanksgiving (a federal holiday): Premium closed until Friday 07:00.
        ("premium", "2026-11-26T10:00:00-06:00", False, "closed",
         "2026-11-27T07:00:00-06:00", "2026-11-27T11:00:00-06:00"),
        ("premium_plus", "2026-11-26T10:00:00-06:00", True, "oncall",
         "2026-11-26T10:00:00-06:00", "2026-11-26T12:00:00-06:00"),
        ("premium_plus", "2026-11-25T18:59:00-06:00", False, "queue",
         "2026-11-25T18:59:00-06:00", "2026-11-25T20:59:00-06:00"),
        ("premium_plus", "2026-11-25T19:00:00-06:00", False, "oncall",
         "2026-11-25T19:00:00-06:00", "2026-11-25T21:00:00-06:00"),
    ],
)  # fmt: skip
async def test_route_command(
    cli_env: str,
    redis: Redis,
    stores: Stores,
    capsys: pytest.CaptureFixture[str],
    tier: str,
    at: str,
    emergency: bool,
    route: str,
    next_open: str,
    sla_due: str,
) -> None:
    """``ivr route --json`` gives the decision, next opening and SLA due time for a moment."""
    await stores.oncall.set_rotation(ROTATION)  # someone is on call after hours
    argv = ["route", "--tier", tier, "--at", at, "--json"] + (["--emergency"] if emergency else [])
    assert await asyncio.to_thread(main, argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["route"], data["next_open"], data["sla_due"]) == (route, next_open, sla_due)


@pytest.mark.parametrize(
    ("at", "route", "queue", "next_open"),
    [
        # Wednesday 10:00: Standard hours, the warranty queue.
        ("2026-11-25T10:00:00-06:00", "queue", "support-warranty", "2026-11-25T10:00:00-06:00"),
        # 08:00: Premium would be open, a warranty request waits for Standard's 09:00.
        ("2026-11-25T08:00:00-06:00", "closed", None, "2026-11-25T09:00:00-06:00"),
        # Thanksgiving: closed until Friday 09:00.
        ("2026-11-26T10:00:00-06:00", "closed", None, "2026-11-27T09:00:00-06:00"),
    ],
)
async def test_route_command_for_warranty(
    cli_env: str,
    redis: Redis,
    capsys: pytest.CaptureFixture[str],
    at: str,
    route: str,
    queue: str | None,
    next_open: str,
) -> None:
    """``ivr route --kind warranty``: the warranty queue in Standard hours, never an SLA."""
    assert await asyncio.to_thread(main, ["route", "--kind", "warranty", "--at", at, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["kind"], data["route"], data["queue"]) == ("warranty", route, queue)
    assert (data["next_open"], data["sla_due"], data["tier"]) == (next_open, None, None)


async def test_route_command_refuses_mixed_options(
    cli_env: str, redis: Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    """A support request needs a tier; a warranty request takes none, and no emergency."""
    assert await asyncio.to_thread(main, ["route"]) == 2
    assert "--tier is required" in capsys.readouterr().err
    for extra in (["--tier", "premium"], ["--emergency"]):
        assert await asyncio.to_thread(main, ["route", "--kind", "warranty", *extra]) == 2
        assert "takes no --tier or --emergency" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["route", "--kind", "warranty"]) == 0
    assert "sla due: none (best effort)" in capsys.readouterr().out


async def test_import_purchase_defaults_and_telephones(
    cli_env: str, stores: Stores, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Systems with a purchase date only get the terms' defaults; an extension over a year and a
    telephone set with an extension are refused with the reason, nothing stored."""
    head = SYSTEMS.splitlines()[0] + ",purchased,warranty_extended_until\n"
    good = write(tmp_path, "s.csv", head + "777002,1001,Yarrow Inn,UCX250,7.1.3,,,,2026-01-10,\n")
    assert await asyncio.to_thread(main, ["import", "systems", str(good)]) == 0
    system = await stores.directory.system("777002")
    assert system is not None
    assert (system.tier.value, str(system.support_expires), str(system.warranty_expires)) == (
        "standard",
        "2027-01-10",
        "2027-01-10",
    )
    bad = write(tmp_path, "b.csv", head + "777003,1001,Xi,UCX250,7,,,,2026-01-10,2028-02-01\n")
    assert await asyncio.to_thread(main, ["import", "systems", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "line 2: warranty_extended_until 2028-02-01 is more than one year past" in err
    assert await stores.directory.system("777003") is None
    phones = "host_id,serial,model,purchased,warranty_expires,warranty_extended_until\n"
    sets = write(tmp_path, "t.csv", phones + "777002,INF1,Infinity 7100,2026-01-10,,\n")
    assert await asyncio.to_thread(main, ["import", "telephones", str(sets)]) == 0
    assert "imported 1 telephones" in capsys.readouterr().out
    extended = "777002,INF2,Infinity 7100,2026-01-10,,2028-01-10\n"
    refused = write(tmp_path, "u.csv", phones + extended)
    assert await asyncio.to_thread(main, ["import", "telephones", str(refused)]) == 1
    assert "excluded from extended warranty" in capsys.readouterr().err
    assert [s.serial for s in await stores.directory.telephones("777002")] == ["INF1"]


async def test_calendar_commands_change_routing(
    cli_env: str, redis: Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    """An added closure closes a working day; an extra opening opens a holiday."""
    route = ["route", "--tier", "standard", "--json"]
    assert (
        await asyncio.to_thread(main, ["calendar", "close", "2026-12-02", "--reason", "move"]) == 0
    )
    assert await asyncio.to_thread(main, [*route, "--at", "2026-12-02T10:00:00-06:00"]) == 0
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["calendar", "open", "2026-11-26"]) == 0
    assert await asyncio.to_thread(main, [*route, "--at", "2026-11-26T10:00:00-06:00"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{") :])["route"] == "queue"
    assert await asyncio.to_thread(main, ["calendar", "show", "--from", "2026-11-20"]) == 0
    listing = capsys.readouterr().out
    assert "2026-11-26  Thu  holiday  Thanksgiving Day" in listing
    assert "2026-12-02  Wed  closed   move" in listing
    assert await asyncio.to_thread(main, ["calendar", "clear", "2026-12-02"]) == 0
    assert await asyncio.to_thread(main, ["calendar", "clear", "2026-12-02"]) == 1


async def test_call_at_a_chosen_time(
    cli_env: str, stores: Stores, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """With IVR_ALLOW_CALL_TIME, ``ivr call --at`` runs the call at that time; else it runs
    now, and the command says so and fails."""
    for allowed, expected in ((True, "closed"), (False, "queue")):
        server = build_agi_server(
            stores, settings.with_overrides(allow_call_time=allowed), Clock(OPEN_HOURS)
        )
        host, port = await server.start("127.0.0.1", 0)
        try:
            argv = ["call", "--from", "2145550100", "--dtmf", "2 2468# 345678# 1 #",
                    "--at", "2026-11-28T10:00:00-06:00", "--agi-host", host,
                    "--agi-port", str(port), "--json"]  # fmt: skip
            assert await asyncio.to_thread(main, argv) == (0 if allowed else 1)
        finally:
            await server.close()
        out = capsys.readouterr()
        assert json.loads(out.out)["route"] == expected
        assert ("does not allow a call time" in out.err) is not allowed


async def test_oncall_commands(
    cli_env: str, redis: Redis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Set a rotation from JSON, add and remove an override, show who is on call at T."""
    rotation = {
        "starts": "2026-11-23T09:00:00-06:00",
        "timezone": "America/Chicago",
        "engineers": [
            {"name": "Ana Ruiz", "dial": "PJSIP/201"},
            {"name": "Ben", "dial": "PJSIP/202"},
        ],
        "manager": {"name": "Sam Lee", "dial": "PJSIP/299@trunk"},
    }
    path = write(tmp_path, "rotation.json", json.dumps(rotation))
    assert await asyncio.to_thread(main, ["oncall", "set", str(path)]) == 0
    at = ["--at", "2026-11-25T23:00:00-06:00", "--json"]
    assert await asyncio.to_thread(main, ["oncall", "show", *at]) == 0
    capsys.readouterr()
    override = ["oncall", "override", "add", "2026-11-25T17:00:00-06:00",
                "2026-11-26T09:00:00-06:00", "Cy Park", "PJSIP/203"]  # fmt: skip
    assert await asyncio.to_thread(main, override) == 0
    override_id = capsys.readouterr().out.split()[1]
    assert await asyncio.to_thread(main, ["oncall", "show", *at]) == 0
    chain = json.loads(capsys.readouterr().out)["chain"]
    assert [step["name"] for step in chain] == ["Cy Park", "Ben", "Sam Lee"]
    assert await asyncio.to_thread(main, ["oncall", "override", "remove", override_id]) == 0
    assert await asyncio.to_thread(main, ["oncall", "override", "remove", override_id]) == 1
    bad = write(
        tmp_path, "bad.json", json.dumps({**rotation, "engineers": [{"name": "X", "dial": "a,b"}]})
    )
    assert await asyncio.to_thread(main, ["oncall", "set", str(bad)]) == 1
    assert "Dial" in capsys.readouterr().err
