"""CSV export of report tables, safe to open in a spreadsheet.

Text cells that a spreadsheet would take for a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) get a leading apostrophe, so a
name typed into the registry can never run as a formula on a supervisor's
machine. Numbers the report computed are written as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from ivr.domain.reports import Cell, Table

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Cell) -> str:
    """A cell's CSV text, neutralised when text could be read as a formula."""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    return str(value)


def table_csv(table: Table) -> str:
    """One table as CSV: a header row, then its rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in table.columns])
    writer.writerows([safe_cell(c) for c in row] for row in table.rows)
    return out.getvalue()


def tables_csv(tables: Iterable[Table]) -> str:
    """Several tables in one CSV: each as its title row, header and rows, then a blank row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for table in tables:
        writer.writerow([safe_cell(table.title)])
        writer.writerow([safe_cell(c) for c in table.columns])
        writer.writerows([safe_cell(c) for c in row] for row in table.rows)
        writer.writerow([])
    return out.getvalue()
