"""CSV imports applied to the stores: all rows or none."""

from __future__ import annotations

import asyncio

from ivr.domain.imports import parse_resellers, parse_systems, parse_telephones
from ivr.store.directory import Directory
from ivr.store.pins import PinHasher


async def import_resellers(directory: Directory, pins: PinHasher, text: str) -> int:
    """Validate every row, hash the PINs (in threads), store them at once; return the count."""
    rows = parse_resellers(text)
    hashes = await asyncio.gather(*(pins.hash(row.pin) if row.pin else _none() for row in rows))
    await directory.save_resellers(
        [(row.reseller, pin_hash) for row, pin_hash in zip(rows, hashes, strict=True)]
    )
    return len(rows)


async def import_systems(directory: Directory, text: str) -> int:
    """Validate every row (owners must be known resellers), store them at once."""
    known = await directory.accounts()
    systems = parse_systems(text, known_accounts=known)
    await directory.save_systems(systems)
    return len(systems)


async def import_telephones(directory: Directory, text: str) -> int:
    """Validate every row (parents must be systems in the registry), store them at once."""
    sets = parse_telephones(text, known_hosts=await directory.host_ids())
    await directory.save_telephones(sets)
    return len(sets)


async def _none() -> None:
    return None
