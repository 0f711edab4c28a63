"""CSV import validation: whole files accepted or rejected with every bad line."""

from __future__ import annotations

import datetime as dt

import pytest

from ivr.domain.imports import ImportRejected, parse_resellers, parse_systems
from ivr.domain.records import ResellerStatus, Tier

R_HEAD = "account,name,pin,phones\n"
S_HEAD = (
    "host_id,reseller_account,end_customer,system_type,software_release,tier,"
    "support_expires,warranty_expires\n"
)


def test_good_resellers() -> None:
    """Rows become resellers with normalised phones; an empty PIN is allowed."""
    rows = parse_resellers(
        "\ufeff" + R_HEAD + "1001,Lone Star,2468,+1 (214) 555-0100;4695550101\n\n1002,Gulf,,\n"
    )
    assert [r.reseller.account for r in rows] == ["1001", "1002"]
    assert rows[0].reseller.phones == ("2145550100", "4695550101")
    assert rows[0].pin == "2468"
    assert rows[1].pin is None
    assert rows[1].reseller.status is ResellerStatus.ACTIVE


def test_status_column_optional() -> None:
    """An optional status column marks suspended resellers."""
    rows = parse_resellers("account,name,pin,phones,status\n1003,X,,,suspended\n")
    assert rows[0].reseller.status is ResellerStatus.SUSPENDED


def test_good_systems() -> None:
    """Rows become systems; tier names are forgiving; warranty may be empty."""
    systems = parse_systems(
        S_HEAD
        + "123456,1001,Acme,UCX450,7.1.3,Premium Plus,2030-12-31,\n"
        + "234567,1001,Baker,UCX250,6.9,premium-plus,2030-01-01,2027-01-01\n",
        known_accounts={"1001"},
    )
    assert [s.tier for s in systems] == [Tier.PREMIUM_PLUS, Tier.PREMIUM_PLUS]
    assert systems[0].warranty_expires is None
    assert systems[1].warranty_expires == dt.date(2027, 1, 1)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("12,Short,,", "account must be"),
        ("abcd,Letters,,", "account must be"),
        ("1001,,,", "name is empty"),
        ("1001,Name,12,", "pin must be"),
        ("1001,Name,12ab,", "pin must be"),
        ("1001,Name,,not-a-phone", "is not a phone number"),
        ("1001,=HYPERLINK(1),,", "spreadsheet formulas"),
        ("1001,@SUM(A1),,", "spreadsheet formulas"),
        ('1001,"Two\nlines",,', "control character"),
        ("1001," + "x" * 201 + ",,", "longer than 200"),
        ("1001,Name,,,extra", "expected 4 fields"),
    ],
)
def test_bad_reseller_rows(row: str, reason: str) -> None:
    """Each kind of bad reseller row is reported with line 2 and a reason."""
    with pytest.raises(ImportRejected) as caught:
        parse_resellers(R_HEAD + row + "\n")
    assert caught.value.errors[0].line == 2
    assert reason in caught.value.errors[0].message


def test_every_bad_row_reported_with_line_numbers() -> None:
    """Several bad rows are all reported, each with its own line; a quoted newline counts."""
    text = R_HEAD + '1001,"Multi\nLine",,\n1002,Good,,\nxx,Bad,,\n1002,Again,,\n'
    with pytest.raises(ImportRejected) as caught:
        parse_resellers(text)
    lines = [e.line for e in caught.value.errors]
    assert lines == [2, 5, 6]
    assert "first on line 4" in caught.value.errors[2].message


def test_pin_never_in_errors_or_repr() -> None:
    """A bad row's PIN never appears in the rejection message or a row's repr."""
    with pytest.raises(ImportRejected) as caught:
        parse_resellers(R_HEAD + "1001,Name,98765,bad-phone\n")
    assert "98765" not in str(caught.value)
    row = parse_resellers(R_HEAD + "1001,Name,98765,\n")[0]
    assert "98765" not in repr(row)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("12,1001,A,B,C,standard,2030-01-01,", "host_id must be"),
        ("123456,9999,A,B,C,standard,2030-01-01,", "not a known reseller"),
        ("123456,1001,A,B,C,gold,2030-01-01,", "tier must be"),
        ("123456,1001,A,B,C,standard,2030-02-30,", "support_expires must be a date"),
        ("123456,1001,A,B,C,standard,01/02/2030,", "support_expires must be a date"),
        ("123456,1001,A,B,C,standard,2030-01-01,never", "warranty_expires must be a date"),
        ("123456,1001,-cmd,B,C,standard,2030-01-01,", "spreadsheet formulas"),
        ("123456,1001,A,,C,standard,2030-01-01,", "system_type is empty"),
    ],
)
def test_bad_system_rows(row: str, reason: str) -> None:
    """Each kind of bad system row is reported with a reason."""
    with pytest.raises(ImportRejected) as caught:
        parse_systems(S_HEAD + row + "\n", known_accounts={"1001"})
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    "text",
    ["", "account,name\n1001,x\n", "account,name,pin,phones,colour\n", "a,b,c,d\n"],
)
def test_bad_header(text: str) -> None:
    """An empty file or a wrong header is rejected on line 1."""
    with pytest.raises(ImportRejected) as caught:
        parse_resellers(text)
    assert caught.value.errors[0].line == 1


def test_too_many_rows() -> None:
    """More than 100,000 rows is refused rather than loaded."""
    text = R_HEAD + "".join(f"{100000 + i},N,,\n" for i in range(100_001))
    with pytest.raises(ImportRejected, match="more than 100000 rows"):
        parse_resellers(text)
