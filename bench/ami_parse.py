"""AMI messages parsed per second: ``AmiParser`` against panoramisk's own protocol parser.

Both are fed the same bytes in the same chunks: every recorded stream of
``tests/transcripts/ami-*.txt`` (banner once, then its messages replayed many
times), cut as a socket read would cut them. panoramisk's ``AMIProtocol`` gets a
stub factory that drops what it dispatches, so only parsing is timed. Linearity:
one event list of 1 MiB against one of 64 KiB, fed in TCP-segment-sized chunks.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from typing import Any

from panoramisk.ami_protocol import AMIProtocol

from bench.common import ROOT, Figure, ratio
from ivr.ami.wire import AmiParser
from tests.support.fake_ami import recorded_stream

READ_SIZE = 65536  # what one socket read hands the protocol on a busy loopback
SEGMENT = 1460  # one TCP segment
REPLAYS = 60
TRIALS = 5


class _StubFactory:
    """What panoramisk's protocol calls back: counts dispatched events, keeps nothing."""

    save_stream = None
    forgetable_actions: tuple[str, ...] = ()
    awaiting_actions: list[Any] = []  # noqa: RUF012  (never filled: no actions are sent)

    def __init__(self) -> None:
        self.events = 0

    def dispatch(self, _message: Any) -> None:
        self.events += 1

    def connection_lost(self, _exc: Any) -> None:
        return None


class _NullTransport:
    def write(self, _data: bytes) -> None:
        return None

    def close(self) -> None:
        return None


def streams() -> tuple[bytes, bytes]:
    """The banner line and every recorded message after it, all transcripts together."""
    banner = b""
    bodies = []
    for path in sorted((ROOT / "tests" / "transcripts").glob("ami-*.txt")):
        raw = recorded_stream(path.name)
        line, _, body = raw.partition(b"\r\n")
        banner = line + b"\r\n"
        bodies.append(body)
    return banner, b"".join(bodies)


def chunks(data: bytes, size: int) -> list[bytes]:
    """``data`` cut into ``size``-byte pieces."""
    return [data[i : i + size] for i in range(0, len(data), size)]


def ours(pieces: list[bytes]) -> int:
    """Messages ``AmiParser`` finds in the pieces."""
    parser = AmiParser()
    return sum(len(parser.feed(piece)) for piece in pieces)


def panoramisk(pieces: list[bytes]) -> int:
    """Events panoramisk's protocol dispatches from the pieces."""
    protocol = AMIProtocol()
    protocol.connection_made(_NullTransport())
    factory = _StubFactory()
    protocol.factory = factory
    for piece in pieces:
        protocol.data_received(piece)
    return factory.events


def best_seconds(parse: Callable[[list[bytes]], int], pieces: list[bytes]) -> tuple[float, int]:
    """The fastest of a few trials (the least disturbed by other work), and its count."""
    best, count = float("inf"), 0
    gc.collect()
    gc.disable()  # as timeit does: a collection landing in one trial is not parsing
    try:
        for _ in range(TRIALS):
            started = time.perf_counter()
            count = parse(pieces)
            best = min(best, time.perf_counter() - started)
    finally:
        gc.enable()
    return best, count


def event_list(size: int) -> bytes:
    """A banner and queue events adding up to about ``size`` bytes: one long event list.

    The count is a whole multiple of the 64 KiB list's, so linear time is exactly 16x.
    """
    event = (
        b"Event: QueueEntry\r\nQueue: support-premium\r\nPosition: 1\r\nChannel: PJSIP/trunk-1\r\n"
        b"Uniqueid: 1795570000.1\r\nCallerIDNum: 2145550100\r\nWait: 12\r\n\r\n"
    )
    per_64k = (64 << 10) // len(event)
    return b"Asterisk Call Manager/11.0.0\r\n" + event * (per_64k * (size // (64 << 10)))


def measure() -> list[Figure]:
    """Events per second both ways, and the 1 MiB / 64 KiB time ratio of ours."""
    logging.getLogger("panoramisk").setLevel(logging.WARNING)
    banner, body = streams()
    pieces = chunks(banner + body * REPLAYS, READ_SIZE)
    our_s, our_n = best_seconds(ours, pieces)
    their_s, their_n = best_seconds(panoramisk, pieces)
    # The same bytes hold the same messages: panoramisk dispatches only the
    # events (it drops responses it did not ask for), so both rates count ours.
    ours_rate, theirs_rate = our_n / our_s, our_n / their_s
    del their_n
    faster = ratio(ours_rate, theirs_rate)
    small, large = chunks(event_list(64 << 10), SEGMENT), chunks(event_list(1 << 20), SEGMENT)
    small_s, _ = best_seconds(ours, small)
    large_s, _ = best_seconds(ours, large)
    p_small_s, _ = best_seconds(panoramisk, small)
    p_large_s, _ = best_seconds(panoramisk, large)
    growth, p_growth = ratio(large_s, small_s), ratio(p_large_s, p_small_s)
    return [
        Figure(
            "AMI messages parsed per second (peer: panoramisk AMIProtocol)",
            round(ours_rate),
            round(theirs_rate),
            round(faster, 2),
            ">= 2x panoramisk",
            faster >= 2,
        ),
        Figure(
            "AMI parse time, 1 MiB event list / 64 KiB one (x; peer: panoramisk's)",
            round(growth, 2),
            round(p_growth, 2),
            round(ratio(growth, p_growth), 3),
            "<= 16x (linear)",
            growth <= 16,
        ),
    ]
