"""The one codec of the record dataclasses: to and from flat strings (a Redis hash) and
JSON-ready values, driven by each field's declared type.

A field added to a record is then stored, read back, journaled and shown by the
API, the command line and the helpdesk payload with no other edit. Types known:
``str``, ``int``, ``float``, ``bool``, ``datetime`` (ISO 8601 with its offset),
``date``, string enums, and any of them ``| None``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

R = TypeVar("R")
JsonValue = str | int | float | bool | None


FieldType = tuple[str, type[Any], bool, bool]
_FIELD_TYPES: dict[type[Any], tuple[FieldType, ...]] = {}


def _field_types(cls: type[Any]) -> tuple[FieldType, ...]:
    """(name, base type, optional, has a default) of each field of a record class."""
    known = _FIELD_TYPES.get(cls)
    if known is None:
        known = _FIELD_TYPES[cls] = _read_field_types(cls)
    return known


def _read_field_types(cls: type[Any]) -> tuple[FieldType, ...]:
    hints = typing.get_type_hints(cls)
    out = []
    for field in dataclasses.fields(cls):
        kind: Any = hints[field.name]
        optional = False
        if isinstance(kind, types.UnionType):
            args = [a for a in kind.__args__ if a is not type(None)]
            if len(args) != 1:
                raise TypeError(f"{cls.__name__}.{field.name}: one type or 'T | None' only")
            kind, optional = args[0], True
        has_default = (
            field.default is not dataclasses.MISSING
            or field.default_factory is not dataclasses.MISSING
        )
        out.append((field.name, kind, optional, has_default))
    return tuple(out)


def _to_json(value: object) -> JsonValue:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    return str(value)


def _from_json(kind: type[Any], value: object) -> object:
    if kind is dt.datetime:
        return dt.datetime.fromisoformat(str(value))
    if kind is dt.date:
        return dt.date.fromisoformat(str(value))
    if kind is bool:
        if isinstance(value, bool):
            return value
        return str(value) in {"1", "true", "True"}
    if kind in (int, float) or issubclass(kind, enum.Enum):
        return kind(value)
    return str(value)


def to_json(record: object) -> dict[str, JsonValue]:
    """Every field as a JSON value: times in ISO 8601, enums as their value."""
    return {f.name: _to_json(getattr(record, f.name)) for f in dataclasses.fields(record)}  # type: ignore[arg-type]


def from_json(cls: type[R], data: Mapping[str, object]) -> R:
    """A record from ``to_json``'s form; a missing field with a default takes it.

    Raises KeyError for a missing required field, ValueError for a bad value.
    """
    values: dict[str, object] = {}
    for name, kind, optional, has_default in _field_types(cls):
        if name not in data:
            if has_default:
                continue
            raise KeyError(name)
        raw = data[name]
        values[name] = None if optional and raw in (None, "") else _from_json(kind, raw)
    return cls(**values)


def to_strings(record: object) -> dict[str, str]:
    """Every field as a string, as a Redis hash holds it: booleans ``1``/``0``, None ``""``."""
    out: dict[str, str] = {}
    for name, value in to_json(record).items():
        if isinstance(value, bool):
            out[name] = "1" if value else "0"
        else:
            out[name] = "" if value is None else str(value)
    return out


def from_strings(cls: type[R], data: Mapping[str, str]) -> R:
    """A record from ``to_strings``'s form (other keys in ``data`` are ignored)."""
    return from_json(cls, data)


def fields_of(record: object) -> dict[str, Any]:
    """The record's fields as they are (no conversion): to build a related record."""
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}  # type: ignore[arg-type]
