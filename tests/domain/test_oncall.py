"""On-call: the escalation chain at T, dial-target safety, the JSON form, the Redis store."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from ivr.domain.oncall import (
    ChainRole,
    ChainStep,
    Engineer,
    Override,
    Rotation,
    on_call,
    override_from_dict,
    override_to_dict,
    rotation_from_dict,
    rotation_to_dict,
)
from ivr.store import keys
from ivr.store.oncall import OnCallStore
from tests.support.harness import CHICAGO

ANA = Engineer("Ana", "PJSIP/201")
BEN = Engineer("Ben", "PJSIP/202")
CY = Engineer("Cy", "PJSIP/203")
DEE = Engineer("Dee", "PJSIP/2145550104@trunk")
SAM = Engineer("Sam", "PJSIP/299@trunk")


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, fold: int = 0
) -> dt.datetime:
    """A Chicago wall time (``fold=1``: the second pass through the autumn's repeated hour)."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=CHICAGO, fold=fold)


# Weekly, first hand-over Monday 2026-11-02 09:00 CST (the day after the autumn change).
ROT = Rotation(engineers=(ANA, BEN, CY), starts=local(2026, 11, 2, 9), manager=SAM)


def names(
    at: dt.datetime, overrides: tuple[Override, ...] = (), rotation: Rotation = ROT
) -> list[str]:
    """The chain at ``at`` as names, in order."""
    return [step.engineer.name for step in on_call(rotation, overrides, at)]


@pytest.mark.parametrize(
    ("at", "chain"),
    [
        pytest.param(local(2026, 11, 2, 9), ["Ana", "Ben", "Sam"], id="at-start"),
        pytest.param(local(2026, 11, 9, 8, 59, 59), ["Ana", "Ben", "Sam"], id="second-before"),
        pytest.param(local(2026, 11, 9, 9), ["Ben", "Cy", "Sam"], id="at-handover"),
        pytest.param(local(2026, 11, 9, 9, 0, 1), ["Ben", "Cy", "Sam"], id="second-after"),
        pytest.param(local(2026, 11, 16, 9), ["Cy", "Ana", "Sam"], id="two-periods"),
        pytest.param(local(2026, 11, 23, 9), ["Ana", "Ben", "Sam"], id="wraps-around"),
        pytest.param(local(2027, 1, 13, 3), ["Ben", "Cy", "Sam"], id="ten-periods-new-year"),
        pytest.param(local(2026, 11, 2, 8, 59, 59), ["Cy", "Ana", "Sam"], id="second-before-start"),
        pytest.param(local(2026, 10, 26, 9), ["Cy", "Ana", "Sam"], id="one-period-before"),
        pytest.param(local(2026, 10, 26, 8, 59, 59), ["Ben", "Cy", "Sam"], id="two-periods-before"),
        pytest.param(local(2026, 6, 1, 12), ["Cy", "Ana", "Sam"], id="22-periods-before-summer"),
    ],
)
def test_weekly_handover(at: dt.datetime, chain: list[str]) -> None:
    """Primary changes every Monday 09:00, the next in line is secondary, the manager last."""
    assert names(at) == chain


def test_other_zone_asks_the_same_question() -> None:
    """``at`` in UTC gives the same chain as the same instant in Chicago time."""
    at = local(2026, 11, 9, 9)
    assert names(at.astimezone(dt.UTC)) == names(at) == ["Ben", "Cy", "Sam"]
    assert names((at - dt.timedelta(seconds=1)).astimezone(dt.UTC))[0] == "Ana"


def test_chain_roles_and_ring_times() -> None:
    """Each step carries its role and that role's ring time."""
    rotation = Rotation((ANA, BEN), local(2026, 11, 2, 9), manager=SAM, step_seconds=(20, 25, 40))
    assert on_call(rotation, (), local(2026, 11, 3, 2)) == (
        ChainStep(ChainRole.PRIMARY, ANA, 20),
        ChainStep(ChainRole.SECONDARY, BEN, 25),
        ChainStep(ChainRole.MANAGER, SAM, 40),
    )


def test_single_engineer_has_no_secondary() -> None:
    """One engineer: the primary, then the manager with the manager's ring time."""
    rotation = Rotation((ANA,), local(2026, 11, 2, 9), manager=SAM)
    assert on_call(rotation, (), local(2026, 12, 1, 3)) == (
        ChainStep(ChainRole.PRIMARY, ANA, 30),
        ChainStep(ChainRole.MANAGER, SAM, 45),
    )
    assert names(local(2026, 12, 1, 3), rotation=Rotation((ANA,), local(2026, 11, 2, 9))) == ["Ana"]


def test_no_rotation_is_an_empty_chain() -> None:
    """Without a rotation nobody is on call, overrides or not."""
    night = Override(local(2026, 11, 3, 17), local(2026, 11, 4, 9), DEE)
    assert on_call(None, (), local(2026, 11, 3, 22)) == ()
    assert on_call(None, (night,), local(2026, 11, 3, 22)) == ()


def test_naive_time_refused() -> None:
    """Asking about a time without a UTC offset is an error, not a guess."""
    with pytest.raises(ValueError, match="timezone-aware"):
        on_call(ROT, (), dt.datetime(2026, 11, 3, 2))  # noqa: DTZ001 (the case under test)


# Both changes of 2026 in Chicago: spring forward Sunday March 8, fall back Sunday
# November 1. A fixed 168-hour week would move the Monday hand-over to 10:00 CDT in
# spring and 08:00 CST in autumn; it must stay 09:00 local.
SPRING = Rotation((ANA, BEN), local(2026, 3, 2, 9))
AUTUMN = Rotation((ANA, BEN), local(2026, 10, 26, 9))


@pytest.mark.parametrize(
    ("rotation", "at", "primary"),
    [
        pytest.param(SPRING, local(2026, 3, 9, 8, 59, 59), "Ana", id="spring-second-before"),
        pytest.param(SPRING, local(2026, 3, 9, 9), "Ben", id="spring-at-0900-cdt"),
        pytest.param(SPRING, local(2026, 3, 9, 9, 30), "Ben", id="spring-before-168h"),
        pytest.param(SPRING, local(2026, 3, 16, 9), "Ana", id="spring-next-week"),
        pytest.param(SPRING, local(2026, 3, 1, 9), "Ben", id="spring-week-before-start"),
        pytest.param(AUTUMN, local(2026, 11, 2, 8), "Ana", id="autumn-at-168h"),
        pytest.param(AUTUMN, local(2026, 11, 2, 8, 59, 59), "Ana", id="autumn-second-before"),
        pytest.param(AUTUMN, local(2026, 11, 2, 9), "Ben", id="autumn-at-0900-cst"),
        pytest.param(AUTUMN, local(2026, 11, 9, 9), "Ana", id="autumn-next-week"),
    ],
)
def test_weekly_handover_across_dst(rotation: Rotation, at: dt.datetime, primary: str) -> None:
    """Across both daylight-saving changes of 2026 the hand-over stays Monday 09:00 local."""
    assert names(at, rotation=rotation)[0] == primary


def test_daily_handover_inside_repeated_hour_is_monotonic() -> None:
    """A 01:30 daily hand-over on the fall-back night happens once, not again an hour later."""
    rotation = Rotation((ANA, BEN), local(2026, 10, 31, 1, 30), period=dt.timedelta(days=1))
    assert names(local(2026, 11, 1, 1, 29, 59), rotation=rotation)[0] == "Ana"
    assert names(local(2026, 11, 1, 1, 30), rotation=rotation)[0] == "Ben"
    # 01:15 CST comes after 01:30 CDT in real time: still Ben, not back to Ana.
    assert names(local(2026, 11, 1, 1, 15, fold=1), rotation=rotation)[0] == "Ben"
    assert names(local(2026, 11, 2, 1, 30), rotation=rotation)[0] == "Ana"


def test_daily_handover_on_spring_day() -> None:
    """A daily 09:00 hand-over is 09:00 CDT on the day the clocks go forward."""
    rotation = Rotation((ANA, BEN), local(2026, 3, 7, 9), period=dt.timedelta(days=1))
    assert names(local(2026, 3, 8, 8, 59, 59), rotation=rotation)[0] == "Ana"
    assert names(local(2026, 3, 8, 9), rotation=rotation)[0] == "Ben"


def test_hourly_shifts_count_real_time() -> None:
    """Periods shorter than a day are real elapsed time: 12 h after 21:00 CDT is 08:00 CST."""
    rotation = Rotation((ANA, BEN), local(2026, 10, 31, 21), period=dt.timedelta(hours=12))
    assert names(local(2026, 11, 1, 7, 59, 59), rotation=rotation)[0] == "Ana"
    assert names(local(2026, 11, 1, 8), rotation=rotation)[0] == "Ben"


NIGHT = Override(local(2026, 11, 3, 17), local(2026, 11, 4, 9), DEE)
NIGHT_SECONDARY = Override(local(2026, 11, 3, 17), local(2026, 11, 4, 9), DEE, ChainRole.SECONDARY)
WEEK_CY = Override(local(2026, 11, 2), local(2026, 11, 9), CY)
LATE_DEE = Override(local(2026, 11, 4, 18), local(2026, 11, 5, 6), DEE)
LONG_CY = Override(local(2026, 11, 3), local(2026, 11, 10), CY)
SHORT_DEE = Override(local(2026, 11, 3), local(2026, 11, 4), DEE)
DEPUTY = Override(
    local(2026, 11, 3), local(2026, 11, 4), Engineer("Kim", "PJSIP/298"), ChainRole.MANAGER
)


@pytest.mark.parametrize(
    ("overrides", "at", "chain"),
    [
        pytest.param((NIGHT,), local(2026, 11, 3, 16, 59, 59), "Ana Ben Sam", id="before-night"),
        pytest.param((NIGHT,), local(2026, 11, 3, 17), "Dee Ben Sam", id="night-starts"),
        pytest.param((NIGHT,), local(2026, 11, 4, 8, 59, 59), "Dee Ben Sam", id="night-ends"),
        pytest.param((NIGHT,), local(2026, 11, 4, 9), "Ana Ben Sam", id="end-exclusive"),
        pytest.param((NIGHT_SECONDARY,), local(2026, 11, 3, 23), "Ana Dee Sam", id="secondary"),
        pytest.param((WEEK_CY, LATE_DEE), local(2026, 11, 4, 23), "Dee Ben Sam", id="latest-wins"),
        pytest.param((LATE_DEE, WEEK_CY), local(2026, 11, 4, 23), "Dee Ben Sam", id="any-order"),
        pytest.param((WEEK_CY, LATE_DEE), local(2026, 11, 5, 7), "Cy Ben Sam", id="back-to-week"),
        pytest.param((LONG_CY, SHORT_DEE), local(2026, 11, 3, 12), "Dee Ben Sam", id="same-start"),
        pytest.param((SHORT_DEE, LONG_CY), local(2026, 11, 4, 12), "Cy Ben Sam", id="after-short"),
        pytest.param((DEPUTY,), local(2026, 11, 3, 12), "Ana Ben Kim", id="deputy-manager"),
    ],
)
def test_overrides(overrides: tuple[Override, ...], at: dt.datetime, chain: str) -> None:
    """Overrides in force replace their role; the latest-starting (then shortest) wins."""
    assert names(at, overrides) == chain.split()


@pytest.mark.parametrize(
    ("rotation", "overrides", "chain"),
    [
        pytest.param(ROT, (Override(local(2026, 11, 3), local(2026, 11, 4), BEN),),
                     [(ChainRole.PRIMARY, "Ben"), (ChainRole.MANAGER, "Sam")],
                     id="primary-is-secondary"),
        pytest.param(ROT, (Override(local(2026, 11, 3), local(2026, 11, 4), ANA,
                                    ChainRole.SECONDARY),),
                     [(ChainRole.PRIMARY, "Ana"), (ChainRole.MANAGER, "Sam")],
                     id="secondary-is-primary"),
        pytest.param(ROT, (Override(local(2026, 11, 3), local(2026, 11, 4), SAM),),
                     [(ChainRole.PRIMARY, "Sam"), (ChainRole.SECONDARY, "Ben")],
                     id="manager-as-primary"),
        pytest.param(Rotation((ANA, BEN), ROT.starts, manager=BEN), (),
                     [(ChainRole.PRIMARY, "Ana"), (ChainRole.SECONDARY, "Ben")],
                     id="manager-in-rotation"),
        pytest.param(Rotation((ANA, ANA, BEN), ROT.starts), (),
                     [(ChainRole.PRIMARY, "Ana")],
                     id="listed-twice"),
        pytest.param(ROT, (Override(local(2026, 11, 3), local(2026, 11, 4),
                                    Engineer("Ana's desk", ANA.dial), ChainRole.SECONDARY),),
                     [(ChainRole.PRIMARY, "Ana"), (ChainRole.MANAGER, "Sam")],
                     id="same-phone-other-name"),
    ],
)  # fmt: skip
def test_nobody_twice(
    rotation: Rotation, overrides: tuple[Override, ...], chain: list[tuple[ChainRole, str]]
) -> None:
    """A phone already in the chain is not rung again: the first occurrence is kept."""
    steps = on_call(rotation, overrides, local(2026, 11, 3, 12))
    assert [(s.role, s.engineer.name) for s in steps] == chain


@pytest.mark.parametrize(
    "dial",
    [
        "PJSIP/1,2", "PJSIP/1&PJSIP/2", "${X}", "a b", "", "PJSIP/201\n", "PJSIP/${EXTEN}",
        "PJSIP/201,30,tT", "PJSIP/(201)", "PJSIP/201'", 'PJSIP/"201"', "PJSIP/201;x",
        "PJSIP/201|x", "PJSIP/", "/201", "201", "PJSIP/2\u0661\u0662", "PJSIP/201@",
        "PJSIP//201", "P/201", "PJSIP/" + "1" * 130, "PJSIP/201 ",
    ],
)  # fmt: skip
def test_bad_dial_targets_refused(dial: str) -> None:
    """A dial target with anything Asterisk could read as syntax is refused, naming Dial()."""
    with pytest.raises(ValueError, match=r"Dial\(\) target"):
        Engineer("X", dial)


@pytest.mark.parametrize(
    "dial",
    ["PJSIP/201", "PJSIP/2145550111@trunk", "PJSIP/+12145550111@trunk", "DAHDI/g1/2145550111",
     "Local/201@from-internal", "IAX2/peer.example_1-a/201"],
)  # fmt: skip
def test_good_dial_targets_accepted(dial: str) -> None:
    """Ordinary Dial() targets (endpoints, trunks, groups, Local channels) are accepted."""
    assert Engineer("X", dial).dial == dial


@pytest.mark.parametrize(
    "name", ["", "   ", "a" * 61, "Ana\x00", "Ana\nRuiz", "Ana\tRuiz", "\x7f", "Ana\u202eziuR"]
)
def test_bad_names_refused(name: str) -> None:
    """A name must be 1-60 printable characters, not blank."""
    with pytest.raises(ValueError, match="printable"):
        Engineer(name, "PJSIP/201")


@pytest.mark.parametrize("name", ["Ana Ruiz", "José Núñez-O'Brien", "a" * 60])
def test_good_names_accepted(name: str) -> None:
    """Ordinary names, accents and punctuation included, are accepted."""
    assert Engineer(name, "PJSIP/201").name == name


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"engineers": ()}, "at least one engineer"),
        ({"starts": dt.datetime(2026, 11, 2, 9)}, "timezone-aware"),  # noqa: DTZ001
        ({"starts": dt.datetime(2026, 11, 2, 15, tzinfo=dt.UTC)}, "time zone"),
        ({"period": dt.timedelta(0)}, "period"),
        ({"period": dt.timedelta(days=-7)}, "period"),
        ({"period": dt.timedelta(minutes=90)}, "period"),
        ({"step_seconds": (30, 30, 4)}, "step_seconds"),
        ({"step_seconds": (30, 301, 45)}, "step_seconds"),
    ],
)
def test_bad_rotations_refused(kwargs: dict[str, Any], reason: str) -> None:
    """A rotation without engineers, zone, a sane period or sane ring times is refused."""
    fields: dict[str, Any] = {"engineers": (ANA,), "starts": local(2026, 11, 2, 9)} | kwargs
    with pytest.raises(ValueError, match=reason):
        Rotation(**fields)


def test_zone_may_be_given_apart_from_start() -> None:
    """A start in UTC with ``tz`` given still hands over at the local time in ``tz``."""
    rotation = Rotation((ANA, BEN), dt.datetime(2026, 10, 26, 14, tzinfo=dt.UTC), tz=CHICAGO)
    assert rotation.zone is CHICAGO
    assert names(local(2026, 11, 2, 8, 59, 59), rotation=rotation)[0] == "Ana"
    assert names(local(2026, 11, 2, 9), rotation=rotation)[0] == "Ben"


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        (local(2026, 11, 4, 9), local(2026, 11, 4, 9), "end after"),
        (local(2026, 11, 4, 9), local(2026, 11, 3, 9), "end after"),
        (dt.datetime(2026, 11, 3, 17), local(2026, 11, 4, 9), "timezone-aware"),  # noqa: DTZ001
    ],
)
def test_bad_overrides_refused(start: dt.datetime, end: dt.datetime, reason: str) -> None:
    """An override must have an aware start before its aware end."""
    with pytest.raises(ValueError, match=reason):
        Override(start, end, DEE)


DOCUMENTED = {
    "starts": "2026-11-23T09:00:00-06:00",
    "period_days": 7,
    "engineers": [
        {"name": "Ana Ruiz", "dial": "PJSIP/2145550111@trunk"},
        {"name": "Ben Okafor", "dial": "PJSIP/2145550112@trunk"},
    ],
    "manager": {"name": "Sam Lee", "dial": "PJSIP/2145550199@trunk"},
    "step_seconds": [30, 30, 45],
}


def test_documented_json_shape() -> None:
    """The shape in the module docstring loads, and writes back with its time zone."""
    rotation = rotation_from_dict(json.loads(json.dumps(DOCUMENTED)))
    assert rotation.zone.key == "America/Chicago"
    assert rotation.period == dt.timedelta(days=7)
    assert rotation.manager == Engineer("Sam Lee", "PJSIP/2145550199@trunk")
    assert rotation_to_dict(rotation) == {**DOCUMENTED, "timezone": "America/Chicago"}


@pytest.mark.parametrize(
    "rotation",
    [
        pytest.param(ROT, id="weekly-with-manager"),
        pytest.param(Rotation((DEE,), local(2026, 7, 1, 8, 30), period=dt.timedelta(days=14),
                              step_seconds=(20, 25, 60)), id="fortnightly-summer"),
        pytest.param(Rotation((ANA, BEN), dt.datetime(2026, 10, 31, 2, tzinfo=dt.UTC),
                              period=dt.timedelta(hours=12), tz=CHICAGO), id="twelve-hours-utc"),
        pytest.param(Rotation((ANA, BEN), dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC),
                              tz=ZoneInfo("Europe/London")),
                     id="other-zone"),
    ],
)  # fmt: skip
def test_rotation_round_trip(rotation: Rotation) -> None:
    """rotation_to_dict then rotation_from_dict (through JSON) gives the same rotation."""
    data = json.loads(json.dumps(rotation_to_dict(rotation)))
    again = rotation_from_dict(data)
    assert again == rotation
    assert again.zone == rotation.zone


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"starts": None}, "starts: the first hand-over is required"),
        ({"starts": "2026-11-23T09:00:00"}, "starts: an ISO 8601 time with UTC offset"),
        ({"starts": "next monday"}, "starts: an ISO 8601 time with UTC offset"),
        ({"starts": "2026-11-23T09:00:00-05:00"}, "starts: offset -0500 is not America/Chicago"),
        ({"timezone": "Mars/Olympus"}, "timezone: 'Mars/Olympus'"),
        ({"timezone": "America"}, "timezone: 'America'"),
        ({"periods_days": 7}, "unknown field"),
        ({"period_hours": 12}, "not both"),
        ({"period_days": 0}, "period_days: a whole number"),
        ({"period_days": True}, "period_days: a whole number"),
        ({"period_days": "7"}, "period_days: a whole number"),
        ({"period_days": 7.5}, "period_days: a whole number"),
        ({"engineers": "Ana"}, "engineers: a list"),
        ({"engineers": []}, "at least one engineer"),
        ({"engineers": [{"name": "Ana"}]}, r"engineers\[0\]: name and dial"),
        ({"engineers": ["Ana"]}, r"engineers\[0\]: expected a JSON object"),
        ({"engineers": [{"name": "A", "dial": "PJSIP/1", "phone": "1"}]},
         r"engineers\[0\]: unknown field\(s\) phone"),
        ({"engineers": [{"name": "A", "dial": "PJSIP/1"}, {"name": "B", "dial": "a,b"}]},
         r"engineers\[1\]: 'a,b' is not a Dial\(\) target"),
        ({"manager": {"name": "", "dial": "PJSIP/9"}}, "manager: engineer name"),
        ({"step_seconds": [30, 30]}, "step_seconds: three"),
        ({"step_seconds": [30, 30, 1]}, r"step_seconds\[2\]"),
        ({"step_seconds": [30, "30", 45]}, r"step_seconds\[1\]"),
    ],
)  # fmt: skip
def test_bad_rotation_documents(change: dict[str, Any], reason: str) -> None:
    """A malformed rotation document is refused with the field and the reason."""
    data = {k: v for k, v in ({**DOCUMENTED, **change}).items() if v is not None}
    with pytest.raises(ValueError, match=reason):
        rotation_from_dict(data)


@pytest.mark.parametrize("data", [[], "rotation", None, 7])
def test_rotation_document_must_be_an_object(data: object) -> None:
    """A document that is not a JSON object is refused clearly."""
    with pytest.raises(ValueError, match="rotation: expected a JSON object"):
        rotation_from_dict(data)


def test_override_round_trip_and_errors() -> None:
    """An override survives its JSON form; a bad role or time is refused with the field."""
    assert override_from_dict(override_to_dict(NIGHT_SECONDARY)) == NIGHT_SECONDARY
    good = override_to_dict(NIGHT)
    with pytest.raises(ValueError, match="role: one of primary, secondary, manager"):
        override_from_dict({**good, "role": "boss"})
    with pytest.raises(ValueError, match="start: an ISO 8601"):
        override_from_dict({k: v for k, v in good.items() if k != "start"})
    with pytest.raises(ValueError, match="end after"):
        override_from_dict({**good, "end": good["start"]})
    with pytest.raises(ValueError, match="Dial"):
        override_from_dict({**good, "dial": "PJSIP/1&PJSIP/2"})


async def test_store_rotation_round_trip(redis: Redis) -> None:
    """No rotation at first; a stored rotation reads back equal; setting again replaces it."""
    store = OnCallStore(redis)
    assert await store.get_rotation() is None
    await store.set_rotation(ROT)
    assert await store.get_rotation() == ROT
    stored = cast(str, await redis.get(keys.ONCALL_ROTATION))
    assert json.loads(stored)["timezone"] == "America/Chicago"
    other = Rotation((DEE,), local(2026, 12, 7, 8), period=dt.timedelta(days=1))
    await store.set_rotation(other)
    assert await store.get_rotation() == other


async def test_store_overrides(redis: Redis) -> None:
    """Overrides get distinct ids, are listed by start (optionally only current), removed."""
    store = OnCallStore(redis)
    assert await store.overrides() == []
    late = await store.add_override(LATE_DEE)
    week = await store.add_override(WEEK_CY)
    assert late != week
    assert all(len(i) == 8 and int(i, 16) >= 0 for i in (late, week))
    assert await store.overrides() == [(week, WEEK_CY), (late, LATE_DEE)]
    assert await store.overrides(since=local(2026, 11, 5)) == [
        (week, WEEK_CY),
        (late, LATE_DEE),
    ]
    assert await store.overrides(since=local(2026, 11, 5, 6)) == [(week, WEEK_CY)]
    assert await store.overrides(since=local(2026, 11, 9)) == []
    assert await redis.hlen(keys.ONCALL_OVERRIDES) == 2
    assert await store.remove_override(week)
    assert not await store.remove_override(week)
    assert await store.overrides() == [(late, LATE_DEE)]


async def test_store_answers_who_is_on_call(redis: Redis) -> None:
    """The store's chain is on_call over the stored rotation and overrides."""
    store = OnCallStore(redis)
    at = local(2026, 11, 3, 23)
    assert await store.chain(at) == ()
    await store.set_rotation(ROT)
    night = await store.add_override(NIGHT)
    assert [s.engineer.name for s in await store.chain(at)] == ["Dee", "Ben", "Sam"]
    await store.remove_override(night)
    assert [s.engineer.name for s in await store.chain(at)] == ["Ana", "Ben", "Sam"]


async def test_store_refuses_naive_since(redis: Redis) -> None:
    """Listing overrides since a time without an offset is an error."""
    with pytest.raises(ValueError, match="timezone-aware"):
        await OnCallStore(redis).overrides(since=dt.datetime(2026, 11, 3))  # noqa: DTZ001
