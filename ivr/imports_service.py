"""CSV imports applied to the stores: all rows or none."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ivr.domain.imports import parse_resellers, parse_systems

if TYPE_CHECKING:
    from ivr.app import Services


async def import_resellers(services: Services, text: str) -> int:
    """Validate every row, hash the PINs (in threads), store them at once; return the count."""
    rows = parse_resellers(text)
    hashes = await asyncio.gather(
        *(services.pins.hash(row.pin) if row.pin else _none() for row in rows)
    )
    await services.directory.save_resellers(
        [(row.reseller, pin_hash) for row, pin_hash in zip(rows, hashes, strict=True)]
    )
    return len(rows)


async def import_systems(services: Services, text: str) -> int:
    """Validate every row (owners must be known resellers), store them at once."""
    known = await services.directory.accounts()
    systems = parse_systems(text, known_accounts=known)
    await services.directory.save_systems(systems)
    return len(systems)


async def _none() -> None:
    return None
