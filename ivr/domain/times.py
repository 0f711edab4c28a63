"""Times typed by people (the command line, a demo's query string), parsed strictly."""

from __future__ import annotations

import datetime as dt


def parse_aware_time(text: str) -> dt.datetime:
    """An ISO 8601 time with its UTC offset (``2026-11-25T22:00:00-06:00``)."""
    when = dt.datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise ValueError("the time needs a UTC offset, e.g. 2026-11-25T22:00:00-06:00")
    return when
