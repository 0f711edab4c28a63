"""HTML of the supervisors' report page: the range form, summary figures, the
charts side by side, and every table in a responsive grid.

Built on the server from the same ``Table`` objects the CLI prints and the CSV
holds; only their presentation differs here: times in the centre's zone, tier
and outcome names in words, numbers right-aligned, all-zero rows folded, empty
tables gathered in one line, one Export menu. Every value is escaped; the
charts are inline SVG from ``charts``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from ivr.domain.display import FOLDABLE, blank_row, cell_text, numeric_column
from ivr.domain.reports import Cell, SupportReport, Table
from ivr.store.report_data import ReportSeries
from ivr.web.charts import calls_per_hour_chart, sla_per_day_chart, waits_per_hour_chart
from ivr.web.html import header, page

WIDE_COLUMNS = 5  # a table with more columns spans the whole grid row


def range_query(first: dt.date, last: dt.date, day: dt.date, **extra: str) -> str:
    """The query string of a report range (plus e.g. ``table=``)."""
    return urlencode(
        {"from": first.isoformat(), "to": last.isoformat(), "day": day.isoformat(), **extra}
    )


def _row_html(row: Sequence[Cell], table: Table, numeric: Sequence[bool], tz: ZoneInfo) -> str:
    cells = []
    for index, (value, column) in enumerate(zip(row, table.columns, strict=True)):
        text = escape(cell_text(value, column, tz)) if value != "" else NONE
        if index == 0:
            cells.append(f'<th scope="row">{text}</th>')
        else:
            cls = ' class="num"' if numeric[index] else ""
            cells.append(f"<td{cls}>{text}</td>")
    return "<tr>" + "".join(cells) + "</tr>"


def table_html(table: Table, tz: ZoneInfo) -> str:
    """One report table in its card; rows of zeros in a series folded under a summary."""
    numeric = [numeric_column(table, i) for i in range(len(table.columns))]
    num = ' class="num"'
    head = "".join(
        f'<th scope="col"{num if numeric[i] else ""}>{escape(c)}</th>'
        for i, c in enumerate(table.columns)
    )
    foldable = table.name in FOLDABLE
    shown = [r for r in table.rows if not (foldable and blank_row(r, numeric))]
    folded = [r for r in table.rows if foldable and blank_row(r, numeric)]
    rows = "".join(_row_html(r, table, numeric, tz) for r in shown)
    if not rows:
        rows = f'<tr><td colspan="{len(table.columns)}" class="muted">All zero.</td></tr>'
    more = ""
    if folded:
        hidden = "".join(_row_html(r, table, numeric, tz) for r in folded)
        more = (
            f'<details class="folded"><summary>{len(folded)} rows with nothing to count</summary>'
            f'<div class="table-wrap" tabindex="0" role="region" aria-label="Folded rows">'
            f"<table><thead><tr>{head}</tr></thead>"
            f"<tbody>{hidden}</tbody></table></div></details>"
        )
    wide = " wide" if len(table.columns) > WIDE_COLUMNS else ""
    return f"""<section class="card report-table{wide}" id="table-{escape(table.name)}" \
aria-labelledby="title-{escape(table.name)}">
<h2 id="title-{escape(table.name)}">{escape(table.title)}</h2>
<div class="table-wrap" tabindex="0" role="region" aria-labelledby="title-{escape(table.name)}">
<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>
{more}
</section>"""


@dataclass(frozen=True, slots=True)
class RangeForm:
    """What the range form shows: the dates as typed, and an error per field."""

    first: str
    last: str
    day: str
    errors: Mapping[str, str]


def _field(name: str, label: str, value: str, errors: Mapping[str, str]) -> str:
    error = errors.get(name, "")
    invalid = f' aria-invalid="true" aria-describedby="{name}-error"' if error else ""
    message = f'<p class="field-error" id="{name}-error">{escape(error)}</p>' if error else ""
    return (
        f'<div class="field"><label for="range-{name}">{escape(label)}</label>'
        f'<input type="date" id="range-{name}" name="{name}" value="{escape(value)}" '
        f"required{invalid}>{message}</div>"
    )


def range_form(form: RangeForm) -> str:
    """The range form; each field's error written beside it."""
    return f"""<form class="card range" method="get" action="/reports" novalidate \
aria-label="Report range">
{_field("from", "From", form.first, form.errors)}
{_field("to", "To", form.last, form.errors)}
{_field("day", "Hours of", form.day, form.errors)}
<div class="buttons"><button type="submit" class="primary">Show</button></div>
</form>"""


def presets(today: dt.date) -> str:
    """Links to today's and this week's report."""
    monday = today - dt.timedelta(days=today.weekday())
    return (
        f'<a class="button" href="/reports?{escape(range_query(today, today, today))}">Today</a>'
        f'<a class="button" href="/reports?{escape(range_query(monday, today, today))}">'
        "This week</a>"
    )


def export_menu(tables: Sequence[Table], first: dt.date, last: dt.date, day: dt.date) -> str:
    """One Export menu holding every table's CSV (a disclosure: no script needed)."""
    items = "".join(
        f'<li><a href="/reports/csv?{escape(range_query(first, last, day, table=t.name))}" '
        f"download>{escape(t.title)}</a></li>"
        for t in tables
    )
    return (
        '<details class="menu"><summary class="button">Export CSV</summary>'
        f'<ul aria-label="CSV files">{items}</ul></details>'
    )


def _figure(label: str, value: str, sub: str = "") -> str:
    return (
        f'<li class="tile"><span class="label">{escape(label)}</span>'
        f'<span class="value">{escape(value)}</span>'
        f'<span class="sub">{escape(sub) or "&nbsp;"}</span></li>'
    )


NONE = "\N{EN DASH}"


def _seconds(value: float | None) -> str:
    return NONE if value is None else f"{value:.0f} s"


def summary_figures(report: SupportReport) -> str:
    """The range at a glance: calls, tickets and SLA, queue waits, lockouts, renewals."""
    sla = report.sla_total
    waits = report.waits_total
    met = f"{round(100 * sla.compliance)}%" if sla.compliance is not None else NONE
    queued = report.by_outcome.get("queue", 0) + report.by_outcome.get("abandoned", 0)
    abandoned = report.by_outcome.get("abandoned", 0)
    return (
        '<ul class="tiles" aria-label="The range at a glance">'
        + _figure("Calls", str(report.calls), f"{queued} to a queue, {abandoned} abandoned")
        + _figure("Tickets", str(sla.tickets), f"{sla.pending} still on the clock")
        + _figure("SLA met", met, f"{sla.in_time} in time, {sla.breached} breached")
        + _figure("Average wait", _seconds(waits.average), f"{waits.calls} queue calls")
        + _figure("90th pct wait", _seconds(waits.p90), f"longest {_seconds(waits.longest)}")
        + _figure("PIN lockouts", str(len(report.lockouts)))
        + _figure("Renewal leads", str(len(report.renewal_leads)), "expired contracts called")
        + "</ul>"
    )


def charts_html(series: ReportSeries, shown: str) -> str:
    """The three charts side by side, each with a caption pointing at its data table."""
    charts = (
        (calls_per_hour_chart(series.hours, shown), "calls_per_hour", "Calls and waits per hour"),
        (waits_per_hour_chart(series.hours, shown), "calls_per_hour", "Calls and waits per hour"),
        (sla_per_day_chart(series.days), "sla_per_day", "SLA compliance per day"),
    )
    figures = "".join(
        f'<figure class="card chart-card">{svg}<figcaption>Figures as a table: '
        f'<a href="#table-{name}">{escape(title)}</a></figcaption></figure>'
        for svg, name, title in charts
    )
    return f'<section class="grid-2" aria-label="Charts">{figures}</section>'


def reports_page(
    *,
    name: str,
    role: str,
    csrf: str,
    form: RangeForm,
    today: dt.date,
    tz: ZoneInfo,
    shown: tuple[dt.date, dt.date, dt.date] | None,
    report: SupportReport | None,
    tables: Sequence[Table],
    series: ReportSeries | None,
) -> str:
    """The report page for a range and a day (``shown``), or the form with its errors."""
    if shown is None or report is None or series is None:
        content = (
            '<p class="notice" role="alert">The report needs a valid range: '
            "correct the dates above.</p>"
        )
        title = "Reports - partner support console"
        toolbar = ""
        lead = ""
    else:
        first, last, day = shown
        filled = [t for t in tables if t.rows]
        empty = [t for t in tables if not t.rows]
        quiet = ""
        if empty:
            names = "".join(f"<li>{escape(t.title)}</li>" for t in empty)
            quiet = (
                '<section class="card" aria-labelledby="quiet-title">'
                '<h2 id="quiet-title">Nothing to report</h2>'
                f'<ul class="quiet">{names}</ul></section>'
            )
        content = (
            summary_figures(report)
            + charts_html(series, day.isoformat())
            + '<div class="grid-2">'
            + "".join(table_html(t, tz) for t in filled)
            + quiet
            + "</div>"
        )
        title = f"Reports {first.isoformat()} to {last.isoformat()} - partner support console"
        toolbar = export_menu(tables, first, last, day)
        lead = (
            f'<p class="muted">Calls and tickets from {first.isoformat()} to '
            f"{last.isoformat()}; hours of {day.isoformat()}; times in {escape(str(tz))}.</p>"
        )
    return page(
        title,
        header("/reports", name, role, csrf)
        + f"""
<main id="main" class="page reports">
<div class="page-head"><h1>Reports</h1><div class="toolbar">{presets(today)}{toolbar}</div></div>
{lead}
{range_form(form)}
<div class="report-body">{content}</div>
</main>""",
    )
