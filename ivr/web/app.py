"""The supervisors' web app: the app factory, its route table and its lifetime.

Part of ``ivr serve`` (``--web-port``, loopback by default) and runnable alone
as ``ivr web``; any number of web processes share the board through Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from redis.asyncio import Redis

from ivr.config import Settings
from ivr.runtime.log_throttle import LogThrottle
from ivr.runtime.tasks import Retry, retry_forever, stop_task
from ivr.store.accounts import Accounts
from ivr.store.calendar import CalendarRules, CalendarStore
from ivr.store.directory import Directory
from ivr.store.helpdesk_sync import HelpdeskSync
from ivr.store.live import LiveStore
from ivr.store.tickets import TicketStore
from ivr.tester.engine import CallTester
from ivr.web import api, helpdesk, ops, reports_view, summary, tester_view, tickets_api, views
from ivr.web.context import (
    AMI_CONFIGURED,
    CALENDARS,
    CLOCK,
    DIRECTORY,
    LIVE,
    RECORDING_DIR,
    REDIS,
    RELAY,
    TICKETS,
    TIMEZONE,
    Clock,
)
from ivr.web.relay import Relay, sse
from ivr.web.security import (
    ACCOUNTS,
    HELPDESK_REFUSALS,
    HELPDESK_SECRET,
    SECURE_COOKIES,
    Access,
    authenticate,
    security_headers,
)

log = logging.getLogger("ivr.web")

# Requests are small forms and JSON; anything larger is refused before it is read.
MAX_REQUEST_BYTES = 64 * 1024
AMI_WATCH_SECONDS = 5.0
# How long a stop waits for requests still running once every event stream was ended
# (aiohttp waits this long, then cancels them and waits as long again; its default is 60 s).
STOP_REQUESTS_SECONDS = 5.0

ROUTES = [
    web.get("/login", views.login_get),
    web.post("/login", views.login_post),
    web.get("/static/app.css", views.static_file("app.css", Access.PUBLIC)),
    web.post("/logout", views.logout),
    web.get("/", views.dashboard),
    web.get("/tickets", views.tickets),
    web.get("/static/common.js", views.static_file("common.js", Access.SUPERVISOR)),
    web.get("/static/board.js", views.static_file("board.js", Access.SUPERVISOR)),
    web.get("/static/drawer.js", views.static_file("drawer.js", Access.SUPERVISOR)),
    web.get("/static/tickets.js", views.static_file("tickets.js", Access.SUPERVISOR)),
    web.get("/reports", reports_view.page),
    web.get("/reports/csv", reports_view.csv),
    web.get("/tester", tester_view.tester),
    web.get("/static/tester.js", views.static_file("tester.js", Access.ADMIN)),
    web.get("/api/me", api.me),
    web.get("/api/queues", api.queues),
    web.get("/api/summary", summary.summary),
    web.get("/api/tickets", tickets_api.tickets),
    web.get("/api/tickets/{number}", tickets_api.ticket),
    web.get("/api/tickets/{number}/recordings/{index}", tickets_api.recording),
    web.post("/api/tickets/{number}/ack", tickets_api.ticket_ack),
    web.post("/api/tickets/{number}/resolve", tickets_api.ticket_resolve),
    web.get("/api/callbacks", api.callbacks),
    web.get("/api/sla", api.sla),
    web.get("/api/reports", reports_view.api),
    web.post("/api/tester/call", tester_view.call),
    web.get("/api/live", api.live),
    web.get("/api/users", api.users),
    web.post("/api/users", api.user_add),
    web.delete("/api/users/{name}", api.user_remove),
    web.post("/api/helpdesk/events", helpdesk.events),
    web.get("/healthz", ops.healthz),
    web.get("/metrics", ops.metrics),
]


def create_app(
    redis: Redis,
    settings: Settings,
    clock: Clock,
    *,
    accounts: Accounts | None = None,
    call_tester: CallTester | None = None,
) -> web.Application:
    """The web app over one Redis client (the call tester only when one is given)."""
    app = web.Application(
        middlewares=[security_headers, authenticate], client_max_size=MAX_REQUEST_BYTES
    )
    app[REDIS] = redis
    app[CLOCK] = clock
    app[LIVE] = LiveStore(redis, settings.timezone, settings.service_level_seconds)
    # The same outbox rule as the service: a change made here reaches the helpdesk too.
    app[TICKETS] = TicketStore(redis, outbox=settings.helpdesk_url is not None)
    app[ACCOUNTS] = accounts or Accounts(redis, session_seconds=settings.web_session_seconds)
    app[SECURE_COOKIES] = settings.web_secure_cookies
    app[AMI_CONFIGURED] = bool(settings.ami_host)
    app[RELAY] = Relay(redis)
    app[TIMEZONE] = settings.timezone
    app[CALENDARS] = CalendarStore(redis, CalendarRules.from_settings(settings))
    app[HELPDESK_SECRET] = settings.helpdesk_secret
    app[HELPDESK_REFUSALS] = LogThrottle(interval=60.0)
    app[helpdesk.HELPDESK_SYNC] = HelpdeskSync(redis, app[CALENDARS])
    app[DIRECTORY] = Directory(redis)
    app[RECORDING_DIR] = settings.recording_dir
    if call_tester is not None:
        app[tester_view.TESTER] = call_tester
        app.on_cleanup.append(_close_tester)
    app.add_routes(ROUTES)
    app.cleanup_ctx.append(_relay_lifetime)
    app.cleanup_ctx.append(_ami_watch_lifetime)
    app.on_shutdown.append(_end_streams)
    return app


async def _close_tester(app: web.Application) -> None:
    await app[tester_view.TESTER].aclose()


async def _end_streams(app: web.Application) -> None:
    app[RELAY].close_all()


async def _ami_watch_lifetime(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(watch_ami(app[LIVE], app[RELAY]), name="web: AMI state watch")
    yield
    await stop_task(task)


async def watch_ami(live: LiveStore, relay: Relay, every: float = AMI_WATCH_SECONDS) -> None:
    """Tell browsers when the AMI state changes without a message from the consumer
    (the consumer itself died: its heartbeat expires and the board goes stale)."""
    last: dict[str, object] | None = None

    async def look() -> None:
        nonlocal last
        status = await live.ami_status()
        if last is not None and status != last:
            relay.broadcast(sse(json.dumps({"kind": "ami", "ami": status})))
        last = status

    await asyncio.sleep(every)
    await retry_forever(look, name="web: AMI state watch", retry=Retry(every, every), logger=log)


async def _relay_lifetime(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(app[RELAY].run(), name="web: live updates")
    yield
    await stop_task(task)


@contextlib.asynccontextmanager
async def running_web(app: web.Application, host: str, port: int) -> AsyncIterator[int]:
    """Serve the app until the block ends; yields the bound port (0 picks a free one)."""
    runner = web.AppRunner(
        app, access_log=None, handle_signals=False, shutdown_timeout=STOP_REQUESTS_SECONDS
    )
    await runner.setup()
    try:  # a port already taken still stops the app's background tasks
        site = web.TCPSite(runner, host, port)
        await site.start()
        server = site._server  # the only way to learn the port chosen for 0
        sockets = getattr(server, "sockets", None) or []
        bound = int(sockets[0].getsockname()[1]) if sockets else port
        log.info("web: dashboard on http://%s:%d/", host, bound)
        yield bound
    finally:
        await runner.cleanup()
