"""The hardware warranty from the vendor's Assurance Services terms: pure rules, day passed in.

Every system and Infinity telephone set has one year of hardware warranty from
its purchase; a system's warranty can be extended once, by at most a year past
the original (telephone sets and SIP clients are excluded from extension). A
warranty request is covered while the warranty, original or extended, is active:
on or before its last day, like a support contract. The registry's defaults from
a purchase date (one year of Standard support, one year of warranty) are here too,
so the import and the call decide by the same terms.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ivr.domain.records import System, Tier

WARRANTY_YEARS = 1
MAX_EXTENSION_YEARS = 1
DEFAULT_SUPPORT_YEARS = 1
DEFAULT_SUPPORT_TIER = Tier.STANDARD


def years_after(day: dt.date, years: int) -> dt.date:
    """The same date ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def default_support_expires(purchased: dt.date) -> dt.date:
    """A purchase includes a year of Standard support."""
    return years_after(purchased, DEFAULT_SUPPORT_YEARS)


def default_warranty_expires(purchased: dt.date) -> dt.date:
    """A purchase includes a year of hardware warranty."""
    return years_after(purchased, WARRANTY_YEARS)


def extension_problem(original: dt.date | None, extended: dt.date) -> str | None:
    """Why a system's warranty extension is refused, or None when the terms allow it."""
    if original is None:
        return "warranty_extended_until needs the original warranty (warranty_expires or purchased)"
    if extended <= original:
        return (
            f"warranty_extended_until {extended.isoformat()} is not after the original "
            f"warranty ({original.isoformat()})"
        )
    latest = years_after(original, MAX_EXTENSION_YEARS)
    if extended > latest:
        return (
            f"warranty_extended_until {extended.isoformat()} is more than one year past the "
            f"original warranty ({original.isoformat()}): at most {latest.isoformat()}"
        )
    return None


def telephone_warranty_problem(purchased: dt.date | None, expires: dt.date) -> str | None:
    """Why a telephone set's warranty is refused: never more than the year from purchase."""
    if purchased is not None and expires > default_warranty_expires(purchased):
        return (
            f"warranty_expires {expires.isoformat()} is more than one year after purchased "
            f"({purchased.isoformat()}): telephone sets and SIP clients are excluded from "
            "extended warranty"
        )
    return None


@dataclass(frozen=True, slots=True)
class WarrantyCover:
    """A system's hardware warranty on one day."""

    active: bool
    until: dt.date | None  # its last day (the extension's, if bought); None: none recorded
    extended: bool = False  # active only through the extension (telephone sets not covered)


def warranty_until(original: dt.date | None, extended: dt.date | None) -> dt.date | None:
    """The last day of a warranty: the extension's if one was bought, else the original's."""
    dates = [d for d in (original, extended) if d is not None]
    return max(dates) if dates else None


def warranty_cover(system: System, day: dt.date) -> WarrantyCover:
    """Whether a warranty request about ``system`` is covered on ``day``, and until when."""
    original = system.warranty_expires
    until = warranty_until(original, system.warranty_extended_until)
    if until is None:
        return WarrantyCover(active=False, until=None)
    active = day <= until
    extended = active and (original is None or day > original)
    return WarrantyCover(active=active, until=until, extended=extended)


def warranty_instead(system: System, day: dt.date) -> bool:
    """The support contract has expired but the hardware warranty is active: option 4 helps."""
    return not system.covered_on(day) and warranty_cover(system, day).active
