"""``ivr report``: the supervisors' tables for a range of local dates, and their CSV."""

from __future__ import annotations

import argparse
import asyncio
from typing import TextIO

from ivr.commands.common import fail, open_services
from ivr.config import Settings
from ivr.domain.report_csv import tables_csv
from ivr.domain.reports import series_tables
from ivr.runtime.clock import now_utc
from ivr.store.report_data import report_series, support_report


async def run(args: argparse.Namespace, settings: Settings, _stdin: TextIO) -> int:
    """Print every table; with ``--csv`` also write them to a file."""
    if args.last < args.first:
        return fail("--to is before --from", 2)
    now = now_utc()
    tz = settings.timezone
    async with open_services(settings) as stores:
        redis = stores.redis
        report = await support_report(redis, tz, args.first, args.last, now)
        series = await report_series(redis, tz, args.first, args.last, args.day or args.last, now)
    tables = report.tables() + series_tables(series.hours, series.days)
    print(f"Report {args.first.isoformat()} to {args.last.isoformat()} ({tz.key})")
    for table in tables:
        title = table.title
        if table.name == "calls_per_hour":
            title += f" on {series.day.isoformat()}"
        print(f"\n{title}")
        widths = [len(c) for c in table.columns]
        for row in table.rows:
            widths = [max(w, len(str(cell))) for w, cell in zip(widths, row, strict=True)]
        for row in (table.columns, *table.rows):
            print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)))
        if not table.rows:
            print("(none)")
    if args.csv is not None:
        text = tables_csv(tables)
        try:
            await asyncio.to_thread(args.csv.write_text, text, encoding="utf-8", newline="")
        except OSError as exc:
            return fail(f"cannot write {args.csv}: {exc}")
        print(f"\nCSV written to {args.csv}")
    return 0
