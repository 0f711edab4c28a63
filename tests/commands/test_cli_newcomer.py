"""The command line as a new user meets it: each command run as typed, its words read.

Every test here comes from something a newcomer following the README tripped on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from ivr.cli import main
from tests.support.harness import Line


@pytest.fixture
def cli_env(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the CLI at the test Redis."""
    monkeypatch.setenv("IVR_REDIS_URL", redis_url)
    return redis_url


async def ivr(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``ivr ARGV`` as typed: exit status, standard output, standard error."""
    try:
        status = await asyncio.to_thread(main, list(argv))
    except SystemExit as exc:  # argparse refusing the words
        status = int(exc.code or 0)
    out = capsys.readouterr()
    return status, out.out, out.err


# --- ivr route --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "at", "because"),
    [
        ("premium", "2026-11-26T10:00:00-06:00", "a public holiday: Thanksgiving Day"),
        ("standard", "2026-11-25T08:59:00-06:00", "outside standard hours (09:00-17:00"),
        ("premium", "2026-11-28T10:00:00-06:00", "Saturday: premium support is open Monday"),
        ("standard", "2026-12-02T10:00:00-06:00", "the centre is closed on 2026-12-02: site move"),
    ],
)
async def test_route_says_why_it_is_closed(
    cli_env: str, redis: Redis, capsys: pytest.CaptureFixture[str], tier: str, at: str, because: str
) -> None:
    """``closed`` comes with its reason: a holiday, a closure, or outside the tier's hours."""
    await ivr(capsys, "calendar", "close", "2026-12-02", "--reason", "site move")
    status, out, _ = await ivr(capsys, "route", "--tier", tier, "--at", at)
    assert status == 0
    assert "route: closed" in out
    assert f"closed because: {because}" in out
    status, out, _ = await ivr(capsys, "route", "--tier", tier, "--at", at, "--json")
    assert json.loads(out)["closed_because"].startswith(because)


async def test_route_open_has_no_reason_and_reads_as_words(
    cli_env: str, redis: Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    """An open centre gives no ``closed because``; yes/no and a dash, never True/None."""
    status, out, _ = await ivr(capsys, "route", "--tier", "standard", "--at", "2026-11-25T10:00")
    assert status == 0
    assert "closed because" not in out
    assert "open: yes" in out
    assert "emergency: no" in out
    assert "True" not in out
    assert "None" not in out


async def test_route_time_without_offset_is_the_centres(
    cli_env: str, redis: Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--at 2026-11-25T08:59`` is 08:59 in the centre's zone (America/Chicago)."""
    status, out, err = await ivr(capsys, "route", "--tier", "standard", "--at", "2026-11-25T08:59",
                                 "--json")  # fmt: skip
    assert status == 0, err
    data = json.loads(out)
    assert (data["at"], data["route"]) == ("2026-11-25T08:59:00-06:00", "closed")
    status, _, err = await ivr(capsys, "route", "--tier", "standard", "--at", "next tuesday")
    assert status == 2
    assert "--at:" in err


@pytest.mark.parametrize(
    ("typed", "tier"),
    [
        ("premium-plus", "premium_plus"),
        ("Premium Plus", "premium_plus"),
        ("PREMIUM_PLUS", "premium_plus"),
        ("premiumplus", "premium_plus"),
        ("Premium", "premium"),
        ("standard", "standard"),
    ],
)
async def test_route_accepts_the_obvious_spellings_of_a_tier(
    cli_env: str, redis: Redis, capsys: pytest.CaptureFixture[str], typed: str, tier: str
) -> None:
    """``premium-plus`` and ``Premium Plus`` are Premium Plus; a wrong tier lists the right."""
    argv = ["route", "--tier", typed, "--at", "2026-11-25T10:00:00-06:00", "--json"]
    status, out, _ = await ivr(capsys, *argv)
    assert status == 0
    assert json.loads(out)["tier"] == tier
    status, _, err = await ivr(capsys, "route", "--tier", "gold")
    assert status == 2
    assert "'gold' is not a tier (one of standard, premium, premium_plus)" in err


# --- ivr call ---------------------------------------------------------------------

EMERGENCY = "1 2468# # 123456# 1 #"


async def test_call_says_which_server_it_reached(
    cli_env: str, line: Line, capsys: pytest.CaptureFixture[str]
) -> None:
    """The dialogue starts with the server called; ``--json`` names it too."""
    where = ["--agi-host", line.host, "--agi-port", str(line.port)]
    status, out, _ = await ivr(capsys, "call", "--from", "2145550100", "--dtmf", "", *where)
    assert status == 0
    server = f"agi://{line.host}:{line.port}/support-line"
    assert out.splitlines()[0] == f"Calling {server} from 2145550100 to 2145565917"
    status, out, _ = await ivr(capsys, "call", "--from", "2145550100", "--json", *where)
    assert json.loads(out)["server"] == server


@pytest.mark.parametrize(("dtmf", "bad"), [("1,1001#", "','"), ("1 abc#", "'a'"), ("1  x", "'x'")])
async def test_call_refuses_keys_that_are_no_keys(
    cli_env: str, line: Line, capsys: pytest.CaptureFixture[str], dtmf: str, bad: str
) -> None:
    """``--dtmf "1,1001#"`` is refused before any call, with the reason and an example."""
    argv = ["call", "--from", "2145550100", "--dtmf", dtmf,
            "--agi-host", line.host, "--agi-port", str(line.port)]  # fmt: skip
    status, out, err = await ivr(capsys, *argv)
    assert (status, out) == (2, "")
    assert f"({bad} is no key)" in err
    assert 'e.g. "1 1001# 2468#"' in err


async def test_call_at_a_time_the_server_refuses_says_so(
    cli_env: str, line: Line, capsys: pytest.CaptureFixture[str]
) -> None:
    """A server without IVR_ALLOW_CALL_TIME runs ``--at`` now: the command says so, fails."""
    argv = ["call", "--from", "2145550100", "--dtmf", "", "--at", "2026-11-28T10:00:00-06:00",
            "--agi-host", line.host, "--agi-port", str(line.port)]  # fmt: skip
    status, _, err = await ivr(capsys, *argv)
    assert status == 1
    assert "does not allow a call time (start it with IVR_ALLOW_CALL_TIME=true)" in err
    assert "the call ran now, not at 2026-11-28T10:00:00-06:00" in err


async def test_call_into_head_stops_quietly(cli_env: str, line: Line) -> None:
    """``ivr call ... | head -1``: the first line, then silence, as a Unix tool would."""
    shell = (f"{sys.executable} -m ivr.cli call --from 2145550100 --dtmf '{EMERGENCY}' "
             f"--agi-host {line.host} --agi-port {line.port} | head -1")  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        "bash", "-c", shell, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert out.decode().startswith("Calling agi://")
    assert err.decode() == ""


# --- ivr tickets ------------------------------------------------------------------


async def test_tickets_in_an_empty_data_directory_say_which_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A data directory with no store: the command names it and asks whether it is the
    service's, instead of a bare "no tickets"."""
    monkeypatch.delenv("IVR_REDIS_URL", raising=False)
    empty = tmp_path / "elsewhere"
    status, out, _ = await ivr(capsys, "tickets", "--data-dir", str(empty))
    assert status == 0
    assert out.splitlines() == [
        f"No tickets in the store in {empty}.",
        f"{empty} held no store: is it the data directory of your ivr serve? Name that one "
        "with --data-dir or IVR_DATA_DIR, or give IVR_REDIS_URL.",
    ]


async def test_tickets_list_has_a_header_and_show_reads_as_words(
    cli_env: str, line: Line, capsys: pytest.CaptureFixture[str]
) -> None:
    """The list has a header row; one ticket shows local minutes with their zone, yes/no
    and a dash, tier names, and a second recording under the first."""
    where = ["--agi-host", line.host, "--agi-port", str(line.port)]
    for _ in range(3):  # the repeats add their recordings to the same ticket
        status, _, err = await ivr(capsys, "call", "--from", "2145550100", "--dtmf", EMERGENCY,
                                   *where)  # fmt: skip
        assert status == 0, err
    status, out, _ = await ivr(capsys, "tickets")
    head, first = out.splitlines()[:2]
    assert head.split() == ["TICKET", "OPENED", "STATUS", "TIER", "KIND", "HOST", "ID", "END",
                            "CUSTOMER"]  # fmt: skip
    assert first.startswith("10001   2026-11-25 ")
    assert "Premium Plus" in first
    assert head.index("HOST ID") == first.index("123456")
    status, out, _ = await ivr(capsys, "tickets", "show", "10001")
    assert status == 0
    for raw in ("None", "True", "False", "+00:00", "-06:00", "premium_plus"):
        assert raw not in out
    assert not re.search(r"\d\d:\d\d:\d\d", out)  # minutes, no seconds or microseconds
    assert "           created: 2026-11-25 " in out
    assert "emergency: yes" in out
    assert "resolved at: -" in out
    lines = out.splitlines()
    first_rec = next(i for i, text in enumerate(lines) if text.startswith("        recordings: "))
    column = len("        recordings: ")
    assert lines[first_rec + 1].startswith(" " * column + "/")
    assert lines[first_rec + 1][column:].endswith(".wav")
    for text in lines:
        assert text[:column].rstrip() == "" or text[column - 2 : column] == ": ", text


# --- ivr report -------------------------------------------------------------------


async def test_report_defaults_to_this_week(
    cli_env: str, redis: Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --from/--to: this week, Monday to today, as the report page shows it."""
    today = dt.datetime.now(ZoneInfo("America/Chicago")).date()
    monday = today - dt.timedelta(days=today.weekday())
    status, out, _ = await ivr(capsys, "report")
    assert status == 0
    assert out.splitlines()[0] == f"Report {monday} to {today} (America/Chicago)"
    status, out, _ = await ivr(capsys, "report", "--to", "2026-11-27")
    assert out.splitlines()[0] == "Report 2026-11-23 to 2026-11-27 (America/Chicago)"


async def test_report_reads_as_the_page_does(
    cli_env: str, line: Line, capsys: pytest.CaptureFixture[str]
) -> None:
    """Tier names, figures right-aligned, "n/a" where a figure does not apply, and the
    hours and days with nothing to count folded into one line."""
    where = ["--agi-host", line.host, "--agi-port", str(line.port)]
    status, _, _ = await ivr(capsys, "call", "--from", "2145550100", "--dtmf", EMERGENCY, *where)
    assert status == 0
    status, out, _ = await ivr(capsys, "report", "--from", "2026-11-01", "--to", "2026-11-30",
                               "--day", "2026-11-25")  # fmt: skip
    assert status == 0
    sections = {block.splitlines()[0]: block.splitlines()[1:] for block in out.split("\n\n")}
    assert sections["Calls by tier"] == ["tier          calls", "Premium Plus      1",
                                         "all               1"]  # fmt: skip
    hours = sections["Calls and waits per hour on 2026-11-25"]
    assert len(hours) == 3
    assert hours[1].split() == ["10:00", "1", "n/a", "n/a"]
    assert hours[2] == "(23 more rows of zeros not shown)"
    days = sections["SLA compliance per day"]
    assert days[-1] == "(29 more rows of zeros not shown)"
    waits = sections["Queue waits (seconds)"]
    assert waits[1].split() == ["all", "0", "n/a", "n/a", "n/a"]
    assert "premium_plus" not in out


# --- ivr import -------------------------------------------------------------------


async def test_import_lists_every_bad_row_with_every_reason(
    cli_env: str, redis: Redis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each bad row with all its reasons, one a line: a duplicate that is also bad, and the
    rows before a line the CSV reader cannot read past. Nothing is stored."""
    path = tmp_path / "resellers.csv"
    path.write_text(
        "account,name,pin,phones\n"
        "ab,=X,12a,xyz\n"
        "5001,Fine,,\n"
        "5001,Again,12,\n"
        '5002,"Quoted"text,,\n',
        encoding="utf-8",
    )
    status, out, err = await ivr(capsys, "import", "resellers", str(path))
    assert (status, out) == (1, "")
    assert err.splitlines() == [
        f"ivr: {path} rejected, nothing imported:",
        "line 2: account must be 3 to 12 digits",
        "        name starts with '=': spreadsheet formulas are not accepted",
        "        pin must be 4 to 12 digits",
        "        phone 'xyz' is not a phone number",
        "line 4: pin must be 4 to 12 digits",
        "        5001 appears twice (first on line 3)",
        "line 5: not valid CSV: ',' expected after '\"'",
    ]
    assert await redis.dbsize() == 0
