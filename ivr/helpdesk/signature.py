"""The webhook signature: HMAC-SHA256 of the exact body bytes, hex, in a header.

Pure functions, so a receiver (or a test) checks a delivery with the same code.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-IVR-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_HEADER = "X-IVR-Event"
_SCHEME = "sha256="


def sign(body: bytes, secret: str) -> str:
    """The header value for ``body``: ``sha256=<hex digest>``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return _SCHEME + digest


def verify(body: bytes, secret: str, header: str) -> bool:
    """True when ``header`` is the signature of ``body`` (constant-time comparison)."""
    return hmac.compare_digest(sign(body, secret), header)
