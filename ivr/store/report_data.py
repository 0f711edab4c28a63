"""Reads what the reports need from Redis, by date range, in pipelined batches.

Calls and tickets come from their time indexes (``CALLS``, ``TICKETS``); each
call is joined with its ticket (tier, on-call state) and its system (tier, end
customer, contract expiry); lockouts come from the audit stream. The figures
themselves are computed by the pure functions of ``ivr/domain/reports.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from ivr.domain.records import TicketKind
from ivr.domain.reports import (
    UNKNOWN_TIER,
    WARRANTY_ACTIVE_STEP,
    WARRANTY_EXPIRED_STEP,
    WARRANTY_ROW,
    CallRow,
    DayPoint,
    HourPoint,
    LockoutEvent,
    SupportReport,
    SystemInfo,
    TicketRow,
    build_report,
    daily_sla,
    hourly_series,
    local_bounds,
)
from ivr.domain.warranty import warranty_until
from ivr.store import keys

BATCH = 500
AUDIT_READ_LIMIT = 20_000  # the stream is capped near 10 000 entries


async def _hashes(redis: Redis, names: Sequence[str]) -> list[dict[str, str]]:
    """HGETALL of many keys, a batch per round trip."""
    rows: list[dict[str, str]] = []
    for at in range(0, len(names), BATCH):
        async with redis.pipeline(transaction=False) as pipe:
            for name in names[at : at + BATCH]:
                pipe.hgetall(name)
            rows += cast(list[dict[str, str]], await pipe.execute())
    return rows


def _time(text: str) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def ticket_row(data: dict[str, str]) -> TicketRow:
    """A ticket hash as a report row (responded: acknowledged, else resolved, at)."""
    return TicketRow(
        number=data["number"],
        created=dt.datetime.fromisoformat(data["created"]),
        tier=data.get("tier") or UNKNOWN_TIER,
        emergency=data.get("emergency") == "1",
        sla_due=_time(data.get("sla_due", "")),
        status=data.get("status", "open"),
        responded=_time(data.get("acknowledged_at", "")) or _time(data.get("resolved_at", "")),
        kind=data.get("kind") or TicketKind.SUPPORT.value,
    )


@dataclass(frozen=True, slots=True)
class ReportInputs:
    """The rows of one date range."""

    calls: list[CallRow]
    tickets: list[TicketRow]
    lockouts: list[LockoutEvent]
    systems: dict[str, SystemInfo]


class ReportData:
    """Date-range queries over calls, tickets, systems and the audit stream."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def _ids(self, index: str, start: dt.datetime, end: dt.datetime) -> list[str]:
        # The end is exclusive: midnight after the last day belongs to the next day.
        return cast(
            list[str],
            await self._redis.zrangebyscore(index, start.timestamp(), f"({end.timestamp()}"),
        )

    async def tickets(self, numbers: Iterable[str]) -> dict[str, dict[str, str]]:
        """Ticket hashes by number (missing ones left out)."""
        wanted = sorted(set(numbers))
        rows = await _hashes(self._redis, [keys.ticket(n) for n in wanted])
        return {n: row for n, row in zip(wanted, rows, strict=True) if row}

    async def systems(self, host_ids: Iterable[str]) -> dict[str, dict[str, str]]:
        """System hashes by Host ID, each with its reseller's name as ``reseller_name``."""
        wanted = sorted({h for h in host_ids if h})
        rows = await _hashes(self._redis, [keys.system(h) for h in wanted])
        found = {h: row for h, row in zip(wanted, rows, strict=True) if row}
        accounts = sorted({row.get("reseller_account", "") for row in found.values()} - {""})
        names = await _hashes(self._redis, [keys.reseller(a) for a in accounts])
        name_of = {a: r.get("name", "") for a, r in zip(accounts, names, strict=True)}
        for row in found.values():
            row["reseller_name"] = name_of.get(row.get("reseller_account", ""), "")
        return found

    async def calls_between(self, start: dt.datetime, end: dt.datetime) -> list[CallRow]:
        """Calls started in [start, end), joined with their tickets and systems."""
        calls, _systems = await self._calls(start, end)
        return calls

    async def _calls(
        self, start: dt.datetime, end: dt.datetime
    ) -> tuple[list[CallRow], dict[str, dict[str, str]]]:
        ids = await self._ids(keys.CALLS, start, end)
        records = [r for r in await _hashes(self._redis, [keys.call(i) for i in ids]) if r]
        tickets = await self.tickets(r["ticket"] for r in records if r.get("ticket"))
        systems = await self.systems(r.get("host_id", "") for r in records)
        return [_call_row(r, tickets, systems) for r in records], systems

    async def tickets_between(self, start: dt.datetime, end: dt.datetime) -> list[TicketRow]:
        """Tickets created in [start, end) whose response the phone line owes: its own, and
        the helpdesk's once a caller escalated them (before that, their SLA is the
        helpdesk's, and a bulk sync would swamp the figures)."""
        numbers = await self._ids(keys.TICKETS, start, end)
        rows = (await self.tickets(numbers)).values()
        return [ticket_row(row) for row in rows
                if row.get("source") != "helpdesk" or row.get("escalated_at")]  # fmt: skip

    async def lockouts_between(self, start: dt.datetime, end: dt.datetime) -> list[LockoutEvent]:
        """Lockouts of the audit stream whose time is in [start, end)."""
        entries = cast(
            list[tuple[str, dict[str, str]]],
            await self._redis.xrange(keys.AUDIT, count=AUDIT_READ_LIMIT),
        )
        found = []
        for _id, fields in entries:
            at = _time(fields.get("at", ""))
            if fields.get("event") == "lockout" and at is not None and start <= at < end:
                found.append(LockoutEvent(at, fields.get("scope", ""), fields.get("subject", "")))
        return found

    async def inputs(self, start: dt.datetime, end: dt.datetime) -> ReportInputs:
        """Everything a report of [start, end) reads."""
        calls, raw_systems = await self._calls(start, end)
        return ReportInputs(
            calls=calls,
            tickets=await self.tickets_between(start, end),
            lockouts=await self.lockouts_between(start, end),
            systems={h: _system_info(row) for h, row in raw_systems.items()},
        )


def _call_row(
    record: dict[str, str], tickets: dict[str, dict[str, str]], systems: dict[str, dict[str, str]]
) -> CallRow:
    ticket = tickets.get(record.get("ticket", ""), {})
    system = systems.get(record.get("host_id", ""), {})
    steps = tuple(s for s in record.get("steps", "").split(",") if s)
    warranty = ticket.get("kind") == TicketKind.WARRANTY.value or any(
        s in steps for s in (WARRANTY_ACTIVE_STEP, WARRANTY_EXPIRED_STEP)
    )
    return CallRow(
        call_id=record["call_id"],
        started=dt.datetime.fromisoformat(record["started"]),
        tier=WARRANTY_ROW if warranty else ticket.get("tier") or system.get("tier") or UNKNOWN_TIER,
        decision=record.get("decision", ""),
        outcome=record.get("outcome", ""),
        steps=steps,
        reseller_account=record.get("reseller_account", ""),
        host_id=record.get("host_id", ""),
        ticket=record.get("ticket", ""),
        oncall_state=ticket.get("oncall_state", ""),
        queue_wait=_float(record.get("queue_wait")),
        queue_outcome=record.get("queue_outcome", ""),
        queue=record.get("queue", ""),
    )


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _system_info(row: dict[str, str]) -> SystemInfo:
    return SystemInfo(
        end_customer=row.get("end_customer", ""),
        support_expires=_date(row.get("support_expires", "")),
        reseller_name=row.get("reseller_name", ""),
        warranty_until=warranty_until(
            _date(row.get("warranty_expires", "")), _date(row.get("warranty_extended_until", ""))
        ),
    )


async def support_report(
    redis: Redis, tz: ZoneInfo, first: dt.date, last: dt.date, now: dt.datetime
) -> SupportReport:
    """The report of local dates ``first`` to ``last`` inclusive (for the CLI and web page)."""
    start, end = local_bounds(first, last, tz)
    data = await ReportData(redis).inputs(start, end)
    return build_report(first, last, data.calls, data.tickets, data.lockouts, data.systems, now)


@dataclass(frozen=True, slots=True)
class ReportSeries:
    """Chart series: calls and waits per hour of one day, SLA compliance per day of a range."""

    day: dt.date
    hours: list[HourPoint]
    days: list[DayPoint]


async def report_series(
    redis: Redis, tz: ZoneInfo, first: dt.date, last: dt.date, day: dt.date, now: dt.datetime
) -> ReportSeries:
    """Per-hour figures of ``day`` and per-day SLA compliance of ``first``..``last``."""
    data = ReportData(redis)
    day_start, day_end = local_bounds(day, day, tz)
    start, end = local_bounds(first, last, tz)
    return ReportSeries(
        day=day,
        hours=hourly_series(await data.calls_between(day_start, day_end), day, tz),
        days=daily_sla(await data.tickets_between(start, end), first, last, tz, now),
    )
