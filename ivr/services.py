"""Building the collaborators: Redis clients, the stores, the PIN hasher, the route
table's context and the FastAGI server, all from the settings.

Imported by the entry points that start the parts (``ivr.app``, ``ivr.commands``,
``ivr.agi_script``), never by the parts it builds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from ivr.agi.server import FastAgiServer, ServerLimits
from ivr.config import Settings
from ivr.flows.routes import LineContext, route_table
from ivr.runtime.clock import Clock, clock_from, now_utc
from ivr.runtime.redis_server import managed_redis
from ivr.store.calendar import CalendarRules, CalendarStore
from ivr.store.calls import CallStore
from ivr.store.directory import Directory
from ivr.store.journal import TicketJournal
from ivr.store.lockout import Lockout, LockoutPolicy
from ivr.store.oncall import OnCallStore
from ivr.store.pins import PinHasher, below_minimum, default_hasher
from ivr.store.stores import Stores
from ivr.store.tickets import TicketStore
from ivr.tester.engine import LineFactory

if TYPE_CHECKING:
    from ivr.ami.client import AmiSettings

log = logging.getLogger("ivr")

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
        # A pooled connection the server closed (a Redis restart, a proxy's idle cut)
        # can still be handed out in the instant before its close is seen: the command
        # is sent once more on a fresh connection instead of failing the caller's call.
        # A ticket's commit sent twice is written once (ivr/store/ticket_opening.py).
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError],
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


def configured_pins(settings: Settings) -> PinHasher:
    """The PIN hasher at the configured argon2id cost (warned when under OWASP's minimum)."""
    memory, passes = settings.pin_hash_memory_kib, settings.pin_hash_time_cost
    if below_minimum(memory, passes):
        log.warning("PIN hashes cost %d KiB x %d passes: under OWASP's minimum "
                    "(benchmarks only; hashes are upgraded when the cost goes up)",
                    memory, passes)  # fmt: skip
    return PinHasher(
        default_hasher(memory, passes), queue_max_seconds=settings.pin_queue_max_seconds
    )


def build_stores(
    redis: Redis, settings: Settings, pins: PinHasher | None = None, *, journal: bool = True
) -> Stores:
    """Every store over one Redis client, configured from settings (``journal=False``:
    no local fallback when Redis fails, as the call tester wants)."""
    return Stores(
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
        journal=TicketJournal(settings.data_dir, settings.worker_id) if journal else None,
        calls=CallStore(redis),
        pins=pins or configured_pins(settings),
        oncall=OnCallStore(redis),
        calendars=CalendarStore(redis, CalendarRules.from_settings(settings)),
    )


def service_clock(settings: Settings) -> Clock:
    """The one clock of a process: the real one, or a demo's (``IVR_CLOCK_START``)."""
    if settings.clock_start is None:
        return now_utc
    log.warning("IVR_CLOCK_START is set: the service's clock started at %s (demos and tests)",
                settings.clock_start.isoformat())  # fmt: skip
    return clock_from(settings.clock_start)


def line_context(stores: Stores, settings: Settings, clock: Clock = now_utc) -> LineContext:
    """What the routes need, from the stores and settings."""
    return LineContext(
        stores=stores,
        queues=settings.queues,
        clock=clock,
        allow_call_time=settings.allow_call_time,
        repage_delay=dt.timedelta(seconds=settings.oncall_round_gap_seconds),
    )


def build_agi_server(stores: Stores, settings: Settings, clock: Clock = now_utc) -> FastAgiServer:
    """The FastAGI server with every route."""
    return FastAgiServer(
        route_table(line_context(stores, settings, clock)),
        sounds_prefix=settings.sounds_prefix,
        recording_dir=settings.recording_dir,
        allow=settings.agi_allow,
        limits=ServerLimits(
            header_timeout=settings.agi_header_timeout,
            command_timeout=settings.agi_command_timeout,
            max_connections=settings.agi_max_connections,
        ),
    )


def ami_settings(settings: Settings) -> AmiSettings:
    """Where AMI is and how to log in (call only when ``settings.ami_host`` is set)."""
    # Imported here: the quick commands build their stores from this module and
    # must not load the AMI client.
    from ivr.ami.client import AmiSettings  # noqa: PLC0415

    return AmiSettings(
        host=settings.ami_host or "",
        port=settings.ami_port,
        username=settings.ami_username,
        secret=settings.ami_secret,
    )


def call_tester_line(settings: Settings, pins: PinHasher | None = None) -> LineFactory:
    """How the call tester builds its support line: the real route table over the
    scratch database, on loopback, at the test call's own time (never a demo clock).

    Its tickets publish no live notice (pub/sub ignores the database number: every
    dashboard of the server would hear it) and queue no helpdesk event; a ticket Redis
    fails to take goes to the test call's own journal, never the service's."""
    line_settings = settings.with_overrides(
        clock_start=None, allow_call_time=False, agi_host="127.0.0.1", agi_allow=()
    )
    hasher = pins or configured_pins(line_settings)

    def make(redis: Redis, clock: Clock, journal: TicketJournal) -> FastAgiServer:
        stores = dataclasses.replace(
            build_stores(redis, line_settings, hasher, journal=False),
            tickets=TicketStore(redis, outbox=False, live_channel=None),
            journal=journal,
        )
        return build_agi_server(stores, line_settings, clock)

    return make
