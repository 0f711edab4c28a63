"""Wires the parts together and owns their lifetimes: Redis, stores, FastAGI server,
AMI consumer and web app."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import secrets
import signal
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from redis.asyncio import BlockingConnectionPool, Redis

from ivr.agi.server import FastAgiServer, ServerLimits
from ivr.ami.consumer import AmiConsumer
from ivr.ami.originate import AmiOriginator, AmiSettings, Originator
from ivr.config import Settings
from ivr.flows.routes import route_table
from ivr.flows.support_line import SupportLineDeps
from ivr.helpdesk.deliverer import Deliverer, Webhook
from ivr.helpdesk.policy import RetryPolicy
from ivr.lag_probe import LagProbe
from ivr.paging import Pager, PagingPolicy
from ivr.pins import PinHasher, below_minimum, default_hasher
from ivr.redis_server import managed_redis
from ivr.sla_watch import SlaPolicy, SlaWatcher
from ivr.store.calendar import CalendarRules, CalendarStore
from ivr.store.calls import CallStore
from ivr.store.directory import Directory
from ivr.store.journal import TicketJournal, replay_forever
from ivr.store.keys import SLA_LEADER
from ivr.store.leader import Lease
from ivr.store.live import LiveStore
from ivr.store.lockout import Lockout, LockoutPolicy
from ivr.store.oncall import OnCallStore
from ivr.store.outbox import HelpdeskOutbox
from ivr.store.tickets import TicketStore
from ivr.tasks import stop_task
from ivr.web.accounts import Accounts, Role
from ivr.web.app import create_app, running_web

if TYPE_CHECKING:
    from ivr.call_tester import CallTester

log = logging.getLogger("ivr")


def now_utc() -> dt.datetime:
    """The real clock, injected into flows (tests pass their own)."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class Services:
    """The stores and helpers every entry point shares."""

    redis: Redis
    directory: Directory
    lockout: Lockout
    tickets: TicketStore
    calls: CallStore
    pins: PinHasher
    calendars: CalendarStore
    oncall: OnCallStore
    journal: TicketJournal


def configured_pins(settings: Settings) -> PinHasher:
    """The PIN hasher at the configured argon2id cost (warned when under OWASP's minimum)."""
    memory, passes = settings.pin_hash_memory_kib, settings.pin_hash_time_cost
    if below_minimum(memory, passes):
        log.warning("PIN hashes cost %d KiB x %d passes: under OWASP's minimum "
                    "(benchmarks only; hashes are upgraded when the cost goes up)",
                    memory, passes)  # fmt: skip
    return PinHasher(default_hasher(memory, passes))


def build_services(redis: Redis, settings: Settings, pins: PinHasher | None = None) -> Services:
    """Stores over one Redis client, configured from settings."""
    return Services(
        redis=redis,
        directory=Directory(redis),
        lockout=Lockout(
            redis,
            LockoutPolicy(
                max_failures=settings.pin_max_failures,
                window_seconds=settings.failure_window_seconds,
                lock_seconds=settings.lockout_seconds,
                max_lock_seconds=settings.lockout_max_seconds,
            ),
        ),
        tickets=TicketStore(redis, outbox=settings.helpdesk_url is not None),
        journal=TicketJournal(settings.data_dir, settings.worker_id),
        calls=CallStore(redis),
        pins=pins or configured_pins(settings),
        oncall=OnCallStore(redis),
        calendars=CalendarStore(redis, CalendarRules.from_settings(settings)),
    )


def flow_deps(
    services: Services, settings: Settings, clock: Callable[[], dt.datetime] = now_utc
) -> SupportLineDeps:
    """What the support-line flow needs, from the shared services."""
    fixed = settings.fixed_now
    if fixed is not None:
        log.warning("IVR_FIXED_NOW is set: every call runs at %s", fixed.isoformat())
        clock = lambda: fixed  # noqa: E731  (a constant clock for demos)
    return SupportLineDeps(
        directory=services.directory,
        lockout=services.lockout,
        tickets=services.tickets,
        calls=services.calls,
        pins=services.pins,
        calendars=services.calendars,
        queues=settings.queues,
        clock=clock,
        oncall_chain=services.oncall.chain,
        allow_call_time=settings.allow_call_time,
        journal=services.journal,
    )


# Connections to Redis per process. Calls beyond it wait (up to the pool timeout)
# for a free connection instead of failing: a burst of callers queues for
# milliseconds rather than being sent to the general queue.
REDIS_MAX_CONNECTIONS = 64
REDIS_POOL_TIMEOUT = 10.0


def redis_client(url: str) -> Redis:
    """A client with a bounded, blocking pool and timeouts on every network wait."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=REDIS_MAX_CONNECTIONS,
        timeout=REDIS_POOL_TIMEOUT,
        decode_responses=True,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=30,
    )
    client: Redis = Redis.from_pool(pool)  # the client owns and closes its pool
    return client


@contextlib.asynccontextmanager
async def open_redis(settings: Settings, *, hold: bool = False) -> AsyncIterator[Redis]:
    """The configured Redis, or the data directory's managed one."""
    if settings.redis_url:
        client = redis_client(settings.redis_url)
        try:
            yield client
        finally:
            await client.aclose()
        return
    async with managed_redis(settings.data_dir, hold=hold) as url:
        client = redis_client(url)
        try:
            yield client
        finally:
            await client.aclose()


def build_agi_server(
    services: Services, settings: Settings, clock: Callable[[], dt.datetime] = now_utc
) -> FastAgiServer:
    """The FastAGI server with every route."""
    return FastAgiServer(
        route_table(flow_deps(services, settings, clock)),
        sounds_prefix=settings.sounds_prefix,
        recording_dir=settings.recording_dir,
        allow=settings.agi_allow,
        limits=ServerLimits(
            header_timeout=settings.agi_header_timeout,
            command_timeout=settings.agi_command_timeout,
            max_connections=settings.agi_max_connections,
        ),
    )


async def serve(settings: Settings, *, demo: bool = False) -> None:
    """Run the service until SIGINT or SIGTERM."""
    from ivr.demo import load_demo  # noqa: PLC0415  (demo data only when asked)

    async with open_redis(settings, hold=True) as redis:
        await redis.ping()
        services = build_services(redis, settings)
        if demo:
            await load_demo(services)
            await _demo_admin(redis)
        probe = LagProbe() if settings.lag_probe_file else None
        probe_task = asyncio.create_task(probe.run()) if probe else None
        server = build_agi_server(services, settings)
        await server.start(settings.agi_host, settings.agi_port)
        pager = await start_pager(services, settings)
        sla_watch = start_sla_watch(services, settings, pager.originator if pager else None)
        consumer = await start_consumer(redis, settings)
        background = [asyncio.create_task(replay_forever(services.journal, services.tickets))]
        if settings.helpdesk_url:
            background.append(asyncio.create_task(helpdesk_deliverer(services, settings).run()))
        else:
            log.warning("IVR_HELPDESK_URL not set: tickets are not sent to the helpdesk")
        stop = _stop_on_signals()
        try:
            web_app = create_app(redis, settings, now_utc, call_tester=_tester(redis, settings))
            async with running_web(web_app, settings.web_host, settings.web_port):
                log.info("ivr serve ready (Ctrl-C to stop)")
                await stop.wait()
                log.info("stopping: %d calls in progress", server.active_calls)
        finally:
            await server.close(drain_seconds=30)
            await stop_task(sla_watch)
            if pager is not None:
                await pager.stop()
            if consumer is not None:
                await consumer.close()
            for task in background:
                await stop_task(task)
            if probe_task is not None and probe is not None and settings.lag_probe_file:
                await stop_task(probe_task)
                probe.write(Path(settings.lag_probe_file))  # read by bench/lag.py


async def serve_web(settings: Settings) -> None:
    """Run only the dashboard (``ivr web``): any number share the board through Redis."""
    async with open_redis(settings, hold=True) as redis:
        await redis.ping()
        stop = _stop_on_signals()
        web_app = create_app(redis, settings, now_utc, call_tester=_tester(redis, settings))
        async with running_web(web_app, settings.web_host, settings.web_port):
            log.info("ivr web ready (Ctrl-C to stop)")
            await stop.wait()


def _tester(redis: Redis, settings: Settings) -> CallTester:
    """The administrators' call tester (its own module imports this one's wiring)."""
    from ivr.call_tester import CallTester  # noqa: PLC0415  (import cycle through the web app)

    return CallTester(redis, settings)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _demo_admin(redis: Redis) -> None:
    """A demo needs someone to sign in: an ``admin`` with a random password, shown once."""
    accounts = Accounts(redis)
    if await accounts.list():
        return
    password = secrets.token_urlsafe(12)
    await accounts.add("admin", Role.ADMIN, password, now_utc())
    # Printed to the terminal that started the demo, never to the log.
    print(f"Dashboard demo account: admin / {password}", flush=True)  # noqa: T201


def ami_settings(settings: Settings) -> AmiSettings:
    """Where AMI is and how to log in (call only when ``settings.ami_host`` is set)."""
    return AmiSettings(
        host=settings.ami_host or "",
        port=settings.ami_port,
        username=settings.ami_username,
        secret=settings.ami_secret,
    )


async def start_consumer(redis: Redis, settings: Settings) -> AmiConsumer | None:
    """Follow queue events for the dashboard, when AMI is configured."""
    if not settings.ami_host:
        log.warning("IVR_AMI_HOST not set: the dashboard will show no live queues")
        return None
    consumer = AmiConsumer(
        ami_settings(settings),
        LiveStore(redis, settings.timezone, settings.service_level_seconds),
        now_utc,
    )
    await consumer.start()
    return consumer


def helpdesk_deliverer(services: Services, settings: Settings) -> Deliverer:
    """The webhook deliverer of this process (a consumer named for the worker and pid)."""
    assert settings.helpdesk_url is not None  # noqa: S101  (callers check it)
    return Deliverer(
        HelpdeskOutbox(services.redis, f"worker{settings.worker_id}-{os.getpid()}"),
        Webhook(
            settings.helpdesk_url,
            settings.helpdesk_secret,
            timeout_seconds=settings.helpdesk_timeout_seconds,
        ),
        RetryPolicy(
            max_attempts=settings.helpdesk_max_attempts,
            base_seconds=settings.helpdesk_retry_base_seconds,
            max_seconds=settings.helpdesk_retry_max_seconds,
        ),
        claim_idle_seconds=settings.helpdesk_claim_idle_seconds,
    )


@dataclass(slots=True)
class RunningPager:
    """The re-paging task and its AMI connection."""

    task: asyncio.Task[None]
    originator: AmiOriginator

    async def stop(self) -> None:
        """Cancel the task and close AMI."""
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.originator.close()


async def start_pager(services: Services, settings: Settings) -> RunningPager | None:
    """Re-page unaccepted on-call tickets through AMI, when AMI is configured."""
    if not settings.ami_host:
        log.warning("IVR_AMI_HOST not set: unaccepted on-call tickets will not be re-paged")
        return None
    originator = AmiOriginator(ami_settings(settings))
    await originator.start()
    pager = Pager(
        services.redis,
        services.tickets,
        originator,
        PagingPolicy(
            max_rounds=settings.oncall_max_rounds,
            round_gap=dt.timedelta(seconds=settings.oncall_round_gap_seconds),
        ),
        now_utc,
    )
    return RunningPager(asyncio.create_task(pager.run()), originator)


def start_sla_watch(
    services: Services, settings: Settings, originator: Originator | None
) -> asyncio.Task[None]:
    """The SLA watch in the background (it runs in one worker at a time; see sla_watch)."""
    if not settings.support_manager_dial:
        log.warning(
            "IVR_SUPPORT_MANAGER_DIAL not set: SLA alerts of emergencies that never went "
            "on-call page nobody"
        )
    watcher = SlaWatcher(
        services.redis,
        services.tickets,
        services.calendars,
        originator,
        SlaPolicy(shares=settings.sla_alert_shares, manager_dial=settings.support_manager_dial),
        now_utc,
        # Three rounds without a renewal and another worker takes the watch over.
        Lease(
            services.redis,
            SLA_LEADER,
            ttl_seconds=3 * settings.sla_check_seconds,
            owner=f"{socket.gethostname()}:{os.getpid()}",
        ),
    )
    return asyncio.create_task(watcher.run(settings.sla_check_seconds))
