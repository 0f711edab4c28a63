"""When to try a delivery again, and when to give up: pure functions of attempts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off, capped, with a bounded number of attempts."""

    max_attempts: int = 8
    base_seconds: float = 2.0
    max_seconds: float = 300.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` failures (1, 2, ...): base * 2^(n-1), capped."""
        return float(min(self.max_seconds, self.base_seconds * 2.0 ** max(0, attempts - 1)))

    def gives_up(self, attempts: int) -> bool:
        """True once ``attempts`` failures have used up the budget: dead-letter it."""
        return attempts >= self.max_attempts
