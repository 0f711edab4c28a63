"""Who is on call at T: rotations, hand-overs across DST, overrides, the chain."""

from __future__ import annotations

import datetime as dt

import pytest
from redis.asyncio import Redis

from ivr.domain.oncall import (
    Engineer,
    Override,
    Role,
    Rotation,
    on_call,
    override_from_dict,
    override_to_dict,
    rotation_from_dict,
    rotation_to_dict,
)
from ivr.store.oncall import OnCallStore
from tests.harness import CHICAGO

A, B, C = (Engineer(n, f"PJSIP/20{i}") for i, n in enumerate(("Ana", "Ben", "Cy"), start=1))
MGR = Engineer("Sam", "PJSIP/299@trunk")
# Monday 2026-11-02 09:00 CST: the first hand-over.
ROT = Rotation(
    engineers=(A, B, C),
    starts=dt.datetime(2026, 11, 2, 9, 0, tzinfo=CHICAGO),
    tz=CHICAGO,
    manager=MGR,
)


def local(
    year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0
) -> dt.datetime:
    """A Chicago wall time."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=CHICAGO)


def names(
    at: dt.datetime, overrides: tuple[Override, ...] = (), rotation: Rotation = ROT
) -> list[str]:
    """The chain at ``at`` as names."""
    return [step.engineer.name for step in on_call(rotation, overrides, at)]


@pytest.mark.parametrize(
    ("at", "chain"),
    [
        (local(2026, 11, 2, 9, 0), ["Ana", "Ben", "Sam"]),
        (local(2026, 11, 9, 8, 59, 59), ["Ana", "Ben", "Sam"]),
        (local(2026, 11, 9, 9, 0), ["Ben", "Cy", "Sam"]),
        (local(2026, 11, 16, 9, 0), ["Cy", "Ana", "Sam"]),
        (local(2026, 11, 23, 9, 0), ["Ana", "Ben", "Sam"]),
        (local(2026, 11, 1, 12, 0), ["Cy", "Ana", "Sam"]),  # before the start: counts back
    ],
)
def test_weekly_handover(at: dt.datetime, chain: list[str]) -> None:
    """The primary changes every Monday 09:00; the next in line is secondary; manager last."""
    assert names(at) == chain


def test_chain_steps_have_roles_and_timeouts() -> None:
    """Each step carries its role and ring time."""
    chain = on_call(ROT, (), local(2026, 11, 2, 22, 0))
    assert [(s.role, s.timeout_seconds) for s in chain] == [
        (Role.PRIMARY, 30),
        (Role.SECONDARY, 30),
        (Role.MANAGER, 45),
    ]


@pytest.mark.parametrize(
    ("starts", "before", "after"),
    [
        # Spring forward 2026-03-08: the Monday 09:00 hand-over stays 09:00 local.
        (local(2026, 3, 2, 9, 0), local(2026, 3, 9, 8, 59), local(2026, 3, 9, 9, 0)),
        # Fall back 2026-11-01.
        (local(2026, 10, 26, 9, 0), local(2026, 11, 2, 8, 59), local(2026, 11, 2, 9, 0)),
    ],
)
def test_handover_at_local_time_across_dst(
    starts: dt.datetime, before: dt.datetime, after: dt.datetime
) -> None:
    """Across both daylight-saving changes the hand-over happens at 09:00 local."""
    rotation = Rotation(engineers=(A, B), starts=starts, tz=CHICAGO)
    assert names(before, rotation=rotation)[0] == "Ana"
    assert names(after, rotation=rotation)[0] == "Ben"


def test_single_engineer_no_secondary() -> None:
    """One engineer: primary, then the manager."""
    rotation = Rotation(engineers=(A,), starts=ROT.starts, tz=CHICAGO, manager=MGR)
    assert names(local(2026, 12, 1, 3, 0), rotation=rotation) == ["Ana", "Sam"]


def test_override_for_a_night() -> None:
    """An override replaces the primary for its span only."""
    night = Override(local(2026, 11, 3, 17, 0), local(2026, 11, 4, 9, 0), C)
    assert names(local(2026, 11, 3, 23, 0), (night,)) == ["Cy", "Ben", "Sam"]
    assert names(local(2026, 11, 4, 9, 0), (night,)) == ["Ana", "Ben", "Sam"]


def test_override_secondary_and_overlaps() -> None:
    """Overrides can take the secondary role; the latest-starting one wins."""
    week = Override(local(2026, 11, 2, 0, 0), local(2026, 11, 9, 0, 0), C, Role.SECONDARY)
    night = Override(local(2026, 11, 4, 18, 0), local(2026, 11, 5, 6, 0), MGR, Role.SECONDARY)
    assert names(local(2026, 11, 3, 2, 0), (week, night)) == ["Ana", "Cy", "Sam"]
    assert names(local(2026, 11, 4, 23, 0), (night, week)) == ["Ana", "Sam"]  # no one twice


def test_no_rotation_empty_chain() -> None:
    """With no rotation nobody is on call."""
    assert on_call(None, (), local(2026, 11, 3, 2, 0)) == ()


@pytest.mark.parametrize("dial", ["PJSIP/1,2", "PJSIP/1&PJSIP/2", "${X}", "a b", "", "PJSIP/"])
def test_bad_dial_targets_refused(dial: str) -> None:
    """A dial target that could break the Dial() argument is refused."""
    with pytest.raises(ValueError, match="Dial"):
        Engineer("X", dial)


def test_round_trips() -> None:
    """A rotation and an override survive their JSON form."""
    assert rotation_from_dict(rotation_to_dict(ROT)) == ROT
    override = Override(local(2026, 11, 3, 17, 0), local(2026, 11, 4, 9, 0), C, Role.SECONDARY)
    assert override_from_dict(override_to_dict(override)) == override


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"engineers": []}, "starts"),
        ({"starts": "2026-11-02T09:00:00-06:00", "engineers": "Ana"}, "engineers"),
        ({"starts": "2026-11-02T09:00:00-06:00", "engineers": []}, "at least one"),
        ({"starts": "2026-11-02T09:00:00-06:00", "engineers": [{"name": "A", "dial": "x"}]},
         "Dial"),
    ],
)  # fmt: skip
def test_bad_rotation_documents(data: dict[str, object], reason: str) -> None:
    """A malformed rotation is refused with a reason."""
    with pytest.raises(ValueError, match=reason):
        rotation_from_dict(data)


async def test_store_round_trip(redis: Redis) -> None:
    """The store keeps the rotation and overrides and answers who is on call."""
    store = OnCallStore(redis)
    assert await store.chain(local(2026, 11, 3, 2, 0)) == ()
    await store.set_rotation(ROT)
    override_id = await store.add_override(
        Override(local(2026, 11, 3, 0, 0), local(2026, 11, 4, 0, 0), C)
    )
    chain = await store.chain(local(2026, 11, 3, 2, 0))
    assert [s.engineer.name for s in chain] == ["Cy", "Ben", "Sam"]
    assert await store.remove_override(override_id)
    assert not await store.remove_override(override_id)
    assert [s.engineer.name for s in await store.chain(local(2026, 11, 3, 2, 0))] == [
        "Ana",
        "Ben",
        "Sam",
    ]
