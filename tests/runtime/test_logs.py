"""Structured logs: JSON lines, the call id on every line of a call, secrets masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from ivr.runtime.logs import (
    CallIdFilter,
    JsonFormatter,
    RedactFilter,
    TextFormatter,
    call_context,
    configure_logging,
    redact,
)
from tests.support.harness import Line
from tests.support.pin_guard import PinGuard


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The service's JSON handler writing to a buffer (the PIN guard stays on the root)."""
    out = io.StringIO()
    handler = configure_logging("DEBUG", "json", out)
    try:
        yield out
    finally:
        logging.getLogger().removeHandler(handler)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("pin=2468", "pin=***"),
        ('{"pin": "2468"}', '{"pin": "***"}'),
        ("password: hunter2 ok", "password: *** ok"),
        ("IVR_AMI_SECRET=abc&x=1", "IVR_AMI_SECRET=***&x=1"),
        ("token=eyJhbGci.x.y", "token=***"),
        ("entered PIN 2468 twice", "entered PIN *** twice"),
        ("PIN:1357", "PIN:***"),
        ("pin_hash=$argon2id$v=19$m=1", "pin_hash=***"),
        ("host_id=123456 at 2026-11-25T10:00:00", "host_id=123456 at 2026-11-25T10:00:00"),
        ("port 24680 listening", "port 24680 listening"),
        # A PIN value in every form a log line could hold it.
        ("new_pin=2468 old_pin: 1357", "new_pin=*** old_pin: ***"),
        ("pinHash=$argon2id$v=19 PINs=2468", "pinHash=*** PINs=***"),
        ("{'pin': '2468', 'account': '1001'}", "{'pin': '***', 'account': '1001'}"),
        ("Pin #2468 and pins: 1357", "Pin #*** and pins: ***"),
        ("oncall-accept?step=1&pin=2468&x=1", "oncall-accept?step=1&pin=***&x=1"),
        ("x_spin=3&pin=2468", "x_spin=3&pin=***"),
        ("apiToken: abc api-token=def", "apiToken: *** api-token=***"),
        # Ordinary words that hold the letters p-i-n keep their values.
        ("stopping: 3 calls in progress", "stopping: 3 calls in progress"),
        ("shipping=2 spinner: 4 typing=7", "shipping=2 spinner: 4 typing=7"),
        ("opinion: 5, mapping=queue, pinned=1", "opinion: 5, mapping=queue, pinned=1"),
    ],
)
def test_redact(text: str, masked: str) -> None:
    """Values of secret-named keys and digits after "PIN" are masked; other digits stay."""
    assert redact(text) == masked


def test_the_shutdown_line_keeps_its_number() -> None:
    """The service's own "stopping" line is not taken for a PIN (it was "stopping: ***")."""
    record = _record("stopping: %d calls in progress", 3)
    RedactFilter().filter(record)
    assert record.getMessage() == "stopping: 3 calls in progress"


def test_extra_fields_are_masked_by_their_words() -> None:
    """An extra field named for a PIN is masked; one whose name only holds p-i-n is not."""
    record = _record("call", new_pin="2468", pinHash="x", shipping="2", stopping="now")
    entry = json.loads(JsonFormatter().format(record))
    assert (entry["new_pin"], entry["pinHash"]) == ("***", "***")
    assert (entry["shipping"], entry["stopping"]) == ("2", "now")


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    """A record built by hand: it never passes through the suite's own PIN guard."""
    return logging.makeLogRecord({"msg": msg, "args": args, "name": "ivr.t", **extra})


def test_json_line_fields_and_masking() -> None:
    """One JSON object: ts, level, logger, msg, call id, extras; secret extras masked."""
    record = _record("tried %s", "pin=2468", host_id="123456", secret="x", levelname="WARNING")
    with call_context("1795570859.5"):
        CallIdFilter().filter(record)
    RedactFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["msg"] == "tried pin=***"
    assert entry["call_id"] == "1795570859.5"
    assert entry["host_id"] == "123456"
    assert entry["secret"] == "***"
    assert set(entry) >= {"ts", "level", "logger", "msg"}


def test_text_line_names_the_call() -> None:
    """The text form shows the call id in brackets and masks PIN digits."""
    record = _record("caller typed PIN 97531")
    with call_context("42.1"):
        line = TextFormatter().format(record)
    assert "[42.1]" in line
    assert "97531" not in line


def test_exception_text_is_masked() -> None:
    """A traceback whose message holds a secret is masked too."""
    error = ValueError("password=swordfish")
    record = _record("failed", exc_info=(ValueError, error, None))
    entry = json.loads(JsonFormatter().format(record))
    assert "swordfish" not in entry["exc"]


async def test_every_line_of_a_call_has_its_id(line: Line, json_lines: io.StringIO) -> None:
    """A call that fails a PIN, locks nothing and hangs up: every line it logs names it."""
    await line.call("1 1001# 1111# 1001# 2222#", hangup_at=9)
    await line.call("", caller="")
    entries = [json.loads(text) for text in json_lines.getvalue().splitlines()]
    during_calls = [e for e in entries if e["logger"].startswith(("ivr.flows", "ivr.agi"))]
    assert during_calls, entries
    in_call = [e for e in during_calls if "call=" in e["msg"]]
    assert in_call
    for entry in in_call:
        assert entry.get("call_id"), entry
        assert f"call={entry['call_id']}" in entry["msg"]


def test_pin_guard_rule() -> None:
    """Named PINs always count; known PINs only as whole tokens, not inside other numbers."""
    guard = PinGuard(frozenset({"2468", "731904"}))
    assert guard.find("pin=0000")
    assert guard.find('"pin": "5555"')
    assert guard.find("typed 2468 then #")
    assert guard.find("digits:731904")
    assert not guard.find("2026-11-25T10:24:68")
    assert not guard.find("port 124680, id 1795572468.3, a2468")
    assert not guard.find("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA")
