"""The JSON API and the live event stream; same sign-in as the pages, or a bearer token."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
from typing import Any, cast

from aiohttp import web

from ivr.store import keys
from ivr.store.accounts import UserRole, check_name, check_password
from ivr.store.sla import SlaStanding, sla_standings
from ivr.web.context import (
    AMI_CONFIGURED,
    CALENDARS,
    CLOCK,
    DIRECTORY,
    LIVE,
    REDIS,
    RELAY,
    TICKETS,
)
from ivr.web.relay import sse
from ivr.web.replies import json_reply, limit_of
from ivr.web.security import ACCOUNTS, Access, access, current_account

log = logging.getLogger("ivr.web")

KEEPALIVE_SECONDS = 15.0


@access(Access.SUPERVISOR)
async def queues(request: web.Request) -> web.StreamResponse:
    """Every queue: waiting callers (with reseller, tier, Host ID, SLA), agents, today's
    figures, and the AMI link (``configured`` false: no Asterisk is set up)."""
    return json_reply(await board_json(request.app))


async def board_json(app: web.Application) -> dict[str, Any]:
    """The shared board, its AMI state saying whether Asterisk is configured at all."""
    board = await app[LIVE].board(app[CLOCK]())
    board["ami"] = ami_json(board["ami"], configured=app[AMI_CONFIGURED])
    return board


def ami_json(status: dict[str, Any], *, configured: bool) -> dict[str, Any]:
    """The AMI status with ``configured`` (the browser words it: not configured,
    connecting, live, stale since)."""
    return status | {"configured": configured}


@access(Access.SUPERVISOR)
async def callbacks(request: web.Request) -> web.StreamResponse:
    """Promised call-backs, soonest first: ticket number and when."""
    redis = request.app[REDIS]
    rows = cast(
        list[tuple[str, float]],
        await redis.zrange(keys.CALLBACKS, 0, limit_of(request) - 1, withscores=True),
    )
    return json_reply({"callbacks": [
        {"ticket": number, "at": dt.datetime.fromtimestamp(score, dt.UTC).isoformat()}
        for number, score in rows
    ]})  # fmt: skip


def standing_json(standing: SlaStanding) -> dict[str, Any]:
    """One ticket's place on its SLA clock as the API shows it."""
    out = dataclasses.asdict(standing)
    out["created"] = standing.created.isoformat()
    out["due"] = standing.due.isoformat()
    out["alerts"] = list(standing.alerts)
    out["elapsed_share"] = round(standing.elapsed_share, 4)
    out["seconds_left"] = round(standing.seconds_left)
    return out


@access(Access.SUPERVISOR)
async def sla(request: web.Request) -> web.StreamResponse:
    """Open tickets on the SLA watch, most urgent first: elapsed share, time left, alerts."""
    app = request.app
    now = app[CLOCK]()
    found = await sla_standings(app[REDIS], app[TICKETS], app[CALENDARS], now)
    names = await app[DIRECTORY].names(s.reseller for s in found)
    rows = [standing_json(s) | {"reseller_name": names.get(s.reseller, "")} for s in found]
    return json_reply({"server_time": now.isoformat(), "tickets": rows})


@access(Access.SUPERVISOR)
async def me(request: web.Request) -> web.StreamResponse:
    """Who is signed in."""
    account = current_account(request)
    return json_reply({"name": account.name, "role": account.role.value})


@access(Access.SUPERVISOR)
async def live(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the whole board first, then every change as it happens."""
    relay = request.app[RELAY]
    listener = relay.add()
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",
    })  # fmt: skip
    try:
        await response.prepare(request)
        board = await board_json(request.app)
        await response.write(sse(json.dumps({"kind": "board", "board": board})))
        while not listener.dropped.is_set():
            try:
                async with asyncio.timeout(KEEPALIVE_SECONDS):
                    data = await listener.queue.get()
            except TimeoutError:
                data = b": keep-alive\n\n"
            if not data:
                break  # the server is stopping
            await response.write(data)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        relay.remove(listener)
    with contextlib.suppress(ConnectionResetError):
        await response.write_eof()
    return response


@access(Access.ADMIN)
async def users(request: web.Request) -> web.StreamResponse:
    """Every dashboard account (names and roles; never a hash)."""
    found = await request.app[ACCOUNTS].list()
    return json_reply({"users": [{"name": a.name, "role": a.role.value} for a in found]})


@access(Access.ADMIN)
async def user_add(request: web.Request) -> web.StreamResponse:
    """Create or replace an account: JSON ``{"name", "role", "password"}``."""
    try:
        body = await request.json()
        name = check_name(str(body["name"]))
        role = UserRole(str(body["role"]))
        password = check_password(str(body["password"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise web.HTTPBadRequest(text=f"bad account: {exc}") from None
    await request.app[ACCOUNTS].add(name, role, password, request.app[CLOCK]())
    log.info("web: account %s (%s) saved by %s", name, role.value, current_account(request).name)
    return json_reply({"name": name, "role": role.value}, status=201)


@access(Access.ADMIN)
async def user_remove(request: web.Request) -> web.StreamResponse:
    """Delete an account and sign it out everywhere."""
    name = request.match_info["name"]
    if not await request.app[ACCOUNTS].remove(name):
        raise web.HTTPNotFound(text=f"no account {name}")
    log.info("web: account %s removed by %s", name, current_account(request).name)
    return json_reply({"removed": name})
