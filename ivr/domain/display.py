"""How values read to a person, on the report page and at the command line alike:
tier names in words, times in the centre's zone to the minute, figures told from
labels, and the rows of zeros a series may fold away.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from ivr.domain.records import Tier
from ivr.domain.reports import Cell, Table

TIER_NAMES = {Tier.STANDARD: "Standard", Tier.PREMIUM: "Premium", Tier.PREMIUM_PLUS: "Premium Plus"}
WORDED_COLUMNS = frozenset({"tier"})
# Tables whose rows are a series over time: a row of zeros is folded, not deleted.
FOLDABLE = frozenset({"calls_per_hour", "sla_per_day", "calls_by_tier_and_outcome"})
MINUTE = "%Y-%m-%d %H:%M"


def local_minute(value: str, tz: ZoneInfo, *, zone: bool = False) -> str | None:
    """An ISO time with an offset as the centre's local time to the minute (``zone``:
    with its abbreviation, CST), else None."""
    if len(value) <= 10 or value[4:5] != "-" or "T" not in value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(tz).strftime(f"{MINUTE} %Z" if zone else MINUTE)


def cell_text(value: Cell, column: str, tz: ZoneInfo) -> str:
    """A report cell in words: ISO times as local minutes, tiers by name, hours as 09:00."""
    if isinstance(value, str):
        if column in WORDED_COLUMNS and value in TIER_NAMES:
            return TIER_NAMES[Tier(value)]
        return local_minute(value, tz) or value
    if column == "hour" and isinstance(value, int):
        return f"{value:02d}:00"
    return str(value)


def numeric_column(table: Table, index: int) -> bool:
    """Whether a column holds figures (every non-empty cell a number; the label
    column never)."""
    values = [row[index] for row in table.rows if row[index] != ""]
    return index > 0 and all(isinstance(v, int | float) for v in values)


def blank_row(row: Sequence[Cell], numeric: Sequence[bool]) -> bool:
    """A row whose figures are all zero or empty (its label aside)."""
    figures = [v for v, is_num in zip(row[1:], numeric[1:], strict=True) if is_num]
    return bool(figures) and all(v in (0, 0.0, "") for v in figures)
