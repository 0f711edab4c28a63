"""``ivr helpdesk sync FILE`` as an operator types it: counts, rejects, safe to run twice."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest

from ivr.cli import main
from ivr.domain.records import TicketSource, TicketStatus
from ivr.store import keys
from ivr.store.stores import Stores
from tests.support.helpdesk_sender import helpdesk_ticket


@pytest.fixture
def cli_env(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the CLI at the test Redis."""
    monkeypatch.setenv("IVR_REDIS_URL", redis_url)
    return redis_url


def line(event: str = "created", **ticket: object) -> str:
    """One line of an export."""
    return json.dumps({"event": event, "ticket": helpdesk_ticket(**ticket)})  # type: ignore[arg-type]


EXPORT = "\n".join([
    line(number="77001"),
    json.dumps(helpdesk_ticket(number="77002", status="resolved")),  # a bare ticket line
    "",
    line(number="77003", host_id="999999"),
    "{not json",
    line(number="77004", status="acknowledged", acknowledged_by="Hal"),
    line("updated", number="77001", title="Calls dropping on trunk 2",
         updated_at="2026-11-20T10:00:00-06:00"),
    line("updated", number="77004", title="Older", updated_at="2026-11-19T10:00:00-06:00"),
]) + "\n"  # fmt: skip


async def test_sync_reports_counts_and_rejects_and_is_safe_twice(
    cli_env: str, stores: Stores, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Good lines land, bad ones are listed by line with their reason (exit 1); again: unchanged."""
    export = tmp_path / "export.jsonl"
    export.write_text(EXPORT, encoding="utf-8")
    assert await asyncio.to_thread(main, ["helpdesk", "sync", str(export)]) == 1
    first = capsys.readouterr()
    assert f"helpdesk sync of {export}: 8 lines" in first.out
    for outcome, count in (("created", 3), ("updated", 1), ("unchanged", 0), ("stale", 1),
                           ("rejected", 2)):  # fmt: skip
        assert f"  {outcome:<10}{count:>9}" in first.out, outcome
    assert first.err.splitlines() == [
        "line 4 rejected (422): unknown Host ID 999999",
        "line 5 rejected (400): the line is not JSON "
        "(Expecting property name enclosed in double quotes at column 2)",
    ]
    ticket = await stores.tickets.get("77001")
    assert ticket is not None
    assert (ticket.title, ticket.source) == ("Calls dropping on trunk 2", TicketSource.HELPDESK)
    resolved = await stores.tickets.get("77002")
    assert resolved is not None
    assert resolved.status is TicketStatus.RESOLVED
    assert await stores.redis.zrange(keys.helpdesk_open("1001", "234567"), 0, -1) == [
        "77001", "77004",
    ]  # fmt: skip
    audit = await stores.tickets.audit("77001")
    assert await asyncio.to_thread(main, ["helpdesk", "sync", str(export)]) == 1
    second = capsys.readouterr().out
    for outcome, count in (("created", 0), ("updated", 0), ("unchanged", 3), ("stale", 2)):
        assert f"  {outcome:<10}{count:>9}" in second, outcome
    assert await stores.tickets.audit("77001") == audit


async def test_sync_reads_standard_input_and_says_when_the_file_is_missing(
    cli_env: str, stores: Stores, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``-`` reads the export from stdin (exit 0: every line good); a missing file is named."""
    stdin = io.TextIOWrapper(io.BytesIO((line() + "\n").encode()))
    assert await asyncio.to_thread(main, ["helpdesk", "sync", "-"], stdin) == 0
    assert "helpdesk sync of standard input: 1 lines" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["helpdesk", "sync", str(tmp_path / "none.jsonl")]) == 1
    assert "cannot read" in capsys.readouterr().err
