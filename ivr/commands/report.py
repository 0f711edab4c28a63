"""``ivr report``: the supervisors' tables for a range of local dates, and their CSV."""

from __future__ import annotations

import argparse
import asyncio
from typing import TextIO
from zoneinfo import ZoneInfo

from ivr.commands.common import fail, open_services
from ivr.config import Settings
from ivr.domain.display import FOLDABLE, blank_row, cell_text, numeric_column
from ivr.domain.report_csv import tables_csv
from ivr.domain.reports import Table, series_tables, week_start
from ivr.runtime.clock import now_utc
from ivr.store.report_data import report_series, support_report

NOT_APPLICABLE = "n/a"  # a figure that does not apply (no calls: no average wait)


async def run(args: argparse.Namespace, settings: Settings, _stdin: TextIO) -> int:
    """Print every table; with ``--csv`` also write them to a file."""
    now = now_utc()
    tz = settings.timezone
    today = now.astimezone(tz).date()
    # As the report page: this week (Monday to today) unless told otherwise.
    last = args.last or today
    first = args.first or week_start(last)
    if last < first:
        return fail("--to is before --from", 2)
    day = args.day or min(today, last)
    async with open_services(settings) as stores:
        redis = stores.redis
        report = await support_report(redis, tz, first, last, now)
        series = await report_series(redis, tz, first, last, day, now)
    tables = report.tables() + series_tables(series.hours, series.days)
    print(f"Report {first.isoformat()} to {last.isoformat()} ({tz.key})")
    for table in tables:
        title = table.title
        if table.name == "calls_per_hour":
            title += f" on {series.day.isoformat()}"
        print(f"\n{title}")
        for line in table_lines(table, tz):
            print(line)
    if args.csv is not None:
        text = tables_csv(tables)
        try:
            await asyncio.to_thread(args.csv.write_text, text, encoding="utf-8", newline="")
        except OSError as exc:
            return fail(f"cannot write {args.csv}: {exc}")
        print(f"\nCSV written to {args.csv}")
    return 0


def table_lines(table: Table, tz: ZoneInfo) -> list[str]:
    """A table as text, as the report page shows it: names in words, times local,
    figures right-aligned, "n/a" where a figure does not apply, and a series' rows
    of zeros folded into one line."""
    if not table.rows:
        return ["(none)"]
    numeric = [numeric_column(table, i) for i in range(len(table.columns))]
    foldable = table.name in FOLDABLE
    shown = [r for r in table.rows if not (foldable and blank_row(r, numeric))]
    folded = len(table.rows) - len(shown)
    cells = [list(table.columns)] + [
        [cell_text(v, c, tz) if v != "" else NOT_APPLICABLE for v, c in zip(r, table.columns,
                                                                            strict=True)]
        for r in shown
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in cells) for i in range(len(table.columns))]
    lines = [
        "  ".join(
            text.rjust(w) if is_num else text.ljust(w)
            for text, w, is_num in zip(row, widths, numeric, strict=True)
        ).rstrip()
        for row in cells
    ]
    if folded:
        rows = "row" if folded == 1 else "rows"
        lines.append(f"({folded} more {rows} of zeros not shown)" if shown else "(all zero)")
    return lines
