"""At most one log line per kind of trouble per interval, with a count of the rest.

A flood of refused or broken connections (a scanner, a misconfigured Asterisk,
an attack) must not become a flood of log lines: the first is logged at once,
the rest of the interval are counted, and the next line says how many it stood
for. Pure bookkeeping: the caller passes the time.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class LogThrottle:
    """Decides which lines of each kind to write."""

    interval: float = 10.0
    _last: dict[str, float] = field(default_factory=dict)
    _held: dict[str, int] = field(default_factory=dict)

    def admit(self, kind: str, now: float) -> int | None:
        """None to stay silent; otherwise how many lines of this kind were held back."""
        last = self._last.get(kind)
        if last is not None and now - last < self.interval:
            self._held[kind] = self._held.get(kind, 0) + 1
            return None
        self._last[kind] = now
        return self._held.pop(kind, 0)


def suffix(held: int) -> str:
    """The note added to a line that stands for others."""
    return f" (and {held} more like it since the last such line)" if held else ""
