"""HTML of the supervisors' report page: the range form, the charts and every table.

Built on the server from the same ``Table`` objects the CLI prints and the CSV
holds; every value is escaped, the charts are inline SVG from ``charts``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape
from urllib.parse import urlencode

from ivr.domain.reports import Table
from ivr.store.report_data import ReportSeries
from ivr.web.charts import calls_per_hour_chart, sla_per_day_chart, waits_per_hour_chart
from ivr.web.html import header, page


def range_query(first: dt.date, last: dt.date, day: dt.date, **extra: str) -> str:
    """The query string of a report range (plus e.g. ``table=``)."""
    return urlencode(
        {"from": first.isoformat(), "to": last.isoformat(), "day": day.isoformat(), **extra}
    )


def table_html(table: Table, csv_href: str) -> str:
    """One report table with its CSV link; an empty table says so."""
    head = "".join(f"<th>{escape(c)}</th>" for c in table.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in table.rows
    )
    if not rows:
        rows = f'<tr><td colspan="{len(table.columns)}" class="muted">(none)</td></tr>'
    return f"""<section class="report-table" id="table-{escape(table.name)}">
<h2>{escape(table.title)}</h2>
<p><a class="csv" href="{escape(csv_href)}" download>Download CSV</a></p>
<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>
</section>"""


def reports_page(
    *,
    name: str,
    role: str,
    csrf: str,
    first: dt.date,
    last: dt.date,
    day: dt.date,
    today: dt.date,
    tables: Sequence[Table],
    series: ReportSeries,
) -> str:
    """The report page for a range and a day."""
    monday = today - dt.timedelta(days=today.weekday())
    presets = (
        f'<a class="preset" href="/reports?{escape(range_query(today, today, today))}">Today</a> '
        f'<a class="preset" href="/reports?{escape(range_query(monday, today, today))}">'
        "This week</a>"
    )
    form = f"""<form class="range" method="get" action="/reports">
<label>From <input type="date" name="from" value="{first.isoformat()}" required></label>
<label>To <input type="date" name="to" value="{last.isoformat()}" required></label>
<label>Hours of <input type="date" name="day" value="{day.isoformat()}" required></label>
<button type="submit">Show</button> {presets}
</form>"""
    shown = day.isoformat()
    charts = f"""<section class="charts" aria-label="Charts">
{calls_per_hour_chart(series.hours, shown)}
{waits_per_hour_chart(series.hours, shown)}
{sla_per_day_chart(series.days)}
</section>"""
    body = "\n".join(
        table_html(t, f"/reports/csv?{range_query(first, last, day, table=t.name)}") for t in tables
    )
    return page(
        f"Reports {first.isoformat()} to {last.isoformat()} - partner support line",
        header("Reports", name, role, csrf)
        + f"""
<main class="reports">
<p class="muted">Calls and tickets from {first.isoformat()} to {last.isoformat()};
hours of {shown}.</p>
{form}
{charts}
{body}
</main>""",
    )
