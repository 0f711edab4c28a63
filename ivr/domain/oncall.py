"""Who is on call at a moment: rotations, dated overrides and the escalation chain.

Pure: time is passed in. A rotation hands over every ``period_days`` at the local
wall time of ``starts`` (Monday 09:00 stays Monday 09:00 across daylight-saving
changes). The chain is primary, secondary, then the support manager.

Rotation JSON (``ivr oncall set FILE``)::

    {"starts": "2026-11-23T09:00:00-06:00", "timezone": "America/Chicago",
     "period_days": 7, "step_seconds": [30, 30, 45],
     "engineers": [{"name": "Ana Ruiz", "dial": "PJSIP/2145550111@trunk"}, ...],
     "manager": {"name": "Sam Lee", "dial": "PJSIP/2145550199@trunk"}}
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# A Dial() target: technology/resource[@trunk]. No commas, ampersands, variables,
# spaces or quotes: the value is placed in a dialplan application argument.
DIAL_RE = re.compile(r"^[A-Za-z0-9]{2,16}/[A-Za-z0-9+._-]{1,64}(@[A-Za-z0-9._-]{1,64})?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Role(StrEnum):
    """A step of the escalation chain."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    MANAGER = "manager"


@dataclass(frozen=True, slots=True)
class Engineer:
    """Someone who can be paged, and the Dial() target that reaches them."""

    name: str
    dial: str

    def __post_init__(self) -> None:
        if not 1 <= len(self.name) <= 60 or _CONTROL.search(self.name):
            raise ValueError("an engineer's name is 1-60 printable characters")
        if not DIAL_RE.match(self.dial):
            raise ValueError(f"{self.dial!r} is not a Dial() target such as PJSIP/201@trunk")


@dataclass(frozen=True, slots=True)
class Rotation:
    """Engineers taking turns as primary; the next one in line is secondary."""

    engineers: tuple[Engineer, ...]
    starts: dt.datetime
    tz: ZoneInfo
    period_days: int = 7
    manager: Engineer | None = None
    step_seconds: tuple[int, int, int] = (30, 30, 45)

    def __post_init__(self) -> None:
        if not self.engineers:
            raise ValueError("a rotation needs at least one engineer")
        if self.starts.tzinfo is None:
            raise ValueError("the rotation start needs a UTC offset")
        if self.period_days < 1:
            raise ValueError("period_days must be at least 1")
        if any(not 5 <= s <= 300 for s in self.step_seconds):
            raise ValueError("each step rings 5 to 300 seconds")


@dataclass(frozen=True, slots=True)
class Override:
    """Someone else takes a role for a dated span [start, end)."""

    start: dt.datetime
    end: dt.datetime
    engineer: Engineer
    role: Role = Role.PRIMARY

    def covers(self, at: dt.datetime) -> bool:
        """In force at ``at``."""
        return self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class ChainStep:
    """One step of the escalation: who, in which role, for how long."""

    role: Role
    engineer: Engineer
    timeout_seconds: int


def _periods_since(rotation: Rotation, at: dt.datetime) -> int:
    """Whole hand-overs between ``starts`` and ``at``, counted in local wall time."""
    start = rotation.starts.astimezone(rotation.tz).replace(tzinfo=None)
    now = at.astimezone(rotation.tz).replace(tzinfo=None)
    return (now - start) // dt.timedelta(days=rotation.period_days)


def on_call(
    rotation: Rotation | None, overrides: Sequence[Override], at: dt.datetime
) -> tuple[ChainStep, ...]:
    """The escalation chain at ``at``: primary, secondary, manager (no one twice)."""
    if rotation is None:
        return ()
    engineers = rotation.engineers
    k = _periods_since(rotation, at)
    people: dict[Role, Engineer | None] = {
        Role.PRIMARY: engineers[k % len(engineers)],
        Role.SECONDARY: engineers[(k + 1) % len(engineers)] if len(engineers) > 1 else None,
        Role.MANAGER: rotation.manager,
    }
    for override in sorted((o for o in overrides if o.covers(at)), key=lambda o: o.start):
        people[override.role] = override.engineer  # the latest-starting one wins
    chain: list[ChainStep] = []
    seen: set[str] = set()
    for role, seconds in zip(Role, rotation.step_seconds, strict=True):
        engineer = people[role]
        if engineer is None or engineer.dial in seen:
            continue
        seen.add(engineer.dial)
        chain.append(ChainStep(role, engineer, seconds))
    return tuple(chain)


def chain_json(chain: Sequence[ChainStep]) -> str:
    """The chain as stored with a ticket (who each step was, for acceptance records)."""
    return json.dumps(
        [
            {"role": s.role.value, "name": s.engineer.name, "dial": s.engineer.dial,
             "timeout": s.timeout_seconds}
            for s in chain
        ]
    )  # fmt: skip


def _engineer(raw: Any, where: str) -> Engineer:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: expected an object with name and dial")
    return Engineer(name=str(raw.get("name", "")), dial=str(raw.get("dial", "")))


def rotation_from_dict(data: Mapping[str, Any]) -> Rotation:
    """A rotation from its JSON form; ``ValueError`` says what is wrong."""
    try:
        tz = ZoneInfo(str(data.get("timezone", "America/Chicago")))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("timezone: not a time zone name") from None
    try:
        starts = dt.datetime.fromisoformat(str(data["starts"]))
    except (KeyError, ValueError):
        raise ValueError("starts: an ISO time with offset is required") from None
    engineers = data.get("engineers")
    if not isinstance(engineers, list):
        raise ValueError("engineers: a list is required")
    steps = data.get("step_seconds", [30, 30, 45])
    if not isinstance(steps, list) or len(steps) != 3:
        raise ValueError("step_seconds: three numbers (primary, secondary, manager)")
    manager = data.get("manager")
    return Rotation(
        engineers=tuple(_engineer(e, f"engineers[{i}]") for i, e in enumerate(engineers)),
        starts=starts,
        tz=tz,
        period_days=int(data.get("period_days", 7)),
        manager=_engineer(manager, "manager") if manager is not None else None,
        step_seconds=(int(steps[0]), int(steps[1]), int(steps[2])),
    )


def rotation_to_dict(rotation: Rotation) -> dict[str, Any]:
    """The JSON form of a rotation."""
    return {
        "starts": rotation.starts.isoformat(),
        "timezone": rotation.tz.key,
        "period_days": rotation.period_days,
        "step_seconds": list(rotation.step_seconds),
        "engineers": [{"name": e.name, "dial": e.dial} for e in rotation.engineers],
        "manager": (
            {"name": rotation.manager.name, "dial": rotation.manager.dial}
            if rotation.manager
            else None
        ),
    }


def override_to_dict(override: Override) -> dict[str, str]:
    """The JSON form of an override."""
    return {
        "start": override.start.isoformat(),
        "end": override.end.isoformat(),
        "role": override.role.value,
        "name": override.engineer.name,
        "dial": override.engineer.dial,
    }


def override_from_dict(data: Mapping[str, Any]) -> Override:
    """An override from its JSON form."""
    start = dt.datetime.fromisoformat(str(data["start"]))
    end = dt.datetime.fromisoformat(str(data["end"]))
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise ValueError("an override needs start < end, both with a UTC offset")
    return Override(
        start=start,
        end=end,
        engineer=Engineer(name=str(data["name"]), dial=str(data["dial"])),
        role=Role(str(data.get("role", Role.PRIMARY.value))),
    )
