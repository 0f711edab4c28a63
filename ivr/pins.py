"""PIN hashing with argon2id, always off the event loop.

A PIN exists in memory only between the keypad and this module; it is never
logged, stored, or put in a channel variable.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ivr.domain.records import PIN_RE


class PinHasher:
    """Hashes and verifies PINs; verification of an unknown account costs the same."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # A real hash of nothing anyone can type, so an unknown account takes as
        # long to reject as a wrong PIN and timing tells the caller nothing.
        self._decoy = self._hasher.hash("decoy-not-a-pin")

    def hash_sync(self, pin: str) -> str:
        """An argon2id hash of a PIN (blocking: call from a thread or the CLI)."""
        if not PIN_RE.match(pin):
            raise ValueError("a PIN is 4 to 12 digits")
        return self._hasher.hash(pin)

    async def hash(self, pin: str) -> str:
        """``hash_sync`` in a worker thread."""
        return await asyncio.to_thread(self.hash_sync, pin)

    def verify_sync(self, stored: str | None, pin: str) -> bool:
        """True when ``pin`` matches ``stored``; a missing hash is checked against a decoy."""
        try:
            return self._hasher.verify(stored or self._decoy, pin) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def verify(self, stored: str | None, pin: str) -> bool:
        """``verify_sync`` in a worker thread."""
        return await asyncio.to_thread(self.verify_sync, stored, pin)
