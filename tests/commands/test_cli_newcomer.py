"""The command line as a new user meets it: each command run as typed, its words read.

Every test here comes from something a newcomer following the README tripped on.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from redis.asyncio import Redis

from ivr.cli import main


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
