"""Log lines: one JSON object (or one text line) each, the call's id on every one, no secrets.

The call id lives in a ``ContextVar`` set once, at the boundary that runs a call
(``ivr.agi.channel.run_route``); every record logged while the call's task (or a
thread it started with ``asyncio.to_thread``) runs carries it, without any log
call having to name it.

Redaction is by construction first: no code passes a PIN, password or secret to a
log call (PINs live only between the keypad and ``ivr.store.pins``). The filter here is
the second line: values of keys named pin/password/secret/token (a word of the name,
not its letters: ``new_pin`` is one, ``stopping`` is not) and digits after the word
PIN are masked in the message, the extra fields and tracebacks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Final, TextIO

CALL_ID: ContextVar[str | None] = ContextVar("ivr_call_id", default=None)
FORMATS: Final = ("json", "text")
MASK: Final = "***"

# A key names a secret when one of its words does: ``pin``, ``new_pin``, ``pinHash``,
# ``IVR_AMI_SECRET``, ``apiToken``, but not ``stopping`` or ``spinner`` (the letters
# p-i-n inside an ordinary word). The longer words also count as a word's end or start
# (``amisecret``, ``passwordless``); "pin" only as a word of its own.
_SECRET_WORDS = frozenset({"pin", "pins"})
_SECRET_STEMS = ("password", "passwd", "secret", "token")
# Word breaks inside a name: camelCase and ABBRWord (``pinHash``, ``PINHash``).
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[\W_]+")
# key=value, key: value, "key": "value" where the key has the letters of a secret's
# name; ``names_secret`` then decides by its words.
_KEY_VALUE = re.compile(
    r"""(?P<key>\b(?P<name>\w*(?:pin|password|passwd|secret|token)\w*)["']?\s*[:=]\s*["']?)"""
    r"""(?P<value>[^\s"',;&}]+)""",
    re.IGNORECASE,
)
# "PIN 2468", "PIN: 2468", "pin #2468": any digits right after the word.
_PIN_DIGITS = re.compile(r"(?P<key>\bPINs?\b[\s:=#'\"-]*)(?P<value>\d+)", re.IGNORECASE)
# Attributes every LogRecord has; anything else came from ``extra=``.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "call_id",
    "call",
}


def names_secret(key: str) -> bool:
    """Whether a field or key name names a secret (by its words, not its letters)."""
    for word in _NOT_WORD.split(_CAMEL.sub("_", key).lower()):
        if word in _SECRET_WORDS or word.startswith(_SECRET_STEMS) or word.endswith(_SECRET_STEMS):
            return True
    return False


def _mask_value(match: re.Match[str]) -> str:
    return match["key"] + MASK if names_secret(match["name"]) else match[0]


def redact(text: str) -> str:
    """``text`` with secret values masked (``pin=2468`` -> ``pin=***``)."""
    text = _KEY_VALUE.sub(_mask_value, text)
    return _PIN_DIGITS.sub(lambda m: m["key"] + MASK, text)


@contextlib.contextmanager
def call_context(call_id: str) -> Iterator[None]:
    """Every record logged inside the block carries ``call_id``."""
    token = CALL_ID.set(call_id)
    try:
        yield
    finally:
        CALL_ID.reset(token)


def extra_fields(record: logging.LogRecord) -> dict[str, object]:
    """The fields a log call added with ``extra=``, secret ones masked."""
    fields: dict[str, object] = {}
    for key, value in record.__dict__.items():
        if key in _STANDARD or key.startswith("_"):
            continue
        if names_secret(key):
            fields[key] = MASK
        elif isinstance(value, str):
            fields[key] = redact(value)
        elif value is None or isinstance(value, bool | int | float):
            fields[key] = value
        else:
            fields[key] = redact(repr(value))
    return fields


class CallIdFilter(logging.Filter):
    """Stamps ``record.call_id`` from the running call (None outside calls)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keeps the record."""
        if getattr(record, "call_id", None) is None:
            record.call_id = CALL_ID.get()
        return True


class RedactFilter(logging.Filter):
    """Masks secrets in the message itself, so every handler sees the masked text."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keeps the record, with ``msg`` replaced by its redacted rendering."""
        message = record.getMessage()
        masked = redact(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, call_id, extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (never raises for odd values)."""
        entry: dict[str, object] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        call_id = getattr(record, "call_id", None) or CALL_ID.get()
        if call_id:
            entry["call_id"] = call_id
        entry.update(extra_fields(record))
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=True, default=str)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger [call id]: message``, for people at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(call)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """One text line (plus a traceback when there is one), secrets masked."""
        call_id = getattr(record, "call_id", None) or CALL_ID.get()
        record.call = f" [{call_id}]" if call_id else ""
        extras = extra_fields(record)
        extras.pop("call", None)
        text = super().format(record)
        if extras:
            text += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return redact(text)


_OWNED = "_ivr_handler"


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of each record.

    A handler holding the stderr of the moment it was made would write to a closed
    stream once that is swapped out (tests calling ``main()`` in-process do).
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        """The current ``sys.stderr``."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        """Ignored: the stream is always the current ``sys.stderr``."""


def configure_logging(level: str, fmt: str, stream: TextIO | None = None) -> logging.Handler:
    """Send every record to ``stream`` (stderr) as JSON or text; replaces an earlier setup.

    Other handlers (a test's capture) are left in place.
    """
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {FORMATS}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OWNED, False)]:
        root.removeHandler(old)
    handler: logging.Handler = StderrHandler() if stream is None else logging.StreamHandler(stream)
    setattr(handler, _OWNED, True)
    handler.addFilter(CallIdFilter())
    handler.addFilter(RedactFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    return handler
