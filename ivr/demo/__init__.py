"""Demo data: three resellers, six systems and their telephone sets, for ``ivr serve --demo``.

Demo PINs are in the CSV on purpose (it is sample data); they are hashed on load
like any import.
"""

from __future__ import annotations

from importlib import resources

from ivr.store.directory import Directory
from ivr.store.imports import import_resellers, import_systems, import_telephones
from ivr.store.pins import PinHasher


async def load_demo(directory: Directory, pins: PinHasher) -> None:
    """Load (or reload) the demo resellers, systems and telephone sets."""
    folder = resources.files("ivr.demo")
    await import_resellers(directory, pins, folder.joinpath("resellers.csv").read_text("utf-8"))
    await import_systems(directory, folder.joinpath("systems.csv").read_text("utf-8"))
    await import_telephones(directory, folder.joinpath("telephones.csv").read_text("utf-8"))
