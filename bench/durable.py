"""Ticket creation latency with the write on disk, beside the same write without the wait.

``TicketStore.create`` (the product's two round trips) against two private
``redis-server`` processes: ``appendfsync always`` (Redis answers only after the
append-only file is fsynced) and ``appendfsync no`` (the kernel writes it back
when it likes). Where the server has ``WAITAOF`` (Redis 7.2 and later) the
durable run uses it instead, on an ``everysec`` server, as production would.
"""

from __future__ import annotations

import datetime as dt
import time

from redis.asyncio import Redis

from bench.common import Figure, percentile, ratio, redis_server
from ivr.domain.records import NewTicket, Tier
from ivr.store.tickets import TicketStore

WRITES = 400


def new_ticket(index: int) -> NewTicket:
    """A ticket as the support line opens it."""
    now = dt.datetime(2026, 11, 25, 16, 0, tzinfo=dt.UTC)
    return NewTicket(
        created=now,
        reseller_account="1001",
        host_id="123456",
        end_customer="Alamo Dental Group",
        system_type="UCX450",
        software_release="R6.3",
        tier=Tier.PREMIUM,
        emergency=True,
        title="Emergency - System Down",
        sla_due=now + dt.timedelta(hours=4),
        call_id=f"1795570000.{index}",
        scenario=f"/var/spool/asterisk/ivr/1795570000.{index}",
    )


async def _has_waitaof(client: Redis) -> bool:
    version = str((await client.info("server"))["redis_version"])
    major, minor = (int(part) for part in version.split(".")[:2])
    return (major, minor) >= (7, 2)


async def create_latencies(url: str, *, waitaof: bool) -> list[float]:
    """ms per ``create`` (plus ``WAITAOF 1 0`` when asked), one after another."""
    client = Redis.from_url(url, decode_responses=True)
    try:
        store = TicketStore(client)
        await store.create(new_ticket(0))  # connection set up outside the timing
        samples = []
        for index in range(1, WRITES + 1):
            started = time.perf_counter()
            await store.create(new_ticket(index))
            if waitaof:
                await client.execute_command("WAITAOF", 1, 0, 0)  # type: ignore[no-untyped-call]
            samples.append((time.perf_counter() - started) * 1000)
        return samples
    finally:
        await client.aclose()


async def measure() -> list[Figure]:
    """p50 and p99 of durable and of plain ticket creation."""
    with redis_server("--appendonly", "yes", "--appendfsync", "everysec") as url:
        probe = Redis.from_url(url)
        try:
            waitaof = await _has_waitaof(probe)
        finally:
            await probe.aclose()
    if waitaof:
        with redis_server("--appendonly", "yes", "--appendfsync", "everysec") as url:
            durable = await create_latencies(url, waitaof=True)
        how = "WAITAOF"
    else:
        with redis_server("--appendonly", "yes", "--appendfsync", "always") as url:
            durable = await create_latencies(url, waitaof=False)
        how = "appendfsync always"
    with redis_server("--appendonly", "yes", "--appendfsync", "no") as url:
        plain = await create_latencies(url, waitaof=False)
    figures = []
    for share in (0.5, 0.99):
        value, peer = percentile(durable, share), percentile(plain, share)
        figures.append(
            Figure(
                f"ticket creation p{share * 100:g}, durable ({how}) (ms; peer: appendfsync no)",
                round(value, 3),
                round(peer, 3),
                round(ratio(value, peer), 2),
                "(reported; p99 in README)",
                True,
            )
        )
    return figures
