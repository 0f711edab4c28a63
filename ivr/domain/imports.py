"""CSV import files: parsed and validated as a whole, no I/O.

A file with any bad row is rejected with every bad row's line number and reason;
nothing of it is returned. Reasons never include a PIN.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field

from ivr.domain.records import (
    ACCOUNT_RE,
    HOST_ID_RE,
    PIN_RE,
    Reseller,
    ResellerStatus,
    System,
    Tier,
    normalize_phone,
)

MAX_ROWS = 100_000
MAX_TEXT = 200
RESELLER_COLUMNS = ("account", "name", "pin", "phones")
RESELLER_OPTIONAL = ("status",)
SYSTEM_COLUMNS = (
    "host_id",
    "reseller_account",
    "end_customer",
    "system_type",
    "software_release",
    "tier",
    "support_expires",
    "warranty_expires",
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FORMULA_START = ("=", "+", "-", "@")


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad row: its line in the file and what is wrong."""

    line: int
    message: str


class ImportRejected(Exception):
    """The file was rejected whole; ``errors`` lists every bad row."""

    def __init__(self, errors: Collection[RowError]) -> None:
        self.errors = tuple(sorted(errors, key=lambda e: e.line))
        super().__init__("\n".join(f"line {e.line}: {e.message}" for e in self.errors))


@dataclass(frozen=True, slots=True)
class ResellerRow:
    """A reseller and the PIN from the file (None when empty; never shown in repr)."""

    reseller: Reseller
    pin: str | None = field(repr=False)


class _RowInvalid(Exception):
    """A reason a row is bad (collected, not raised past this module)."""


def _rows(
    text: str, columns: tuple[str, ...], optional: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) for every non-blank data row; check the header."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ImportRejected([RowError(1, f"not valid CSV: {exc}")]) from None
    if header is None:
        raise ImportRejected([RowError(1, "the file is empty: a header row is required")])
    names = [h.strip().lower() for h in header]
    missing = [c for c in columns if c not in names]
    extra = [n for n in names if n not in columns and n not in optional]
    if missing or extra or len(set(names)) != len(names):
        raise ImportRejected(
            [
                RowError(
                    1, f"header must be {','.join(columns)} (missing: {missing}, unknown: {extra})"
                )
            ]
        )
    count = 0
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportRejected([RowError(reader.line_num, f"not valid CSV: {exc}")]) from None
        if not any(v.strip() for v in values):
            continue
        count += 1
        if count > MAX_ROWS:
            raise ImportRejected([RowError(line, f"more than {MAX_ROWS} rows")])
        if len(values) != len(names):
            yield line, {"__error__": f"expected {len(names)} fields, found {len(values)}"}
            continue
        yield line, {n: v.strip() for n, v in zip(names, values, strict=True)}


def _text(row: dict[str, str], key: str, *, required: bool = True) -> str:
    value = row.get(key, "")
    if required and not value:
        raise _RowInvalid(f"{key} is empty")
    if len(value) > MAX_TEXT:
        raise _RowInvalid(f"{key} is longer than {MAX_TEXT} characters")
    if _CONTROL.search(value):
        raise _RowInvalid(f"{key} contains a control character (line break, tab, ...)")
    if value.startswith(_FORMULA_START):
        raise _RowInvalid(f"{key} starts with {value[0]!r}: spreadsheet formulas are not accepted")
    return value


def _matching(row: dict[str, str], key: str, pattern: re.Pattern[str], what: str) -> str:
    value = row.get(key, "")
    if not pattern.match(value):
        raise _RowInvalid(f"{key} must be {what}")
    return value


def _date(row: dict[str, str], key: str, *, required: bool = True) -> dt.date | None:
    value = row.get(key, "")
    if not value and not required:
        return None
    try:
        return (
            dt.date.fromisoformat(value)
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
            else _bad_date(key)
        )
    except ValueError:
        return _bad_date(key)


def _bad_date(key: str) -> dt.date:
    raise _RowInvalid(f"{key} must be a date YYYY-MM-DD")


def _tier(value: str) -> Tier:
    key = re.sub(r"[\s-]+", "_", value.strip().lower())
    try:
        return Tier(key)
    except ValueError:
        raise _RowInvalid("tier must be standard, premium or premium_plus") from None


def _collect(
    text: str,
    columns: tuple[str, ...],
    optional: tuple[str, ...],
    parse: Callable[[dict[str, str]], object],
    key_of: Callable[[dict[str, str]], str],
) -> list[object]:
    errors: list[RowError] = []
    parsed: list[object] = []
    first_seen: dict[str, int] = {}
    for line, row in _rows(text, columns, optional):
        if "__error__" in row:
            errors.append(RowError(line, row["__error__"]))
            continue
        try:
            item = parse(row)
        except _RowInvalid as exc:
            errors.append(RowError(line, str(exc)))
            continue
        key = key_of(row)
        if key in first_seen:
            errors.append(RowError(line, f"{key} appears twice (first on line {first_seen[key]})"))
            continue
        first_seen[key] = line
        parsed.append(item)
    if errors:
        raise ImportRejected(errors)
    return parsed


def parse_resellers(text: str) -> list[ResellerRow]:
    """Every reseller row of a ``account,name,pin,phones[,status]`` file."""

    def parse(row: dict[str, str]) -> ResellerRow:
        account = _matching(row, "account", ACCOUNT_RE, "3 to 12 digits")
        pin = row.get("pin", "")
        if pin and not PIN_RE.match(pin):
            raise _RowInvalid("pin must be 4 to 12 digits")
        phones: list[str] = []
        for raw in filter(None, (p.strip() for p in row.get("phones", "").split(";"))):
            phone = normalize_phone(raw)
            if phone is None:
                raise _RowInvalid(f"phone {raw[:30]!r} is not a phone number")
            phones.append(phone)
        status = row.get("status", "") or ResellerStatus.ACTIVE.value
        if status.lower() not in {s.value for s in ResellerStatus}:
            raise _RowInvalid("status must be active or suspended")
        reseller = Reseller(
            account=account,
            name=_text(row, "name"),
            phones=tuple(dict.fromkeys(phones)),
            status=ResellerStatus(status.lower()),
        )
        return ResellerRow(reseller, pin or None)

    rows = _collect(text, RESELLER_COLUMNS, RESELLER_OPTIONAL, parse, lambda r: r["account"])
    return [r for r in rows if isinstance(r, ResellerRow)]


def parse_systems(text: str, known_accounts: Collection[str] | None = None) -> list[System]:
    """Every system row; owners must be in ``known_accounts`` when it is given."""

    def parse(row: dict[str, str]) -> System:
        host_id = _matching(row, "host_id", HOST_ID_RE, "3 to 16 digits")
        account = _matching(row, "reseller_account", ACCOUNT_RE, "3 to 12 digits")
        if known_accounts is not None and account not in known_accounts:
            raise _RowInvalid(f"reseller_account {account} is not a known reseller")
        expires = _date(row, "support_expires")
        assert expires is not None  # noqa: S101  (required=True never returns None)
        return System(
            host_id=host_id,
            reseller_account=account,
            end_customer=_text(row, "end_customer"),
            system_type=_text(row, "system_type"),
            software_release=_text(row, "software_release"),
            tier=_tier(row.get("tier", "")),
            support_expires=expires,
            warranty_expires=_date(row, "warranty_expires", required=False),
        )

    rows = _collect(text, SYSTEM_COLUMNS, (), parse, lambda r: r["host_id"])
    return [r for r in rows if isinstance(r, System)]
