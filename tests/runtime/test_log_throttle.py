"""Trouble from the network is logged once per kind per interval, with a count of the rest."""

from __future__ import annotations

from ivr.runtime.log_throttle import LogThrottle, suffix


def test_first_line_then_silence_then_a_count() -> None:
    """The first of a kind is written; the rest of the interval are counted into the next."""
    throttle = LogThrottle(interval=10.0)
    assert throttle.admit("refused", 0.0) == 0
    assert [throttle.admit("refused", t) for t in (1.0, 2.0, 9.9)] == [None, None, None]
    assert throttle.admit("refused", 10.0) == 3
    assert throttle.admit("refused", 25.0) == 0


def test_kinds_are_counted_apart() -> None:
    """A flood of one kind never hides the first line of another."""
    throttle = LogThrottle(interval=10.0)
    assert throttle.admit("slow", 0.0) == 0
    assert throttle.admit("slow", 1.0) is None
    assert throttle.admit("bad", 1.0) == 0


def test_suffix_only_when_lines_were_held() -> None:
    """A line standing for others says how many; a lone line says nothing more."""
    assert suffix(0) == ""
    assert suffix(4) == " (and 4 more like it since the last such line)"
