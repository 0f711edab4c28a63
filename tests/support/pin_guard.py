"""The suite's PIN guard: no PIN used by any test may reach a log line or a Redis value.

Which PINs: the demo resellers' PINs (``ivr/demo/resellers.csv``), every PIN the
tests' source sets or types (reseller CSV rows, ``account# PIN#`` key sequences,
PINs given on stdin or to the hasher), and ``EXTRA_PINS``.

The rule, so that four-digit PINs inside timestamps, ports or ids do not count:
1. anywhere, digits right after a key or word naming a PIN (``pin=2468``,
   ``"pin": "2468"``, ``PIN 2468``) are a leak, whatever the digits;
2. a known PIN is a leak as a whole token: not touching a letter or a digit on
   either side (so ``2468`` in ``12468`` or ``a2468`` does not count, but in
   ``digits 2468 typed`` it does). Ports of test servers are ephemeral
   (32768 and up) and none of the PINs are that high with four digits.
Argon2 hashes (``$argon2...``) are the one allowed form of a PIN in Redis and
are skipped.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from pathlib import Path

from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parents[2]
# PINs set in ways the patterns below do not see.
EXTRA_PINS = frozenset({"2468", "1357", "9753", "4321", "1234", "8642"})

_NAMED = re.compile(
    r"""(?:\b\w*pin\w*["']?\s*[:=]\s*["']?|\bPINs?\b[\s:#'"-]*)(\d{4,12})\b""", re.IGNORECASE
)
_SOURCE_PATTERNS = (
    re.compile(r"\b\d{3,12},[^,\n\"\\]*,(\d{4,12}),"),  # reseller CSV rows: account,name,pin,
    re.compile(r"(?:^|[\s\"'])[123] \d{3,12}# (\d{4,12})#"),  # typed: menu account# PIN#
    re.compile(r"""StringIO\(["'](\d{4,12})\\n"""),  # PIN on stdin
    re.compile(r"""input=b?["'](\d{4,12})"""),
    re.compile(r"""(?:hash|hash_sync|verify|verify_sync)\([^)\n]*["'](\d{4,12})["']"""),
    re.compile(r"""\bPIN\w*\s*=\s*["'](\d{4,12})["']"""),  # TEST_PIN = "731904"
)


def collect_pins() -> frozenset[str]:
    """Every PIN the demo data and the tests use."""
    pins = set(EXTRA_PINS)
    demo = (ROOT / "ivr/demo/resellers.csv").read_text(encoding="utf-8")
    pins |= {row["pin"] for row in csv.DictReader(io.StringIO(demo)) if row["pin"]}
    for source in (ROOT / "tests").rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        for pattern in _SOURCE_PATTERNS:
            pins |= set(pattern.findall(text))
    # Host IDs and account numbers of the demo data are typed the same way, not PINs.
    systems = (ROOT / "ivr/demo/systems.csv").read_text(encoding="utf-8")
    pins -= {row["host_id"] for row in csv.DictReader(io.StringIO(systems))}
    pins -= {row["account"] for row in csv.DictReader(io.StringIO(demo))}
    return frozenset(pins)


class PinGuard:
    """Collects leaks found in log records, subprocess output and Redis values."""

    def __init__(self, pins: frozenset[str]) -> None:
        self.pins = pins
        self.leaks: list[str] = []
        alternatives = "|".join(sorted(pins, key=len, reverse=True))
        self._token = re.compile(rf"(?<![0-9A-Za-z])(?:{alternatives})(?![0-9A-Za-z])")

    def find(self, text: str) -> list[str]:
        """The PIN-like fragments of ``text`` under the rule above."""
        found = [m.group(0) for m in _NAMED.finditer(text)]
        found += [m.group(0) for m in self._token.finditer(text)]
        return found

    def check(self, text: str, where: str) -> None:
        """Note every leak in ``text``, saying where it was seen."""
        for fragment in self.find(text):
            self.leaks.append(f"{where}: {fragment!r} in {text[:300]!r}")

    async def check_redis(self, redis: Redis, where: str) -> None:
        """Every value of every key in ``redis`` (a test's data before it is flushed)."""
        async for key in redis.scan_iter(count=1000):
            kind = await redis.type(key)
            values: list[str] = [str(key)]
            if kind == "string":
                values.append(str(await redis.get(key)))
            elif kind == "hash":
                for field, value in (await redis.hgetall(key)).items():
                    if field == "pin_hash" and not str(value).startswith("$argon2"):
                        self.leaks.append(f"{where}: {key} pin_hash is not an argon2 hash")
                    values += [str(field), str(value)]
            elif kind == "list":
                values += [str(v) for v in await redis.lrange(key, 0, -1)]
            elif kind == "set":
                values += [str(v) for v in await redis.smembers(key)]
            elif kind == "zset":
                values += [str(v) for v in await redis.zrange(key, 0, -1)]
            elif kind == "stream":
                for _id, entry in await redis.xrange(key) or []:
                    values += [f"{k!s}={v!s}" for k, v in (entry or {}).items()]
            for value in values:
                if not value.startswith("$argon2"):
                    self.check(value, f"{where} redis {key}")


class PinGuardHandler(logging.Handler):
    """Checks every record the suite logs, as the log call made it (before any masking)."""

    def __init__(self, guard: PinGuard) -> None:
        super().__init__(logging.DEBUG)
        self._guard = guard

    def emit(self, record: logging.LogRecord) -> None:
        """Check the message, its extra fields and its traceback."""
        try:
            text = record.getMessage()
        except (TypeError, ValueError):
            text = f"{record.msg} {record.args}"
        extras = " ".join(f"{k}={v}" for k, v in record.__dict__.items() if k not in _PLAIN)
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + repr(record.exc_info[1])
        self._guard.check(f"{text} {extras}", f"log {record.name}")


_PLAIN = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
