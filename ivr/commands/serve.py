"""``ivr serve`` and ``ivr web``: the long-running processes."""

from __future__ import annotations

import argparse
from typing import TextIO

from ivr import app
from ivr.config import Settings


def _web_overrides(args: argparse.Namespace) -> dict[str, object]:
    changes: dict[str, object] = {}
    if args.web_host:
        changes["web_host"] = args.web_host
    if args.web_port is not None:
        changes["web_port"] = args.web_port
    return changes


async def run(args: argparse.Namespace, settings: Settings, _stdin: TextIO) -> int:
    """Run the service (``serve``) or the dashboard alone (``web``) until stopped."""
    if args.command == "web":
        await app.serve_web(settings.with_overrides(**_web_overrides(args)))
        return 0
    changes: dict[str, object] = {}
    if args.agi_host:
        changes["agi_host"] = args.agi_host
    if args.agi_port is not None:
        changes["agi_port"] = args.agi_port
    settings = settings.with_overrides(**changes, **_web_overrides(args))
    settings.check()
    await app.serve(settings, demo=args.demo)
    return 0
