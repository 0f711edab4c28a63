"""The README's tables stay tables: every row has its header's columns.

A settings row left at the end of the "Faults tried" table (three cells under a
two-column header) is how a newcomer found the first break.
"""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def tables(text: str) -> list[list[tuple[int, str]]]:
    """Each table of the markdown: its lines (line number, text), header first."""
    found: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("|"):
            current.append((number, line))
        elif current:
            found.append(current)
            current = []
    if current:
        found.append(current)
    return found


def cells(line: str) -> int:
    """How many cells a table line holds (``\\|`` is a pipe inside a cell)."""
    return len(re.split(r"(?<!\\)\|", line.strip().strip("|")))


def table_problems(text: str) -> list[str]:
    """Every row whose cells differ in number from its table's header."""
    problems = []
    for table in tables(text):
        width = cells(table[0][1])
        problems += [
            f"README.md line {number}: {cells(line)} cells under a header of {width}"
            for number, line in table[1:]
            if cells(line) != width
        ]
    return problems


def test_every_readme_row_fits_its_table() -> None:
    """No row with more or fewer cells than its header (a stray row of another table)."""
    assert table_problems(README.read_text(encoding="utf-8")) == []


def test_a_stray_settings_row_is_found() -> None:
    """The check finds the row the newcomer found: a setting under "Faults tried"."""
    faults = (
        "| fault | what survived |\n|---|---|\n| two calls at once | one ticket |\n"
        "| `IVR_LAG_PROBE_FILE` | (none) | diagnostics |\n"
    )
    assert table_problems(faults) == ["README.md line 4: 3 cells under a header of 2"]
