"""Supervisor reports on the web: the page, CSV of every table and the JSON API.

All three read the same ``support_report`` and ``report_series`` as ``ivr
report``, for a range of the support centre's local dates (this week and today
unless the query names others).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ivr.domain.report_csv import table_csv
from ivr.domain.reports import SupportReport, Table, series_tables, week_start
from ivr.store.report_data import ReportSeries, report_series, support_report
from ivr.web.context import CLOCK, REDIS, TIMEZONE
from ivr.web.replies import json_reply
from ivr.web.reports_html import RangeForm, reports_page
from ivr.web.security import Access, access, current_account, current_session

MAX_DAYS = 366  # a year at most per request: the report reads every call of the range


@dataclass(frozen=True, slots=True)
class ReportRange:
    """Local dates ``first`` to ``last`` inclusive, and the ``day`` whose hours are charted."""

    first: dt.date
    last: dt.date
    day: dt.date


class RangeError(ValueError):
    """A report range that cannot be shown, naming the field at fault (for the form)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def report_range(query: Mapping[str, str], today: dt.date) -> ReportRange:
    """The range a query asks for: ``from``/``to`` default to this week (Monday to
    today), ``day`` to today, or to ``to`` when that is earlier. Raises RangeError."""

    def date(name: str, default: dt.date) -> dt.date:
        text = query.get(name, "").strip()
        if not text:
            return default
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise RangeError(name, f"{name}: expected a date such as 2026-11-25") from None

    last = date("to", today)
    first = date("from", week_start(last))
    if last < first:
        raise RangeError("to", "to is before from")
    if (last - first).days >= MAX_DAYS:
        raise RangeError("from", f"at most {MAX_DAYS} days at a time")
    return ReportRange(first, last, date("day", min(today, last)))


@dataclass(frozen=True, slots=True)
class Loaded:
    """A report range with its report, every table and the chart series."""

    chosen: ReportRange
    report: SupportReport
    tables: list[Table]
    series: ReportSeries


async def _read(request: web.Request, chosen: ReportRange) -> Loaded:
    now = request.app[CLOCK]()
    tz = request.app[TIMEZONE]
    redis = request.app[REDIS]
    report = await support_report(redis, tz, chosen.first, chosen.last, now)
    series = await report_series(redis, tz, chosen.first, chosen.last, chosen.day, now)
    tables = report.tables() + series_tables(series.hours, series.days)
    return Loaded(chosen, report, tables, series)


async def _load(request: web.Request) -> tuple[ReportRange, list[Table], ReportSeries]:
    today = request.app[CLOCK]().astimezone(request.app[TIMEZONE]).date()
    try:
        chosen = report_range(request.query, today)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"bad report range: {exc}") from None
    loaded = await _read(request, chosen)
    return chosen, loaded.tables, loaded.series


@access(Access.SUPERVISOR)
async def page(request: web.Request) -> web.StreamResponse:
    """The report page: range form, presets, figures, charts, every table, the Export menu.
    A bad date is shown on the form beside its field (400), not as a bare error page."""
    account = current_account(request)
    session = current_session(request)
    tz = request.app[TIMEZONE]
    today = request.app[CLOCK]().astimezone(tz).date()
    query = request.query
    try:
        chosen = report_range(query, today)
    except RangeError as exc:
        form = RangeForm(query.get("from", ""), query.get("to", ""), query.get("day", ""),
                         {exc.field: str(exc)})  # fmt: skip
        html = reports_page(name=account.name, role=account.role.value,
                            csrf=session.csrf if session else "", form=form, today=today, tz=tz,
                            shown=None, report=None, tables=[], series=None)  # fmt: skip
        return web.Response(text=html, content_type="text/html", status=400)
    loaded = await _read(request, chosen)
    form = RangeForm(chosen.first.isoformat(), chosen.last.isoformat(), chosen.day.isoformat(), {})
    html = reports_page(
        name=account.name,
        role=account.role.value,
        csrf=session.csrf if session else "",
        form=form,
        today=today,
        tz=tz,
        shown=(chosen.first, chosen.last, chosen.day),
        report=loaded.report,
        tables=loaded.tables,
        series=loaded.series,
    )
    return web.Response(text=html, content_type="text/html")


@access(Access.SUPERVISOR)
async def csv(request: web.Request) -> web.StreamResponse:
    """One table as a CSV download (``?table=NAME``), formula-safe."""
    chosen, tables, _series = await _load(request)
    name = request.query.get("table", "")
    found = next((t for t in tables if t.name == name), None)
    if found is None:
        names = ", ".join(t.name for t in tables)
        raise web.HTTPNotFound(text=f"no report table {name[:40]!r}; tables: {names}")
    filename = f"{found.name}_{chosen.first.isoformat()}_{chosen.last.isoformat()}.csv"
    return web.Response(
        text=table_csv(found),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def table_json(table: Table) -> dict[str, Any]:
    """A table as the API shows it."""
    return {
        "name": table.name,
        "title": table.title,
        "columns": list(table.columns),
        "rows": [list(row) for row in table.rows],
    }


@access(Access.SUPERVISOR)
async def api(request: web.Request) -> web.StreamResponse:
    """The report as JSON: every table, and the chart series."""
    chosen, tables, series = await _load(request)
    data = {
        "from": chosen.first.isoformat(),
        "to": chosen.last.isoformat(),
        "day": chosen.day.isoformat(),
        "tables": [table_json(t) for t in tables],
        "series": {
            "hours": [dataclasses.asdict(p) for p in series.hours],
            "days": [
                {
                    "day": p.day.isoformat(),
                    **dataclasses.asdict(p.sla),
                    "compliance": p.sla.compliance,
                }
                for p in series.days
            ],
        },
    }
    return json_reply(data)
