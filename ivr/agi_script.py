"""A classic AGI script's process: one call, then exit.

``agi_scripts/<route>.py`` calls ``main``: it takes the AGI pipes off standard
input and output, reads the settings from the ``IVR_*`` environment Asterisk
passes on, builds the stores and runs the route named by the script's file name
through ``ivr.agi.classic`` (the same ``AgiChannel`` and flows as FastAGI).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Sequence
from typing import TextIO

from asterisk.agi import AGI

from ivr.agi.channel import run_route
from ivr.agi.classic import (
    EXIT_CANNOT_RUN,
    EXIT_CONFIG,
    EXIT_OK,
    Pyst2Agi,
    Pyst2Log,
    StdioRunner,
    agi_environment,
    claim_stdio,
    script_route,
)
from ivr.agi.protocol import AgiEnvironment, AgiProtocolError
from ivr.config import ConfigError, Settings, load_settings
from ivr.flows.routes import route_table
from ivr.runtime.clock import Clock
from ivr.runtime.logs import configure_logging
from ivr.runtime.redis_server import RedisUnavailable
from ivr.services import build_stores, line_context, open_redis, service_clock

log = logging.getLogger("ivr.agi.classic")


async def run_call(
    agi: Pyst2Agi,
    env: AgiEnvironment,
    settings: Settings,
    clock: Clock | None = None,
) -> int:
    """Run ``env.route`` on this script's channel; return the exit status."""
    call = env.unique_id
    async with open_redis(settings) as redis:
        stores = build_stores(redis, settings)
        handler = route_table(line_context(stores, settings, clock or service_clock(settings))).get(
            env.route
        )
        if handler is None:
            log.error("call=%s no route %r (the script's file name names it)", call, env.route)
            return EXIT_CANNOT_RUN
        runner = StdioRunner(agi)
        runner.start()
        try:
            await run_route(
                handler,
                runner,
                env,
                sounds_prefix=settings.sounds_prefix,
                recording_dir=settings.recording_dir,
                command_timeout=settings.agi_command_timeout,
            )
        finally:
            runner.close()
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the route named by the script's file name (``argv[0]``) as classic AGI."""
    args = list(sys.argv if argv is None else argv)
    agi_in, agi_out = claim_stdio()
    configure_logging("INFO", "text")
    try:
        return _run(args, agi_in, agi_out)
    finally:
        with contextlib.suppress(OSError, ValueError):
            agi_out.close()


def _run(args: Sequence[str], agi_in: TextIO, agi_out: TextIO) -> int:
    try:
        settings = load_settings()
    except ConfigError as exc:
        log.error("configuration error: %s", exc)
        return EXIT_CONFIG
    configure_logging(settings.log_level, settings.log_format or "text")
    try:
        route = script_route(args[0] if args else "")
    except AgiProtocolError:
        log.error("the script name %r names no route", args[0] if args else "")
        return EXIT_CANNOT_RUN
    if settings.redis_url is None:
        log.warning("IVR_REDIS_URL is not set: using the data directory's own Redis")
    agi: Pyst2Agi = AGI(stdin=agi_in, stdout=agi_out, stderr=Pyst2Log())
    try:
        env = agi_environment(agi.env, route)
    except AgiProtocolError as exc:
        log.error("route=%s bad AGI environment: %s", route, exc)
        return EXIT_CANNOT_RUN
    try:
        return asyncio.run(run_call(agi, env, settings))
    except (RedisUnavailable, OSError) as exc:
        log.error("call=%s route=%s cannot reach Redis: %s", env.unique_id, route, exc)
        return EXIT_CANNOT_RUN
