"""Who is on call at a moment: rotations, dated overrides and the escalation chain.

Pure: no I/O, time is passed in, every time is timezone-aware. Engineers take
turns as primary; the next one in line is secondary; the support manager comes
last. A rotation hands over every ``period`` at the local wall time of ``starts``
in the rotation's zone, so with whole-day periods a Monday 09:00 hand-over stays
Monday 09:00 across daylight-saving changes. Dated overrides replace a role for
[start, end).

Rotation JSON (``ivr oncall set FILE.json``)::

    {"starts": "2026-11-23T09:00:00-06:00",
     "timezone": "America/Chicago",
     "period_days": 7,
     "engineers": [{"name": "Ana Ruiz", "dial": "PJSIP/2145550111@trunk"},
                   {"name": "Ben Okafor", "dial": "PJSIP/2145550112@trunk"}],
     "manager": {"name": "Sam Lee", "dial": "PJSIP/2145550199@trunk"},
     "step_seconds": [30, 30, 45]}

- ``starts`` (required): the first hand-over, ISO 8601 with the zone's UTC offset
  on that date (an offset that is not the zone's is refused: it would move every
  hand-over by an hour).
- ``timezone`` (default ``America/Chicago``): the zone whose wall clock the
  hand-overs follow.
- ``period_days`` (default 7), or ``period_hours`` for shorter shifts (counted in
  real elapsed hours); not both.
- ``engineers`` (required, at least one): ``name`` (1-60 printable characters) and
  ``dial``, an Asterisk Dial() target such as ``PJSIP/201`` or
  ``PJSIP/2145550111@trunk``.
- ``manager`` (optional, may be ``null``): same shape as an engineer.
- ``step_seconds`` (default ``[30, 30, 45]``): ring time of the primary, the
  secondary and the manager, 5 to 300 seconds each.

Unknown fields are refused so that a misspelt one is not silently ignored.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TZ = ZoneInfo("America/Chicago")
WEEK = dt.timedelta(days=7)
DEFAULT_STEP_SECONDS = (30, 30, 45)
MIN_STEP_SECONDS, MAX_STEP_SECONDS = 5, 300
MAX_PERIOD_DAYS = 366
NAME_MAX = 60
DIAL_MAX = 128
_DAY = dt.timedelta(days=1)
_HOUR = dt.timedelta(hours=1)

# A Dial() target: TECH/resource, optionally more /- or @-separated parts
# (PJSIP/2145550111@trunk, DAHDI/g1/2145550111, Local/201@from-internal).
# The value is pasted into a dialplan application argument, so nothing that
# Asterisk gives a meaning there may pass: no comma (argument separator), & (more
# targets), $ { } (expressions), ( ) (options), spaces, quotes or line breaks.
# ASCII classes on purpose: \w would admit any Unicode letter.
DIAL_RE = re.compile(r"[A-Za-z][A-Za-z0-9]{1,15}/[A-Za-z0-9+._-]+(?:[/@][A-Za-z0-9+._-]+)*")

_ROTATION_FIELDS = frozenset(
    {"starts", "timezone", "period_days", "period_hours", "engineers", "manager", "step_seconds"}
)
_ENGINEER_FIELDS = frozenset({"name", "dial"})
_OVERRIDE_FIELDS = frozenset({"start", "end", "role", "name", "dial"})


class ChainRole(StrEnum):
    """A step of the escalation chain."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    MANAGER = "manager"


def valid_dial(dial: str) -> bool:
    """Is ``dial`` a Dial() target that is safe to place in a dialplan argument."""
    # fullmatch, not match with $: "$" also matches before a trailing newline.
    return len(dial) <= DIAL_MAX and DIAL_RE.fullmatch(dial) is not None


def _require_aware(value: dt.datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (with a UTC offset)")


def _real(at: dt.datetime) -> dt.datetime:
    """UTC: aware datetimes sharing a tzinfo compare by wall time, ignoring the DST fold."""
    return at.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class Engineer:
    """Someone who can be paged, and the Dial() target that reaches them."""

    name: str
    dial: str

    def __post_init__(self) -> None:
        # isprintable() also refuses format characters (bidi overrides, zero-width
        # spaces) that would make the name read differently on the dashboard.
        if (
            not 1 <= len(self.name) <= NAME_MAX
            or not self.name.isprintable()
            or not self.name.strip()
        ):
            raise ValueError(
                f"engineer name {self.name!r}: 1-{NAME_MAX} printable characters required"
            )
        if not valid_dial(self.dial):
            raise ValueError(
                f"{self.dial!r} is not a Dial() target such as PJSIP/201 or "
                "PJSIP/2145550111@trunk (letters, digits and / @ + . _ - only)"
            )


@dataclass(frozen=True, slots=True)
class Rotation:
    """Engineers taking turns as primary; the next one in line is secondary.

    The first hand-over is at ``starts``; the rest follow every ``period`` at the
    same local wall time in ``tz`` (by default the zone of ``starts``, which must
    then be a ``ZoneInfo``). ``step_seconds`` are the ring times of the primary,
    secondary and manager.
    """

    engineers: tuple[Engineer, ...]
    starts: dt.datetime
    period: dt.timedelta = WEEK
    manager: Engineer | None = None
    step_seconds: tuple[int, int, int] = DEFAULT_STEP_SECONDS
    tz: ZoneInfo | None = None

    def __post_init__(self) -> None:
        if not self.engineers:
            raise ValueError("a rotation needs at least one engineer")
        _require_aware(self.starts, "the rotation start")
        if self.tz is None:
            # A fixed UTC offset cannot follow daylight saving: hand-overs would
            # drift by an hour twice a year, so a named zone is required.
            if not isinstance(self.starts.tzinfo, ZoneInfo):
                raise ValueError(
                    "a rotation needs a time zone: pass tz=ZoneInfo(...) or a start in a ZoneInfo"
                )
            object.__setattr__(self, "tz", self.starts.tzinfo)
        if self.period < _HOUR or self.period % _HOUR or self.period > MAX_PERIOD_DAYS * _DAY:
            raise ValueError(f"period: a whole number of hours, 1 hour to {MAX_PERIOD_DAYS} days")
        if len(self.step_seconds) != 3 or any(
            not MIN_STEP_SECONDS <= s <= MAX_STEP_SECONDS for s in self.step_seconds
        ):
            raise ValueError(
                f"step_seconds: three ring times of {MIN_STEP_SECONDS} to {MAX_STEP_SECONDS} s"
            )

    @property
    def zone(self) -> ZoneInfo:
        """The zone whose wall clock the hand-overs follow."""
        return cast(ZoneInfo, self.tz)  # always set by __post_init__


@dataclass(frozen=True, slots=True)
class Override:
    """Someone else takes a role for a dated span [start, end)."""

    start: dt.datetime
    end: dt.datetime
    engineer: Engineer
    role: ChainRole = ChainRole.PRIMARY

    def __post_init__(self) -> None:
        _require_aware(self.start, "an override's start")
        _require_aware(self.end, "an override's end")
        if self.end <= self.start:
            raise ValueError("an override must end after it starts")

    def covers(self, at: dt.datetime) -> bool:
        """In force at ``at``."""
        return self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class ChainStep:
    """One step of the escalation: who, in which role, for how long."""

    role: ChainRole
    engineer: Engineer
    timeout_seconds: int


def _handover(first: dt.datetime, days: int, k: int) -> dt.datetime:
    """The k-th hand-over: the local wall time of ``first``, ``k * days`` local days later."""
    return dt.datetime.combine(
        first.date() + dt.timedelta(days=k * days), first.time(), tzinfo=first.tzinfo
    )


def _periods_since(rotation: Rotation, at: dt.datetime) -> int:
    """Whole periods from ``starts`` to ``at``; negative (floored) before ``starts``."""
    if rotation.period % _DAY:
        return (_real(at) - _real(rotation.starts)) // rotation.period
    days = rotation.period.days
    first = rotation.starts.astimezone(rotation.zone)
    k = (at.astimezone(rotation.zone).date() - first.date()).days // days
    # The estimate from local dates is one period early when ``at`` falls on a
    # hand-over day before the hand-over time. Comparing real instants of each
    # local hand-over (rather than wall times) keeps the count monotonic through
    # the repeated hour of the autumn change.
    while _real(at) < _real(_handover(first, days, k)):
        k -= 1
    while _real(at) >= _real(_handover(first, days, k + 1)):
        k += 1
    return k


def _precedence(override: Override) -> tuple[float, float]:
    # Applied in this order, last wins: the latest-starting override, and at equal
    # starts the one ending first (the more specific one).
    return override.start.timestamp(), -override.end.timestamp()


def on_call(
    rotation: Rotation | None, overrides: Sequence[Override], at: dt.datetime
) -> tuple[ChainStep, ...]:
    """The escalation chain at ``at``: primary, secondary, manager; nobody twice.

    Overrides in force at ``at`` replace their role (the latest-starting wins). A
    Dial() target already in the chain is skipped so no phone rings twice; with no
    rotation the chain is empty.
    """
    _require_aware(at, "the time asked about")
    if rotation is None:
        return ()
    engineers = rotation.engineers
    k = _periods_since(rotation, at)
    people: dict[ChainRole, Engineer | None] = {
        ChainRole.PRIMARY: engineers[k % len(engineers)],
        ChainRole.SECONDARY: engineers[(k + 1) % len(engineers)] if len(engineers) > 1 else None,
        ChainRole.MANAGER: rotation.manager,
    }
    for override in sorted((o for o in overrides if o.covers(at)), key=_precedence):
        people[override.role] = override.engineer
    chain: list[ChainStep] = []
    seen: set[str] = set()
    for role, seconds in zip(ChainRole, rotation.step_seconds, strict=True):
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


def _object(raw: object, where: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: expected a JSON object")
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}")
    return cast(Mapping[str, Any], raw)


def _whole(raw: object, where: str, low: int, high: int) -> int:
    # bool is an int subclass: true must not read as 1.
    if not isinstance(raw, int) or isinstance(raw, bool) or not low <= raw <= high:
        raise ValueError(f"{where}: a whole number from {low} to {high} is required")
    return raw


def _time(raw: object, where: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if value is None or value.utcoffset() is None:
        raise ValueError(f"{where}: an ISO 8601 time with UTC offset is required")
    return value


def _engineer(raw: object, where: str) -> Engineer:
    data = _object(raw, where, _ENGINEER_FIELDS)
    name, dial = data.get("name"), data.get("dial")
    if not isinstance(name, str) or not isinstance(dial, str):
        raise ValueError(f"{where}: name and dial (text) are required")
    try:
        return Engineer(name=name, dial=dial)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _engineer_dict(engineer: Engineer) -> dict[str, str]:
    return {"name": engineer.name, "dial": engineer.dial}


def _period(doc: Mapping[str, Any]) -> dt.timedelta:
    if "period_days" in doc and "period_hours" in doc:
        raise ValueError("period_days or period_hours, not both")
    if "period_hours" in doc:
        hours = _whole(doc["period_hours"], "period_hours", 1, MAX_PERIOD_DAYS * 24)
        return dt.timedelta(hours=hours)
    return dt.timedelta(days=_whole(doc.get("period_days", 7), "period_days", 1, MAX_PERIOD_DAYS))


def rotation_from_dict(data: object, default_tz: ZoneInfo = DEFAULT_TZ) -> Rotation:
    """A rotation from its JSON form (module docstring); ``ValueError`` says what is wrong."""
    doc = _object(data, "rotation", _ROTATION_FIELDS)
    tz = default_tz
    if "timezone" in doc:
        try:
            tz = ZoneInfo(str(doc["timezone"]))
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory name
            raise ValueError(f"timezone: {doc['timezone']!r} is not a time zone name") from None
    if "starts" not in doc:
        raise ValueError("starts: the first hand-over is required")
    starts = _time(doc["starts"], "starts")
    zone_offset = starts.astimezone(tz).utcoffset()
    if starts.utcoffset() != zone_offset:
        raise ValueError(
            f"starts: offset {starts:%z} is not {tz.key}'s on {starts.date()} "
            f"(UTC{starts.astimezone(tz):%z}); hand-overs would be off by the difference"
        )
    period = _period(doc)
    engineers = doc.get("engineers")
    if not isinstance(engineers, list):
        raise ValueError("engineers: a list of {name, dial} objects is required")
    steps = doc.get("step_seconds", list(DEFAULT_STEP_SECONDS))
    if not isinstance(steps, list) or len(steps) != 3:
        raise ValueError("step_seconds: three ring times (primary, secondary, manager)")
    low, high = MIN_STEP_SECONDS, MAX_STEP_SECONDS
    manager = doc.get("manager")
    return Rotation(
        engineers=tuple(_engineer(e, f"engineers[{i}]") for i, e in enumerate(engineers)),
        starts=starts,
        period=period,
        manager=_engineer(manager, "manager") if manager is not None else None,
        step_seconds=(
            _whole(steps[0], "step_seconds[0]", low, high),
            _whole(steps[1], "step_seconds[1]", low, high),
            _whole(steps[2], "step_seconds[2]", low, high),
        ),
        tz=tz,
    )


def rotation_to_dict(rotation: Rotation) -> dict[str, Any]:
    """The JSON form of a rotation (``rotation_from_dict`` reads it back unchanged)."""
    period: dict[str, int] = (
        {"period_days": rotation.period.days}
        if not rotation.period % _DAY
        else {"period_hours": rotation.period // _HOUR}
    )
    return {
        # In the rotation's zone, so the offset is the one rotation_from_dict expects.
        "starts": rotation.starts.astimezone(rotation.zone).isoformat(),
        "timezone": rotation.zone.key,
        **period,
        "engineers": [_engineer_dict(e) for e in rotation.engineers],
        "manager": _engineer_dict(rotation.manager) if rotation.manager else None,
        "step_seconds": list(rotation.step_seconds),
    }


def override_to_dict(override: Override) -> dict[str, str]:
    """The JSON form of an override."""
    return {
        "start": override.start.isoformat(),
        "end": override.end.isoformat(),
        "role": override.role.value,
        **_engineer_dict(override.engineer),
    }


def override_from_dict(data: object) -> Override:
    """An override from its JSON form; ``ValueError`` says what is wrong."""
    doc = _object(data, "override", _OVERRIDE_FIELDS)
    try:
        role = ChainRole(doc.get("role", ChainRole.PRIMARY.value))
    except ValueError:
        raise ValueError(f"role: one of {', '.join(ChainRole)} is required") from None
    return Override(
        start=_time(doc.get("start"), "start"),
        end=_time(doc.get("end"), "end"),
        engineer=_engineer({k: v for k, v in doc.items() if k in _ENGINEER_FIELDS}, "override"),
        role=role,
    )


def chain_entry(chain_json: str, step: str) -> dict[str, str]:
    """The engineer of a chain step ("1".."3") from the ticket's stored chain."""
    try:
        chain = json.loads(chain_json) if chain_json else []
        index = int(step) - 1
    except ValueError:
        return {}
    if not isinstance(chain, list) or not 0 <= index < len(chain):
        return {}
    entry = chain[index]
    return {str(k): str(v) for k, v in entry.items()} if isinstance(entry, dict) else {}


def chain_length(chain_json: str) -> int:
    """How many steps the ticket's stored chain has."""
    try:
        chain = json.loads(chain_json) if chain_json else []
    except ValueError:
        return 0
    return len(chain) if isinstance(chain, list) else 0
