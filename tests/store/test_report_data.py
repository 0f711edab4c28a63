"""Supervisor reports from a known set of calls, tickets and lockouts in a real Redis."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from redis.asyncio import Redis

from ivr.cli import main
from ivr.domain.records import WARRANTY_TITLE, CallRecord, NewTicket, TicketKind, Tier
from ivr.domain.report_csv import safe_cell, table_csv, tables_csv
from ivr.domain.reports import (
    SlaCompliance,
    TicketFigures,
    TicketRow,
    percentile,
    series_tables,
    sla_compliance,
)
from ivr.store import keys
from ivr.store.report_data import ReportData, report_series, support_report
from ivr.store.stores import Stores
from tests.support.harness import CHICAGO
from tests.support.helpdesk_sender import take_in

TUE, WED = dt.date(2026, 11, 24), dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=CHICAGO)
EVIL = '=HYPERLINK("http://x","click")'


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """Chicago time in November 2026."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=CHICAGO)


async def ticket(stores: Stores, created: dt.datetime, host_id: str, tier: Tier) -> str:
    """An open ticket as the flow stores it."""
    calendar = await stores.calendars.calendar(created)
    made = await stores.tickets.create(
        NewTicket(
            created=created, reseller_account="1001", host_id=host_id, end_customer="x",
            system_type="UCX450", software_release="7", tier=tier, emergency=False,
            title="Support request", sla_due=calendar.sla_due(tier, created), call_id="c",
        )
    )  # fmt: skip
    return made.number


async def acknowledge(redis: Redis, number: str, when: dt.datetime) -> None:
    """What the acknowledge command writes."""
    await redis.hset(
        keys.ticket(number),
        mapping={
            "status": "acknowledged",
            "acknowledged_by": "Ana",
            "acknowledged_at": when.isoformat(),
        },
    )


async def call(
    stores: Stores,
    call_id: str,
    started: dt.datetime,
    decision: str,
    *,
    host_id: str = "",
    ticket: str = "",
    steps: tuple[str, ...] = (),
    reseller: str = "1001",
    outcome: str | None = None,
    queue: tuple[float, str] | None = None,
) -> None:
    """A call record; queue wait and outcome as the AMI consumer adds them."""
    await stores.calls.save(
        CallRecord(
            call_id=call_id, started=started, caller_id="2145550100", route_name="support-line",
            ended=started + dt.timedelta(minutes=2), steps=list(steps), reseller_account=reseller,
            host_id=host_id, decision=decision, ticket=ticket,
            outcome=decision if outcome is None else outcome,
        )
    )  # fmt: skip
    if queue is not None:
        await stores.redis.hset(
            keys.call(call_id),
            mapping={"queue_wait": str(queue[0]), "queue_outcome": queue[1], "queue": "q"},
        )


@pytest.fixture
async def known(stores: Stores, redis: Redis) -> dict[str, str]:
    """Two days of calls, tickets and lockouts, plus some outside the range."""
    t1 = await ticket(stores, at(24, 9, 15), "345678", Tier.STANDARD)
    await acknowledge(redis, t1, at(24, 10))
    t2 = await ticket(stores, at(24, 9, 40), "234567", Tier.PREMIUM)  # due 13:40
    await acknowledge(redis, t2, at(24, 14, 40))
    t3 = await ticket(stores, at(24, 22), "123456", Tier.PREMIUM_PLUS)
    await redis.hset(keys.ticket(t3), "oncall_state", "paging")
    assert await stores.tickets.accept(t3, "Ana", at(24, 22, 10))
    t4 = await ticket(stores, at(25, 18), "345678", Tier.STANDARD)
    await call(stores, "c1", at(24, 9, 15), "queue", host_id="345678", ticket=t1,
               queue=(30, "answered"))  # fmt: skip
    await call(stores, "c2", at(24, 9, 40), "queue", host_id="234567", ticket=t2,
               queue=(90, "abandoned"))  # fmt: skip
    await call(stores, "c3", at(24, 22), "oncall", host_id="123456", ticket=t3)
    for cid, minute in (("c4", 5), ("c5", 20)):
        await call(stores, cid, at(25, 10, minute), "renewals", host_id="456789",
                   steps=("authenticated", "host_id", "coverage:expired"))  # fmt: skip
    await call(stores, "c6", at(25, 10, 30), "queue", reseller="1002",
               steps=("authenticated", "host_id:failed"), queue=(10, "answered"))  # fmt: skip
    await call(stores, "c7", at(25, 18), "closed", host_id="345678", ticket=t4)
    await call(stores, "c8", at(25, 11), "", outcome="hangup")
    await call(stores, "outside", at(26, 0, 30), "queue", host_id="345678")
    for _ in range(6):
        await stores.lockout.record_failure("1002", "9725550199", at(25, 12))
    for _ in range(6):
        await stores.lockout.record_failure("1003", "9725550100", at(27, 12))
    await redis.hset(keys.system("456789"), "end_customer", EVIL)
    return {"t1": t1, "t2": t2, "t3": t3, "t4": t4}


async def test_report_figures(known: dict[str, str], redis: Redis) -> None:
    """Calls by tier and outcome, SLA compliance, waits, lockouts, not-found and leads."""
    report = await support_report(redis, CHICAGO, TUE, WED, NOW)
    assert report.calls == 8
    assert report.by_tier == {"standard": 2, "premium": 3, "premium_plus": 1, "unknown": 2}
    assert report.by_outcome == {
        "queue": 2,
        "abandoned": 1,
        "on-call accepted": 1,
        "closed": 1,
        "renewals": 2,
        "hung up in IVR": 1,
    }
    assert report.by_tier_outcome[("premium", "renewals")] == 2
    assert report.by_tier_outcome[("unknown", "queue")] == 1
    assert report.sla_by_tier == {
        "standard": SlaCompliance(2, 1, 0, 1, None),
        "premium": SlaCompliance(1, 0, 1, 0, 3600.0),
        "premium_plus": SlaCompliance(1, 1, 0, 0, None),
    }
    assert report.sla_total.compliance == pytest.approx(2 / 3)
    assert (report.waits_total.calls, report.waits_total.p90) == (3, 90.0)
    assert report.waits_total.average == pytest.approx(130 / 3)
    assert report.waits_by_tier["premium"].average == 90.0
    assert [(e.scope, e.subject, e.at) for e in report.lockouts] == [
        ("account", "1002", at(25, 12)),
        ("caller", "9725550199", at(25, 12)),
    ]
    assert report.host_id_not_found == {"1002": 1}
    [lead] = report.renewal_leads
    assert (lead.reseller_account, lead.reseller_name, lead.end_customer, lead.host_id) == (
        "1001",
        "Lone Star Telecom",
        EVIL,
        "456789",
    )
    assert (lead.kind, lead.expired, lead.calls, lead.last_call) == (
        "support",
        dt.date(2024, 3, 31),
        2,
        at(25, 10, 20),
    )
    # Responses: 45 min, 5 h and the on-call acceptance after 10 min.
    assert report.tickets_by_kind == {"support": TicketFigures(4, 1, 3, 0, 7100.0)}


async def test_warranty_calls_tickets_and_leads_have_their_own_rows(
    stores: Stores, redis: Redis
) -> None:
    """Option 4 calls count as "warranty", not as their system's tier; warranty tickets are
    outside SLA compliance; an expired warranty is a warranty lead beside the contract's."""
    support = await ticket(stores, at(24, 10), "345678", Tier.STANDARD)
    made = await stores.tickets.create(
        NewTicket(
            created=at(24, 11), reseller_account="1001", host_id="678901",
            end_customer="Frontier Pharmacy", system_type="UCX450", software_release="7.1.3",
            tier=Tier.STANDARD, emergency=False, title=WARRANTY_TITLE, sla_due=None,
            call_id="w1", kind=TicketKind.WARRANTY,
        )
    )  # fmt: skip
    await acknowledge(redis, made.number, at(24, 13))
    await call(stores, "s1", at(24, 10), "queue", host_id="345678", ticket=support,
               steps=("menu:2", "coverage:active", "ticket"))  # fmt: skip
    await call(stores, "w1", at(24, 11), "queue", host_id="678901", ticket=made.number,
               steps=("menu:4", "warranty:active", "ticket"), queue=(40, "answered"))  # fmt: skip
    await call(stores, "w2", at(24, 12), "renewals", host_id="456789",
               steps=("menu:4", "warranty:expired"))  # fmt: skip
    await call(stores, "w3", at(24, 13), "renewals", host_id="456789",
               steps=("menu:1", "coverage:expired"))  # fmt: skip
    report = await support_report(redis, CHICAGO, TUE, WED, NOW)
    assert report.by_tier == {"standard": 1, "premium": 1, "warranty": 2}
    assert report.by_tier_outcome[("warranty", "renewals")] == 1
    assert report.waits_by_tier["warranty"].average == 40.0
    assert set(report.sla_by_tier) == {"standard"}
    assert report.sla_total.tickets == 1
    assert report.tickets_by_kind == {
        "support": TicketFigures(1, 1, 0, 0, None),
        "warranty": TicketFigures(1, 0, 1, 0, 2 * 3600.0),
    }
    assert [(lead.kind, lead.host_id, lead.expired) for lead in report.renewal_leads] == [
        ("support", "456789", dt.date(2024, 3, 31)),
        ("warranty", "456789", dt.date(2023, 3, 31)),
    ]
    tables = {t.name: t for t in report.tables()}
    assert ("warranty", 1, 0, 1, 0, 2.0) in tables["tickets_by_kind"].rows
    assert ("warranty", 2) in tables["calls_by_tier"].rows
    assert [row[0] for row in tables["sla_compliance"].rows] == ["standard", "all"]
    assert tables["renewal_leads"].rows[1][:6] == (
        "warranty", "1001", "Lone Star Telecom", "Delta Freight", "456789", "2023-03-31",
    )  # fmt: skip
    series = await report_series(redis, CHICAGO, TUE, WED, TUE, NOW)
    assert series.days[0].sla.tickets == 1


async def test_series(known: dict[str, str], redis: Redis) -> None:
    """Calls and waits per hour of a day; SLA compliance per day of the range."""
    series = await report_series(redis, CHICAGO, TUE, WED, WED, NOW)
    busy = {p.hour: (p.calls, p.average_wait) for p in series.hours if p.calls}
    assert busy == {10: (3, 10.0), 11: (1, None), 18: (1, None)}
    assert len(series.hours) == 24
    assert [(p.day, p.sla.in_time, p.sla.breached, p.sla.pending) for p in series.days] == [
        (TUE, 2, 1, 0),
        (WED, 0, 0, 1),
    ]


async def test_csv_export_parses_back_and_neutralises_formulas(
    known: dict[str, str], redis: Redis
) -> None:
    """Every table's CSV parses back to its rows; a formula-like name is made plain text."""
    report = await support_report(redis, CHICAGO, TUE, WED, NOW)
    series = await report_series(redis, CHICAGO, TUE, WED, WED, NOW)
    tables = report.tables() + series_tables(series.hours, series.days)
    for table in tables:
        rows = list(csv.reader(io.StringIO(table_csv(table))))
        assert rows[0] == list(table.columns)
        assert len(rows) == len(table.rows) + 1
    leads = next(t for t in tables if t.name == "renewal_leads")
    [header, row] = list(csv.reader(io.StringIO(table_csv(leads))))
    assert row[header.index("end customer")] == "'" + EVIL
    by_tier = next(t for t in tables if t.name == "calls_by_tier")
    assert list(csv.reader(io.StringIO(table_csv(by_tier))))[1:] == [
        ["standard", "2"], ["premium", "3"], ["premium_plus", "1"], ["unknown", "2"], ["all", "8"],
    ]  # fmt: skip
    sections = tables_csv(tables).split("\r\n\r\n")
    assert len([s for s in sections if s]) == len(tables)


@pytest.mark.parametrize(
    ("cell", "written"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
     ("\t=1", "'\t=1"), ("Acme", "Acme"), (-3, "-3"), (2.5, "2.5")],
)  # fmt: skip
def test_safe_cell(cell: str | int | float, written: str) -> None:
    """Text that a spreadsheet would run as a formula gets an apostrophe; numbers do not."""
    assert safe_cell(cell) == written


def test_sla_compliance_cases() -> None:
    """In time, answered late, unanswered past due (breached) and not yet due (pending)."""
    due = at(25, 12)

    def row(responded: dt.datetime | None) -> TicketRow:
        return TicketRow("1", at(25, 8), "premium", False, due, "open", responded)

    figures = sla_compliance([row(at(25, 11)), row(at(25, 13)), row(None)], now=at(25, 12, 30))
    assert (figures.in_time, figures.breached, figures.pending) == (1, 2, 0)
    assert figures.average_late_seconds == (3600 + 1800) / 2
    assert sla_compliance([row(None)], now=at(25, 11)).pending == 1
    assert percentile([5, 1, 3, 2, 4, 6, 7, 8, 9, 10], 0.9) == 9
    assert percentile([], 0.9) is None


async def test_cli_report_prints_and_writes_csv(
    known: dict[str, str],
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``ivr report --from --to --csv`` prints every table and writes them all."""
    monkeypatch.setenv("IVR_REDIS_URL", redis_url)
    out = tmp_path / "report.csv"
    argv = ["report", "--from", "2026-11-24", "--to", "2026-11-25", "--csv", str(out)]
    assert await asyncio.to_thread(main, argv) == 0
    printed = capsys.readouterr().out
    assert "Renewal leads" in printed
    assert "Lone Star Telecom" in printed
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    start = rows.index(["Calls by outcome"])
    assert rows[start + 1] == ["outcome", "calls"]
    assert ["renewals", "2"] in rows[start + 2 : start + 9]
    assert ["'" + EVIL] not in rows  # the formula cell sits inside its row
    assert any(("'" + EVIL) in row for row in rows)
    assert (
        await asyncio.to_thread(main, ["report", "--from", "2026-11-25", "--to", "2026-11-24"]) == 2
    )


async def test_the_helpdesk_tickets_count_once_escalated(stores: Stores) -> None:
    """The SLA figures cover the phone line's tickets, and the helpdesk's from their escalation."""
    own = await ticket(stores, at(25, 10), "123456", Tier.PREMIUM_PLUS)
    await take_in(stores, number="77001", created_at="2026-11-25T09:00:00-06:00",
                  updated_at="2026-11-25T09:00:00-06:00")  # fmt: skip
    await take_in(stores, number="77002", created_at="2026-11-25T09:30:00-06:00",
                  updated_at="2026-11-25T09:30:00-06:00")  # fmt: skip
    call = NewTicket(
        created=at(25, 11), reseller_account="1001", host_id="234567", end_customer="x",
        system_type="UCX250", software_release="6", tier=Tier.PREMIUM, emergency=True,
        title="Emergency", sla_due=at(25, 15), call_id="c2",
    )  # fmt: skip
    assert await stores.tickets.escalate("77002", call) is not None
    rows = await ReportData(stores.redis).tickets_between(at(25, 0), at(26, 0))
    assert sorted(r.number for r in rows) == sorted([own, "77002"])
