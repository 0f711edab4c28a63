"""CSV import validation: whole files accepted or rejected with every bad line."""

from __future__ import annotations

import datetime as dt

import pytest

from ivr.domain.imports import ImportRejected, parse_resellers, parse_systems, parse_telephones
from ivr.domain.records import ResellerStatus, Tier
from ivr.store.imports import import_telephones
from ivr.store.stores import Stores

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


S_HEAD_PURCHASE = S_HEAD.rstrip("\n") + ",purchased,warranty_extended_until\n"
T_HEAD = "host_id,serial,model,purchased,warranty_expires\n"


def test_dates_default_from_the_purchase() -> None:
    """Empty dates with a purchase date: a year of Standard support and a year of warranty;
    whatever the row gives is kept."""
    systems = parse_systems(
        S_HEAD_PURCHASE
        + "678901,1001,Frontier,UCX450,7.1.3,,,,2025-09-15,2027-09-15\n"
        + "678902,1001,Gamma,UCX250,7.1.3,premium,,2027-01-31,2024-02-29,\n"
        + "678903,1001,Delta,UCX250,7.1.3,premium,2030-01-01,,,\n",
        known_accounts={"1001"},
    )
    first, second, third = systems
    assert (first.tier, first.support_expires, first.warranty_expires) == (
        Tier.STANDARD,
        dt.date(2026, 9, 15),
        dt.date(2026, 9, 15),
    )
    assert (first.purchased, first.warranty_extended_until) == (
        dt.date(2025, 9, 15),
        dt.date(2027, 9, 15),
    )
    assert (second.tier, second.support_expires, second.warranty_expires) == (
        Tier.PREMIUM,
        dt.date(2025, 2, 28),
        dt.date(2027, 1, 31),
    )
    assert (third.warranty_expires, third.purchased) == (None, None)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("678901,1001,A,B,C,,,,2025-09-15,2027-09-16",
         "warranty_extended_until 2027-09-16 is more than one year past the original warranty "
         "(2026-09-15): at most 2027-09-15"),
        ("678901,1001,A,B,C,,,,2025-09-15,2026-09-01", "is not after the original warranty"),
        ("678901,1001,A,B,C,standard,2030-01-01,,,2027-01-01", "needs the original warranty"),
        ("678901,1001,A,B,C,,,,,", "support_expires and purchased are both empty"),
        ("678901,1001,A,B,C,,,,2025-13-01,", "purchased must be a date"),
        ("678901,1001,A,B,C,standard,,,,", "support_expires and purchased are both empty"),
        ("678901,1001,A,B,C,,2030-01-01,,,", "tier must be"),
    ],
)  # fmt: skip
def test_bad_purchase_and_extension_rows(row: str, reason: str) -> None:
    """An extension past a year, or dates that cannot be worked out, refuse the row with why."""
    with pytest.raises(ImportRejected) as caught:
        parse_systems(S_HEAD_PURCHASE + row + "\n", known_accounts={"1001"})
    assert caught.value.errors[0].line == 2
    assert reason in caught.value.errors[0].message


def test_every_reason_of_a_row_is_given() -> None:
    """A row with several faults lists them all, not only the first."""
    with pytest.raises(ImportRejected) as caught:
        parse_systems(
            S_HEAD_PURCHASE + "12,9999,=A,,C,gold,,,2025-09-15,2028-01-01\n",
            known_accounts={"1001"},
        )
    [error] = caught.value.errors
    for reason in (
        "host_id must be",
        "reseller_account 9999 is not a known reseller",
        "end_customer starts with '='",
        "system_type is empty",
        "tier must be",
        "warranty_extended_until 2028-01-01 is more than one year past",
    ):
        assert reason in error.message


def test_telephone_sets() -> None:
    """Telephone sets under known systems; the warranty defaults to a year from purchase."""
    sets = parse_telephones(
        T_HEAD + "678901,INF7100B0042,Infinity 7100,2025-09-15,\n"
        "678901,SIP-7,Infinity SIP client,,2026-01-31\n",
        known_hosts={"678901"},
    )
    assert [(s.host_id, s.serial, s.warranty_expires) for s in sets] == [
        ("678901", "INF7100B0042", dt.date(2026, 9, 15)),
        ("678901", "SIP-7", dt.date(2026, 1, 31)),
    ]


@pytest.mark.parametrize(
    ("head", "row", "reason"),
    [
        (T_HEAD, "999999,S1,Infinity 7100,2025-09-15,", "not a system in the registry"),
        (T_HEAD, "678901,S1,Infinity 7100,2025-09-15,2026-09-16",
         "telephone sets and SIP clients are excluded from extended warranty"),
        (T_HEAD.rstrip("\n") + ",warranty_extended_until\n",
         "678901,S1,Infinity 7100,2025-09-15,,2027-09-15",
         "warranty_extended_until must be empty: telephone sets and SIP clients are excluded"),
        (T_HEAD, "678901,S1,Infinity 7100,,", "purchased and warranty_expires are both empty"),
        (T_HEAD, "678901,-S1,Infinity 7100,2025-09-15,", "serial must be"),
        (T_HEAD, "678901,S1,@Infinity,2025-09-15,", "spreadsheet formulas"),
    ],
)  # fmt: skip
def test_bad_telephone_rows(head: str, row: str, reason: str) -> None:
    """A set with an extension, an unknown parent or no date is refused with the reason."""
    with pytest.raises(ImportRejected) as caught:
        parse_telephones(head + row + "\n", known_hosts={"678901"})
    assert caught.value.errors[0].line == 2
    assert reason in caught.value.errors[0].message


def test_duplicate_telephone_serial() -> None:
    """A serial listed twice is refused on its second line."""
    text = T_HEAD + "678901,S1,Infinity 7100,2025-09-15,\n678901,S1,Infinity 7100,2025-09-15,\n"
    with pytest.raises(ImportRejected, match="line 3: S1 appears twice"):
        parse_telephones(text, known_hosts={"678901"})


async def test_telephone_sets_stored_under_their_system(stores: Stores) -> None:
    """Imported sets are read back under the parent Host ID; a set moved leaves its old parent."""
    directory = stores.directory
    assert [s.serial for s in await directory.telephones("678901")] == [
        "INF7100B0042",
        "SIPCLIENT0007",
    ]
    moved = T_HEAD + "123456,INF7100B0042,Infinity 7100,2025-09-15,\n"
    assert await import_telephones(directory, moved) == 1
    assert [s.serial for s in await directory.telephones("678901")] == ["SIPCLIENT0007"]
    [first, second] = await directory.telephones("123456")
    assert (second.serial, second.purchased) == ("INF7100B0042", dt.date(2025, 9, 15))
    assert first.serial == "INF7100A0001"
    with pytest.raises(ImportRejected):
        await import_telephones(directory, T_HEAD + "777777,S9,Infinity 7100,2025-09-15,\n")
    assert await directory.telephones("777777") == []


async def test_systems_round_trip_with_purchase_dates(stores: Stores) -> None:
    """A system's purchase and extension dates are stored and read back."""
    system = await stores.directory.system("678901")
    assert system is not None
    assert (system.purchased, system.warranty_extended_until, system.support_expires) == (
        dt.date(2025, 9, 15),
        dt.date(2027, 9, 15),
        dt.date(2026, 9, 15),
    )
