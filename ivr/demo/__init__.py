"""Demo data: three resellers and five systems, for ``ivr serve --demo`` and the README.

Demo PINs are in the CSV on purpose (it is sample data); they are hashed on load
like any import.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

from ivr.imports_service import import_resellers, import_systems

if TYPE_CHECKING:
    from ivr.app import Services


async def load_demo(services: Services) -> None:
    """Load (or reload) the demo resellers and systems."""
    folder = resources.files("ivr.demo")
    await import_resellers(services, folder.joinpath("resellers.csv").read_text("utf-8"))
    await import_systems(services, folder.joinpath("systems.csv").read_text("utf-8"))
