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
    TelephoneSet,
    Tier,
    normalize_phone,
)
from ivr.domain.warranty import (
    DEFAULT_SUPPORT_TIER,
    default_support_expires,
    default_warranty_expires,
    extension_problem,
    telephone_warranty_problem,
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
SYSTEM_OPTIONAL = ("purchased", "warranty_extended_until")
TELEPHONE_COLUMNS = ("host_id", "serial", "model", "purchased", "warranty_expires")
TELEPHONE_OPTIONAL = ("warranty_extended_until",)
SERIAL_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FORMULA_START = ("=", "+", "-", "@")


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad row: its line in the file and every reason it is bad."""

    line: int
    reasons: tuple[str, ...]

    @property
    def message(self) -> str:
        """Every reason, in one line."""
        return "; ".join(self.reasons)

    def lines(self) -> list[str]:
        """The row as a person reads it: ``line N: reason``, each further reason below."""
        head = f"line {self.line}: "
        return [f"{head}{self.reasons[0]}"] + [f"{'':{len(head)}}{r}" for r in self.reasons[1:]]


class ImportRejected(Exception):
    """The file was rejected whole; ``errors`` lists every bad row."""

    def __init__(self, errors: Collection[RowError]) -> None:
        self.errors = tuple(sorted(errors, key=lambda e: e.line))
        super().__init__("\n".join(line for e in self.errors for line in e.lines()))


def _error(line: int, *reasons: str) -> RowError:
    return RowError(line, reasons)


@dataclass(frozen=True, slots=True)
class ResellerRow:
    """A reseller and the PIN from the file (None when empty; never shown in repr)."""

    reseller: Reseller
    pin: str | None = field(repr=False)


class _RowInvalid(Exception):
    """The reasons a row is bad (collected, not raised past this module)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = tuple(reasons)


def _rows(
    text: str, columns: tuple[str, ...], optional: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) for every non-blank data row; check the header."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ImportRejected([_error(1, f"not valid CSV: {exc}")]) from None
    if header is None:
        raise ImportRejected([_error(1, "the file is empty: a header row is required")])
    names = [h.strip().lower() for h in header]
    missing = [c for c in columns if c not in names]
    extra = [n for n in names if n not in columns and n not in optional]
    twice = sorted({n for n in names if names.count(n) > 1})
    if missing or extra or twice:
        reasons = [f"header must be {','.join(columns)}"]
        reasons += [f"column {name} is missing" for name in missing]
        reasons += [f"column {name!r} is not known" for name in extra]
        reasons += [f"column {name} appears twice" for name in twice]
        raise ImportRejected([_error(1, *reasons)])
    count = 0
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportRejected([_error(reader.line_num, f"not valid CSV: {exc}")]) from None
        if not any(v.strip() for v in values):
            continue
        count += 1
        if count > MAX_ROWS:
            raise ImportRejected([_error(line, f"more than {MAX_ROWS} rows")])
        if len(values) != len(names):
            yield line, {"__error__": f"expected {len(names)} fields, found {len(values)}"}
            continue
        yield line, {n: v.strip() for n, v in zip(names, values, strict=True)}


class _Fields:
    """One row's cells, checked one by one: every reason a row is bad is kept."""

    def __init__(self, row: dict[str, str]) -> None:
        self.row = row
        self.reasons: list[str] = []

    def refuse(self, reason: str) -> None:
        """Note one more reason the row is bad."""
        self.reasons.append(reason)

    def text(self, key: str, *, required: bool = True) -> str:
        """Plain text: no control characters, nothing a spreadsheet would run."""
        value = self.row.get(key, "")
        if required and not value:
            self.refuse(f"{key} is empty")
        elif len(value) > MAX_TEXT:
            self.refuse(f"{key} is longer than {MAX_TEXT} characters")
        elif _CONTROL.search(value):
            self.refuse(f"{key} contains a control character (line break, tab, ...)")
        elif value.startswith(_FORMULA_START):
            self.refuse(f"{key} starts with {value[0]!r}: spreadsheet formulas are not accepted")
        else:
            return value
        return ""

    def matching(self, key: str, pattern: re.Pattern[str], what: str) -> str:
        """A value that must match ``pattern`` (digits of an account, a Host ID, ...)."""
        value = self.row.get(key, "")
        if not pattern.match(value):
            self.refuse(f"{key} must be {what}")
            return ""
        return value

    def date(self, key: str) -> dt.date | None:
        """A date ``YYYY-MM-DD``; None when the cell is empty or bad (a bad one is refused)."""
        value = self.row.get(key, "")
        if not value:
            return None
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                return dt.date.fromisoformat(value)
        except ValueError:
            pass
        self.refuse(f"{key} must be a date YYYY-MM-DD")
        return None

    def tier(self, key: str) -> Tier | None:
        """A support tier, forgiving of case, spaces and hyphens."""
        name = re.sub(r"[\s-]+", "_", self.row.get(key, "").strip().lower())
        try:
            return Tier(name)
        except ValueError:
            self.refuse(f"{key} must be standard, premium or premium_plus")
            return None

    def done(self) -> None:
        """Raise with every reason found, if any."""
        if self.reasons:
            raise _RowInvalid(self.reasons)


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
    try:
        for line, row in _rows(text, columns, optional):
            if "__error__" in row:
                errors.append(_error(line, row["__error__"]))
                continue
            reasons: list[str] = []
            item = None
            try:
                item = parse(row)
            except _RowInvalid as exc:
                reasons += exc.reasons
            key = key_of(row)
            if key and key in first_seen:
                reasons.append(f"{key} appears twice (first on line {first_seen[key]})")
            first_seen.setdefault(key, line)
            if reasons:
                errors.append(RowError(line, tuple(reasons)))
            else:
                parsed.append(item)
    except ImportRejected as stopped:  # the file cannot be read on: keep what was found
        raise ImportRejected([*errors, *stopped.errors]) from None
    if errors:
        raise ImportRejected(errors)
    return parsed


def parse_resellers(text: str) -> list[ResellerRow]:
    """Every reseller row of a ``account,name,pin,phones[,status]`` file."""

    def parse(row: dict[str, str]) -> ResellerRow:
        cells = _Fields(row)
        account = cells.matching("account", ACCOUNT_RE, "3 to 12 digits")
        name = cells.text("name")
        pin = row.get("pin", "")
        if pin and not PIN_RE.match(pin):
            cells.refuse("pin must be 4 to 12 digits")
        phones: list[str] = []
        for raw in filter(None, (p.strip() for p in row.get("phones", "").split(";"))):
            phone = normalize_phone(raw)
            if phone is None:
                cells.refuse(f"phone {raw[:30]!r} is not a phone number")
            else:
                phones.append(phone)
        status = (row.get("status", "") or ResellerStatus.ACTIVE.value).lower()
        if status not in {s.value for s in ResellerStatus}:
            cells.refuse("status must be active or suspended")
        cells.done()
        reseller = Reseller(
            account=account,
            name=name,
            phones=tuple(dict.fromkeys(phones)),
            status=ResellerStatus(status),
        )
        return ResellerRow(reseller, pin or None)

    rows = _collect(text, RESELLER_COLUMNS, RESELLER_OPTIONAL, parse, lambda r: r["account"])
    return [r for r in rows if isinstance(r, ResellerRow)]


def parse_systems(text: str, known_accounts: Collection[str] | None = None) -> list[System]:
    """Every system row; owners must be in ``known_accounts`` when it is given.

    With ``purchased`` given, an empty ``support_expires`` is a year of support
    from the purchase (at Standard when ``tier`` is empty too) and an empty
    ``warranty_expires`` a year of warranty; ``warranty_extended_until`` is at
    most one year past the original warranty.
    """

    def parse(row: dict[str, str]) -> System:
        cells = _Fields(row)
        host_id = cells.matching("host_id", HOST_ID_RE, "3 to 16 digits")
        account = cells.matching("reseller_account", ACCOUNT_RE, "3 to 12 digits")
        if account and known_accounts is not None and account not in known_accounts:
            cells.refuse(f"reseller_account {account} is not a known reseller")
        end_customer = cells.text("end_customer")
        system_type = cells.text("system_type")
        software_release = cells.text("software_release")
        purchased = cells.date("purchased")
        support = cells.date("support_expires")
        defaulted = not row.get("support_expires", "")
        if defaulted and purchased is not None:
            support = default_support_expires(purchased)
        elif defaulted and not row.get("purchased", ""):
            cells.refuse("support_expires and purchased are both empty: give one")
        tier = cells.tier("tier") if row.get("tier", "") or not defaulted else DEFAULT_SUPPORT_TIER
        warranty = cells.date("warranty_expires")
        if warranty is None and purchased is not None and not row.get("warranty_expires", ""):
            warranty = default_warranty_expires(purchased)
        extended = cells.date("warranty_extended_until")
        if extended is not None and (problem := extension_problem(warranty, extended)):
            cells.refuse(problem)
        cells.done()
        assert support is not None  # noqa: S101  (else a reason was given)
        assert tier is not None  # noqa: S101  (else a reason was given)
        return System(
            host_id=host_id,
            reseller_account=account,
            end_customer=end_customer,
            system_type=system_type,
            software_release=software_release,
            tier=tier,
            support_expires=support,
            warranty_expires=warranty,
            purchased=purchased,
            warranty_extended_until=extended,
        )

    rows = _collect(text, SYSTEM_COLUMNS, SYSTEM_OPTIONAL, parse, lambda r: r["host_id"])
    return [r for r in rows if isinstance(r, System)]


def parse_telephones(text: str, known_hosts: Collection[str] | None = None) -> list[TelephoneSet]:
    """Every Infinity telephone set (or SIP client) of a ``host_id,serial,...`` file.

    ``host_id`` is the parent system's (one of ``known_hosts`` when given). The
    warranty is a year from ``purchased`` unless given, and never extended: a
    ``warranty_extended_until``, or a warranty past a year from purchase, is refused.
    """

    def parse(row: dict[str, str]) -> TelephoneSet:
        cells = _Fields(row)
        host_id = cells.matching("host_id", HOST_ID_RE, "3 to 16 digits (the parent system)")
        if host_id and known_hosts is not None and host_id not in known_hosts:
            cells.refuse(f"host_id {host_id} is not a system in the registry")
        serial = cells.matching("serial", SERIAL_RE, "1 to 32 letters, digits or inner hyphens")
        model = cells.text("model")
        purchased = cells.date("purchased")
        expires = cells.date("warranty_expires")
        if expires is None and purchased is not None and not row.get("warranty_expires", ""):
            expires = default_warranty_expires(purchased)
        if not row.get("purchased", "") and not row.get("warranty_expires", ""):
            cells.refuse("purchased and warranty_expires are both empty: give one")
        if expires is not None and (problem := telephone_warranty_problem(purchased, expires)):
            cells.refuse(problem)
        if row.get("warranty_extended_until", ""):
            cells.refuse(
                "warranty_extended_until must be empty: telephone sets and SIP clients are "
                "excluded from extended warranty"
            )
        cells.done()
        assert expires is not None  # noqa: S101  (else a reason was given)
        return TelephoneSet(
            host_id=host_id, serial=serial, model=model, warranty_expires=expires,
            purchased=purchased,
        )  # fmt: skip

    rows = _collect(text, TELEPHONE_COLUMNS, TELEPHONE_OPTIONAL, parse, lambda r: r["serial"])
    return [r for r in rows if isinstance(r, TelephoneSet)]
