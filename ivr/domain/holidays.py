"""Public holidays from the ``holidays`` package, for the configured country and region.

Pure: the package computes holidays from rules, no network or files. Dates are
cached per year because every call builds its calendar from them.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays


class UnknownHolidayRegion(ValueError):
    """The country or subdivision is not known to the ``holidays`` package."""


@cache
def holiday_dates(country: str, subdiv: str, year: int) -> dict[dt.date, str]:
    """The public holidays of one year: date -> name (observed days included)."""
    try:
        table = holidays.country_holidays(country, subdiv=subdiv or None, years=year)
    except NotImplementedError as exc:
        raise UnknownHolidayRegion(f"no holiday calendar for {country!r} {subdiv!r}") from exc
    return {day: str(name) for day, name in table.items() if day.year == year}


def holidays_between(
    country: str, subdiv: str, first: dt.date, last: dt.date
) -> dict[dt.date, str]:
    """Holidays from ``first`` to ``last`` inclusive."""
    return {
        day: name
        for year in range(first.year, last.year + 1)
        for day, name in holiday_dates(country, subdiv, year).items()
        if first <= day <= last
    }
