"""The real clock, read in one place and passed down (tests pass their own)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def now_utc() -> dt.datetime:
    """Now, as an aware UTC time."""
    return dt.datetime.now(dt.UTC)


def clock_from(start: dt.datetime) -> Clock:
    """A clock that reads ``start`` now and runs on in real time from there (demos, tests)."""
    origin = time.monotonic()
    return lambda: start + dt.timedelta(seconds=time.monotonic() - origin)
