"""The processes' lifetimes: ``ivr serve`` (the FastAGI service with its background
workers and the dashboard) and ``ivr web`` (the dashboard alone).

Everything is built by ``ivr.services``; this module only starts the parts in
order and stops them in reverse, whatever fails on the way.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import secrets
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis

from ivr.ami.originate import AmiOriginator, Originator
from ivr.config import Settings
from ivr.demo import load_demo, load_demo_helpdesk
from ivr.domain.helpdesk import RetryPolicy
from ivr.runtime.clock import Clock
from ivr.runtime.lag_probe import LagProbe
from ivr.runtime.tasks import stop_task
from ivr.services import (
    ami_settings,
    build_agi_server,
    build_stores,
    call_tester_line,
    open_redis,
    service_clock,
)
from ivr.store.accounts import Accounts, UserRole
from ivr.store.helpdesk_sync import HelpdeskSync
from ivr.store.keys import SLA_LEADER
from ivr.store.leader import Lease
from ivr.store.live import LiveStore
from ivr.store.outbox import HelpdeskOutbox
from ivr.store.stores import Stores
from ivr.tester.engine import CallTester
from ivr.web.app import create_app, running_web
from ivr.workers.helpdesk_delivery import Deliverer, Webhook
from ivr.workers.journal_replay import replay_forever
from ivr.workers.queue_board import AmiConsumer
from ivr.workers.repager import Pager, PagingPolicy
from ivr.workers.sla_watch import SlaPolicy, SlaWatcher

log = logging.getLogger("ivr")


async def serve(settings: Settings, *, demo: bool = False) -> None:
    """Run the service until SIGINT or SIGTERM.

    Each part is pushed on one exit stack as soon as it runs, so whatever fails
    while starting (AMI, the web port, ...) stops everything started before it,
    in reverse order; on SIGINT/SIGTERM the same stack stops them all.
    """
    clock = service_clock(settings)
    async with open_redis(settings, hold=True) as redis, contextlib.AsyncExitStack() as running:
        await redis.ping()
        stores = build_stores(redis, settings)
        if demo:
            await load_demo(stores.directory, stores.pins)
            await load_demo_helpdesk(HelpdeskSync(redis, stores.calendars), clock())
            await _demo_admin(redis, clock)
        if settings.lag_probe_file:
            probe = LagProbe()
            probe_task = asyncio.create_task(probe.run())
            running.push_async_callback(_stop_probe, probe, probe_task, settings.lag_probe_file)
        server = build_agi_server(stores, settings, clock)
        running.push_async_callback(server.close, 30)  # drain_seconds: calls may finish
        await server.start(settings.agi_host, settings.agi_port)
        pager = await start_pager(stores, settings, clock)
        if pager is not None:
            running.push_async_callback(pager.stop)
        sla_watch = start_sla_watch(stores, settings, pager.originator if pager else None, clock)
        running.push_async_callback(stop_task, sla_watch)
        consumer = await start_consumer(redis, settings, clock)
        if consumer is not None:
            running.push_async_callback(consumer.close)
        if stores.journal is not None:
            replay = asyncio.create_task(replay_forever(stores.journal, stores.tickets))
            running.push_async_callback(stop_task, replay)
        if settings.helpdesk_url:
            delivery = asyncio.create_task(helpdesk_deliverer(stores, settings).run())
            running.push_async_callback(stop_task, delivery)
        else:
            log.warning("IVR_HELPDESK_URL not set: tickets are not sent to the helpdesk")
        stop = running.enter_context(_stop_on_signals())
        web_app = create_app(redis, settings, clock, call_tester=_tester(redis, settings))
        await running.enter_async_context(
            running_web(web_app, settings.web_host, settings.web_port)
        )
        log.info("ivr serve ready (Ctrl-C to stop)")
        await stop.wait()
        log.info("stopping: %d calls in progress", server.active_calls)


async def _stop_probe(probe: LagProbe, task: asyncio.Task[None], path: str) -> None:
    """Stop the event-loop lag probe and write its samples (read by bench/lag.py)."""
    await stop_task(task)
    probe.write(Path(path))


async def serve_web(settings: Settings) -> None:
    """Run only the dashboard (``ivr web``): any number share the board through Redis."""
    clock = service_clock(settings)
    async with open_redis(settings, hold=True) as redis:
        await redis.ping()
        with _stop_on_signals() as stop:
            web_app = create_app(redis, settings, clock, call_tester=_tester(redis, settings))
            async with running_web(web_app, settings.web_host, settings.web_port):
                log.info("ivr web ready (Ctrl-C to stop)")
                await stop.wait()


def _tester(redis: Redis, settings: Settings) -> CallTester:
    """The administrators' call tester, on the scratch database of the same Redis."""
    return CallTester(redis, settings, call_tester_line(settings))


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[asyncio.Event]:
    """An event set by SIGINT or SIGTERM while the block runs (the handlers go after it)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        yield stop
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


async def _demo_admin(redis: Redis, clock: Clock) -> None:
    """A demo needs someone to sign in: an ``admin`` with a random password, shown once."""
    accounts = Accounts(redis)
    if await accounts.list():
        return
    password = secrets.token_urlsafe(12)
    await accounts.add("admin", UserRole.ADMIN, password, clock())
    # Printed to the terminal that started the demo, never to the log.
    print(f"Dashboard demo account: admin / {password}", flush=True)  # noqa: T201


async def start_consumer(redis: Redis, settings: Settings, clock: Clock) -> AmiConsumer | None:
    """Follow queue events for the dashboard, when AMI is configured."""
    if not settings.ami_host:
        log.warning("IVR_AMI_HOST not set: the dashboard will show no live queues")
        return None
    consumer = AmiConsumer(
        ami_settings(settings),
        LiveStore(redis, settings.timezone, settings.service_level_seconds),
        clock,
    )
    await consumer.start()
    return consumer


def helpdesk_deliverer(stores: Stores, settings: Settings) -> Deliverer:
    """The webhook deliverer of this process (a consumer named for the worker and pid)."""
    assert settings.helpdesk_url is not None  # noqa: S101  (callers check it)
    return Deliverer(
        HelpdeskOutbox(stores.redis, f"worker{settings.worker_id}-{os.getpid()}"),
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


async def start_pager(stores: Stores, settings: Settings, clock: Clock) -> RunningPager | None:
    """Re-page unaccepted on-call tickets through AMI, when AMI is configured."""
    if not settings.ami_host:
        log.warning("IVR_AMI_HOST not set: unaccepted on-call tickets will not be re-paged")
        return None
    originator = AmiOriginator(ami_settings(settings))
    try:
        await originator.start()
    except BaseException:  # cancelled while waiting for the login: stop the link, re-raise
        await originator.close()
        raise
    pager = Pager(
        stores.redis,
        stores.tickets,
        originator,
        PagingPolicy(
            max_rounds=settings.oncall_max_rounds,
            round_gap=dt.timedelta(seconds=settings.oncall_round_gap_seconds),
        ),
        clock,
    )
    return RunningPager(asyncio.create_task(pager.run()), originator)


def start_sla_watch(
    stores: Stores, settings: Settings, originator: Originator | None, clock: Clock
) -> asyncio.Task[None]:
    """The SLA watch in the background (it runs in one worker at a time; see sla_watch)."""
    if not settings.support_manager_dial:
        log.warning(
            "IVR_SUPPORT_MANAGER_DIAL not set: SLA alerts of emergencies that never went "
            "on-call page nobody"
        )
    watcher = SlaWatcher(
        stores.redis,
        stores.tickets,
        stores.calendars,
        originator,
        SlaPolicy(shares=settings.sla_alert_shares, manager_dial=settings.support_manager_dial),
        clock,
        # Three rounds without a renewal and another worker takes the watch over.
        Lease(
            stores.redis,
            SLA_LEADER,
            ttl_seconds=3 * settings.sla_check_seconds,
            owner=f"{socket.gethostname()}:{os.getpid()}",
        ),
    )
    return asyncio.create_task(watcher.run(settings.sla_check_seconds))
