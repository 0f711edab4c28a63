"""The helpdesk webhook's contract, as pure functions: its signature and its retry policy.

Signature: HMAC-SHA256 of the exact body bytes, hex, in a header, so a receiver
(or a test) checks a delivery with the same code; the helpdesk signs the events it
sends the phone line (``POST /api/helpdesk/events``) the same way. Retry policy: when to try a
delivery again, and when to give up, as functions of the attempts made.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

SIGNATURE_HEADER = "X-IVR-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_HEADER = "X-IVR-Event"
_SCHEME = "sha256="


def sign(body: bytes, secret: str) -> str:
    """The header value for ``body``: ``sha256=<hex digest>``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return _SCHEME + digest


def verify(body: bytes, secret: str, header: str) -> bool:
    """True when ``header`` is the signature of ``body`` (constant-time comparison).

    Compared as bytes, so a header with any characters is a mismatch, never an error.
    """
    expected = sign(body, secret).encode()
    return hmac.compare_digest(expected, header.encode("utf-8", "surrogateescape"))


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
