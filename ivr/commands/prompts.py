"""``ivr prompts build``: the catalogue into Asterisk's sound files."""

from __future__ import annotations

import argparse
import asyncio
from typing import TextIO

from ivr.audio.catalogue import main_build
from ivr.config import Settings


async def run(args: argparse.Namespace, _settings: Settings, _stdin: TextIO) -> int:
    """Build (incrementally) into ``--out``; ``--prune`` removes what is no longer listed."""
    return await asyncio.to_thread(main_build, args.out, args.prune)
