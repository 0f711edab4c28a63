"""What a simulated caller hears as silence: the gaps between the service's commands.

The simulated Asterisk answers every command at once (a prompt takes no time),
so the time from answering one command to receiving the next is time the
service spent deciding while the caller heard nothing: the silence. A meter is
the ``before_answer`` hook of one ``SimulatedCall``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class SilenceMeter:
    """The gaps of one call, each labelled by the command whose answer started it."""

    gaps: list[tuple[float, str]] = field(default_factory=list)
    _answered_at: float = 0.0
    _answered: str = ""

    async def __call__(self, command: str) -> None:
        now = time.perf_counter()
        if self._answered_at:
            self.gaps.append((now - self._answered_at, self._answered))
        self._answered, self._answered_at = command, time.perf_counter()

    @property
    def longest(self) -> float:
        """The longest silence of the call, in seconds."""
        return max((gap for gap, _ in self.gaps), default=0.0)

    def longest_after(self, fragment: str) -> float:
        """The longest silence after a command containing ``fragment`` (0 when none)."""
        return max((gap for gap, after in self.gaps if fragment in after), default=0.0)
