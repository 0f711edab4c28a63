"""Supervisor reports: pure figures over call records, tickets and lockouts.

Everything here is a function of rows already read from Redis (see
``ivr/store/report_data.py``) and of the times passed in; nothing reads a clock or
a store. Dates are the support centre's local dates; each table is a ``Table``
so that the command line, the web page and the CSV export show the same thing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ivr.domain.records import TicketKind, Tier
from ivr.domain.sla import lateness

UNKNOWN_TIER = "unknown"
# Warranty calls and tickets are best effort on no tier: their own row where tiers are.
WARRANTY_ROW = TicketKind.WARRANTY.value
TIERS = (*(t.value for t in Tier), WARRANTY_ROW, UNKNOWN_TIER)
# Steps of a call record that mark it as a warranty request (option 4).
WARRANTY_ACTIVE_STEP = "warranty:active"
WARRANTY_EXPIRED_STEP = "warranty:expired"
SUPPORT_EXPIRED_STEP = "coverage:expired"


class CallOutcome:
    """How a call ended, for the report (one per call)."""

    QUEUE = "queue"  # handed to a support queue (answered, or no queue data yet)
    ABANDONED = "abandoned"  # left the queue before an engineer answered
    ONCALL_ACCEPTED = "on-call accepted"
    ONCALL_UNACCEPTED = "on-call not accepted"
    CLOSED = "closed"  # after hours: ticket stands, callback scheduled
    RENEWALS = "renewals"  # expired contract
    ENDED = "ended in IVR"  # e.g. a ticket status heard, no connection asked
    HUNG_UP = "hung up in IVR"
    ERROR = "error"

    ALL = (
        QUEUE,
        ABANDONED,
        ONCALL_ACCEPTED,
        ONCALL_UNACCEPTED,
        CLOSED,
        RENEWALS,
        ENDED,
        HUNG_UP,
        ERROR,
    )


@dataclass(frozen=True, slots=True)
class CallRow:
    """One call record with what the report needs from its ticket and system."""

    call_id: str
    started: dt.datetime
    tier: str  # "warranty" for option 4; else the ticket's tier, the system's, or "unknown"
    decision: str
    outcome: str
    steps: tuple[str, ...]
    reseller_account: str
    host_id: str
    ticket: str
    oncall_state: str = ""  # of the call's ticket
    queue_wait: float | None = None  # seconds, from the AMI consumer
    queue_outcome: str = ""  # answered | abandoned
    queue: str = ""


@dataclass(frozen=True, slots=True)
class TicketRow:
    """One ticket, for SLA compliance and the tickets by kind."""

    number: str
    created: dt.datetime
    tier: str
    emergency: bool
    sla_due: dt.datetime | None  # None: best effort (warranty), no SLA
    status: str
    responded: dt.datetime | None  # acknowledged (or, failing that, resolved) at
    kind: str = TicketKind.SUPPORT.value


@dataclass(frozen=True, slots=True)
class LockoutEvent:
    """One lockout from the audit stream."""

    at: dt.datetime
    scope: str  # account | caller
    subject: str


class LeadKind:
    """What a renewal lead is for: the support contract or the hardware warranty."""

    SUPPORT = "support"  # options 1 and 2 on an expired contract
    WARRANTY = "warranty"  # option 4 on an expired warranty


@dataclass(frozen=True, slots=True)
class RenewalLead:
    """A system whose expired contract or warranty someone called about: a lead for renewals."""

    reseller_account: str
    reseller_name: str
    end_customer: str
    host_id: str
    expired: dt.date | None  # the contract's, or the warranty's (extension included), last day
    calls: int
    last_call: dt.datetime
    kind: str = LeadKind.SUPPORT


@dataclass(frozen=True, slots=True)
class SystemInfo:
    """What a renewal lead shows of a system and its reseller."""

    end_customer: str
    support_expires: dt.date | None
    reseller_name: str
    warranty_until: dt.date | None = None  # the extension's last day, else the original's


Cell = str | int | float


@dataclass(frozen=True, slots=True)
class Table:
    """A titled table: what the CLI prints, the web page shows and the CSV holds."""

    name: str  # short, file-name safe: calls_by_tier
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def outcome_of(call: CallRow) -> str:
    """The report's outcome of one call, from its decision, outcome and queue fields."""
    if call.outcome == "error":
        return CallOutcome.ERROR
    match call.decision:
        case "queue":
            return CallOutcome.ABANDONED if call.queue_outcome == "abandoned" else CallOutcome.QUEUE
        case "oncall":
            accepted = call.oncall_state == "accepted"
            return CallOutcome.ONCALL_ACCEPTED if accepted else CallOutcome.ONCALL_UNACCEPTED
        case "closed":
            return CallOutcome.CLOSED
        case "renewals":
            return CallOutcome.RENEWALS
        case "hangup":
            return CallOutcome.ENDED
    return CallOutcome.HUNG_UP


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week: where a report's range starts when none is given."""
    return day - dt.timedelta(days=day.weekday())


def local_bounds(first: dt.date, last: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """From local midnight starting ``first`` to local midnight after ``last``."""
    start = dt.datetime.combine(first, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return start, end


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (``share`` 0.9 for the 90th); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class WaitStats:
    """Queue waits of a set of calls, in seconds."""

    calls: int
    average: float | None
    p90: float | None
    longest: float | None


def wait_stats(waits: Sequence[float]) -> WaitStats:
    """Count, average, 90th percentile and longest of some waits."""
    if not waits:
        return WaitStats(0, None, None, None)
    return WaitStats(len(waits), sum(waits) / len(waits), percentile(waits, 0.9), max(waits))


@dataclass(frozen=True, slots=True)
class SlaCompliance:
    """SLA figures of a set of tickets."""

    tickets: int
    in_time: int  # responded by the due time
    breached: int  # responded late, or still unanswered past due
    pending: int  # not answered yet, not yet due
    average_late_seconds: float | None  # over the breached

    @property
    def compliance(self) -> float | None:
        """Share in time of those decided (in time or breached); None when none are."""
        decided = self.in_time + self.breached
        return self.in_time / decided if decided else None


def sla_compliance(tickets: Iterable[TicketRow], now: dt.datetime) -> SlaCompliance:
    """In time, breached and pending tickets, with the breached ones' average lateness."""
    in_time = breached = pending = 0
    late: list[float] = []
    for t in tickets:
        due = t.sla_due
        if due is None:  # best effort (warranty): not on the SLA
            continue
        if t.responded is not None and t.responded <= due:
            in_time += 1
        elif t.responded is not None or now > due:
            breached += 1
            late.append(lateness(due, t.responded, now).total_seconds())
        else:
            pending += 1
    average = sum(late) / len(late) if late else None
    return SlaCompliance(in_time + breached + pending, in_time, breached, pending, average)


@dataclass(frozen=True, slots=True)
class SupportReport:
    """Every figure of the report for a date range; ``tables()`` for display and CSV."""

    first: dt.date
    last: dt.date
    calls: int
    by_tier: dict[str, int]
    by_outcome: dict[str, int]
    by_tier_outcome: dict[tuple[str, str], int]
    sla_by_tier: dict[str, SlaCompliance]
    sla_total: SlaCompliance
    waits_by_tier: dict[str, WaitStats]
    waits_total: WaitStats
    lockouts: tuple[LockoutEvent, ...]
    host_id_not_found: dict[str, int]  # reseller account -> calls that gave up on the Host ID
    host_id_no_input: dict[str, int]  # reseller account -> calls that keyed no Host ID (silence)
    renewal_leads: tuple[RenewalLead, ...]
    tickets_by_kind: dict[str, TicketFigures]

    def tables(self) -> list[Table]:
        """The report as tables, in the order they are printed."""
        return report_tables(self)


def build_report(
    first: dt.date,
    last: dt.date,
    calls: Sequence[CallRow],
    tickets: Sequence[TicketRow],
    lockouts: Sequence[LockoutEvent],
    systems: dict[str, SystemInfo],
    now: dt.datetime,
) -> SupportReport:
    """The report from the range's calls, tickets (created in it) and lockouts."""
    outcomes = {c.call_id: outcome_of(c) for c in calls}
    by_tier = Counter(c.tier for c in calls)
    by_outcome = Counter(outcomes.values())
    matrix = Counter((c.tier, outcomes[c.call_id]) for c in calls)
    waits: dict[str, list[float]] = {}
    for c in calls:
        if c.queue_wait is not None:
            waits.setdefault(c.tier, []).append(c.queue_wait)
    not_found = Counter(
        c.reseller_account or "(none)" for c in calls if "host_id:failed" in c.steps
    )
    no_input = Counter(
        c.reseller_account or "(none)" for c in calls if "host_id:no_input" in c.steps
    )
    on_sla = [t for t in tickets if t.sla_due is not None]  # warranty tickets have no SLA
    return SupportReport(
        first=first,
        last=last,
        calls=len(calls),
        by_tier={tier: by_tier[tier] for tier in TIERS if by_tier[tier]},
        by_outcome={o: by_outcome[o] for o in CallOutcome.ALL if by_outcome[o]},
        by_tier_outcome=dict(matrix),
        sla_by_tier={
            tier: sla_compliance([t for t in on_sla if t.tier == tier], now)
            for tier in TIERS
            if any(t.tier == tier for t in on_sla)
        },
        sla_total=sla_compliance(on_sla, now),
        waits_by_tier={tier: wait_stats(w) for tier, w in sorted(waits.items())},
        waits_total=wait_stats([w for ws in waits.values() for w in ws]),
        lockouts=tuple(sorted(lockouts, key=lambda e: e.at)),
        host_id_not_found=dict(sorted(not_found.items())),
        host_id_no_input=dict(sorted(no_input.items())),
        renewal_leads=renewal_leads(calls, systems),
        tickets_by_kind={
            kind.value: ticket_figures([t for t in tickets if t.kind == kind.value])
            for kind in TicketKind
            if any(t.kind == kind.value for t in tickets)
        },
    )


def lead_kinds(call: CallRow) -> tuple[str, ...]:
    """The renewal leads one call makes: an expired contract, an expired warranty, or both."""
    kinds = []
    if SUPPORT_EXPIRED_STEP in call.steps or (
        call.decision == "renewals" and WARRANTY_EXPIRED_STEP not in call.steps
    ):
        kinds.append(LeadKind.SUPPORT)
    if WARRANTY_EXPIRED_STEP in call.steps:
        kinds.append(LeadKind.WARRANTY)
    return tuple(kinds)


def renewal_leads(
    calls: Iterable[CallRow], systems: dict[str, SystemInfo]
) -> tuple[RenewalLead, ...]:
    """One lead per system and kind (contract, warranty) called about, latest call first."""
    found: dict[tuple[str, str], list[CallRow]] = {}
    for c in calls:
        for kind in lead_kinds(c):
            found.setdefault((c.host_id, kind), []).append(c)
    leads = []
    for (host_id, kind), host_calls in found.items():
        info = systems.get(host_id, SystemInfo("", None, ""))
        latest = max(host_calls, key=lambda c: c.started)
        leads.append(
            RenewalLead(
                reseller_account=latest.reseller_account,
                reseller_name=info.reseller_name,
                end_customer=info.end_customer,
                host_id=host_id,
                expired=info.warranty_until if kind == LeadKind.WARRANTY else info.support_expires,
                calls=len(host_calls),
                last_call=latest.started,
                kind=kind,
            )
        )
    return tuple(sorted(leads, key=lambda lead: lead.last_call, reverse=True))


@dataclass(frozen=True, slots=True)
class TicketFigures:
    """Tickets of one kind opened in the range: where they stand, and how fast they were taken."""

    tickets: int
    open: int
    acknowledged: int
    resolved: int
    average_response: float | None  # seconds from created to acknowledged (else resolved)


def ticket_figures(tickets: Sequence[TicketRow]) -> TicketFigures:
    """Counts by status and the average response of the responded ones (wall-clock time)."""
    statuses = Counter(t.status for t in tickets)
    waits = [(t.responded - t.created).total_seconds() for t in tickets if t.responded is not None]
    return TicketFigures(
        tickets=len(tickets),
        open=statuses["open"],
        acknowledged=statuses["acknowledged"],
        resolved=statuses["resolved"],
        average_response=sum(waits) / len(waits) if waits else None,
    )


def _seconds(value: float | None) -> Cell:
    return "" if value is None else round(value, 1)


def _hours(seconds: float | None) -> Cell:
    return "" if seconds is None else round(seconds / 3600, 1)


def _percent(value: float | None) -> Cell:
    return "" if value is None else round(100 * value, 1)


def report_tables(report: SupportReport) -> list[Table]:
    """Every table of a report."""
    tiers = [t for t in TIERS if t in report.by_tier]
    outcomes = [o for o in CallOutcome.ALL if o in report.by_outcome]
    sla_rows = [
        (tier, s.tickets, s.in_time, s.breached, s.pending, _percent(s.compliance),
         _seconds(s.average_late_seconds))
        for tier, s in [*report.sla_by_tier.items(), ("all", report.sla_total)]
    ]  # fmt: skip
    wait_rows = [
        (tier, w.calls, _seconds(w.average), _seconds(w.p90), _seconds(w.longest))
        for tier, w in [*report.waits_by_tier.items(), ("all", report.waits_total)]
    ]
    return [
        Table(
            "calls_by_tier",
            "Calls by tier",
            ("tier", "calls"),
            (*((t, report.by_tier[t]) for t in tiers), ("all", report.calls)),
        ),
        Table(
            "calls_by_outcome",
            "Calls by outcome",
            ("outcome", "calls"),
            tuple((o, report.by_outcome[o]) for o in outcomes),
        ),
        Table(
            "calls_by_tier_and_outcome",
            "Calls by tier and outcome",
            ("tier", *outcomes),
            tuple((t, *(report.by_tier_outcome.get((t, o), 0) for o in outcomes)) for t in tiers),
        ),
        Table(
            "sla_compliance",
            "SLA compliance of tickets opened in the range",
            ("tier", "tickets", "in time", "breached", "pending", "compliance %", "average late s"),
            tuple(sla_rows),
        ),
        Table(
            "queue_waits",
            "Queue waits (seconds)",
            ("tier", "calls", "average", "90th percentile", "longest"),
            tuple(wait_rows),
        ),
        Table(
            "lockouts",
            "PIN lockouts",
            ("at", "scope", "subject"),
            tuple((e.at.isoformat(), e.scope, e.subject) for e in report.lockouts),
        ),
        Table(
            "host_id_not_found",
            "Calls that gave up on the Host ID (not found), by reseller",
            ("reseller", "calls"),
            tuple(report.host_id_not_found.items()),
        ),
        Table(
            "host_id_no_input",
            "Calls that gave up keying no Host ID (silence), by reseller",
            ("reseller", "calls"),
            tuple(report.host_id_no_input.items()),
        ),
        Table(
            "renewal_leads",
            "Renewal leads: calls about expired contracts and warranties",
            (
                "lead",
                "reseller",
                "reseller name",
                "end customer",
                "host id",
                "expired",
                "calls",
                "last call",
            ),
            tuple(
                (
                    lead.kind,
                    lead.reseller_account,
                    lead.reseller_name,
                    lead.end_customer,
                    lead.host_id,
                    lead.expired.isoformat() if lead.expired else "",
                    lead.calls,
                    lead.last_call.isoformat(),
                )
                for lead in report.renewal_leads
            ),
        ),
        Table(
            "tickets_by_kind",
            "Tickets opened in the range, by kind (warranty: best effort, no SLA)",
            ("kind", "tickets", "open", "acknowledged", "resolved", "average response h"),
            tuple(
                (kind, f.tickets, f.open, f.acknowledged, f.resolved, _hours(f.average_response))
                for kind, f in report.tickets_by_kind.items()
            ),
        ),
    ]


@dataclass(frozen=True, slots=True)
class HourPoint:
    """One local hour of a day: calls started, and their queue waits."""

    hour: int
    calls: int
    average_wait: float | None
    p90_wait: float | None


def hourly_series(calls: Iterable[CallRow], day: dt.date, tz: ZoneInfo) -> list[HourPoint]:
    """Calls and waits per local hour of ``day`` (0..23; on the fall-back day 1 am counts twice)."""
    counts: Counter[int] = Counter()
    waits: dict[int, list[float]] = {}
    for c in calls:
        local = c.started.astimezone(tz)
        if local.date() != day:
            continue
        counts[local.hour] += 1
        if c.queue_wait is not None:
            waits.setdefault(local.hour, []).append(c.queue_wait)
    points = []
    for hour in range(24):
        stats = wait_stats(waits.get(hour, []))
        points.append(HourPoint(hour, counts[hour], stats.average, stats.p90))
    return points


@dataclass(frozen=True, slots=True)
class DayPoint:
    """SLA figures of the tickets opened on one local day."""

    day: dt.date
    sla: SlaCompliance


def daily_sla(
    tickets: Iterable[TicketRow], first: dt.date, last: dt.date, tz: ZoneInfo, now: dt.datetime
) -> list[DayPoint]:
    """SLA compliance per local day of ticket creation, every day of the range."""
    by_day: dict[dt.date, list[TicketRow]] = {}
    for t in (t for t in tickets if t.sla_due is not None):  # warranty tickets have no SLA
        by_day.setdefault(t.created.astimezone(tz).date(), []).append(t)
    days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    return [DayPoint(day, sla_compliance(by_day.get(day, []), now)) for day in days]


def series_tables(hours: Sequence[HourPoint], days: Sequence[DayPoint]) -> list[Table]:
    """The chart series as tables (for CSV)."""
    return [
        Table(
            "calls_per_hour",
            "Calls and waits per hour",
            ("hour", "calls", "average wait s", "90th percentile wait s"),
            tuple((p.hour, p.calls, _seconds(p.average_wait), _seconds(p.p90_wait)) for p in hours),
        ),
        Table(
            "sla_per_day",
            "SLA compliance per day",
            ("day", "tickets", "in time", "breached", "pending", "compliance %"),
            tuple(
                (
                    p.day.isoformat(),
                    p.sla.tickets,
                    p.sla.in_time,
                    p.sla.breached,
                    p.sla.pending,
                    _percent(p.sla.compliance),
                )
                for p in days
            ),
        ),
    ]
