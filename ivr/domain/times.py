"""Times typed by people (the command line, a demo's query string), parsed strictly."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def parse_aware_time(text: str) -> dt.datetime:
    """An ISO 8601 time with its UTC offset (``2026-11-25T22:00:00-06:00``)."""
    when = dt.datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise ValueError("the time needs a UTC offset, e.g. 2026-11-25T22:00:00-06:00")
    return when


def parse_local_time(text: str, tz: ZoneInfo) -> dt.datetime:
    """An ISO 8601 time; one without a UTC offset is a wall time in ``tz`` (the centre's)."""
    when = dt.datetime.fromisoformat(text)
    return when if when.tzinfo is not None else when.replace(tzinfo=tz)
