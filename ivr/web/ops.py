"""Health check and Prometheus metrics: open to the monitoring system, no caller data."""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)
from redis.exceptions import RedisError

from ivr.store import pin_load
from ivr.web.context import AMI_CONFIGURED, CLOCK, LIVE, REDIS, RELAY
from ivr.web.security import Access, access

log = logging.getLogger("ivr.web")


@access(Access.PUBLIC)
async def healthz(request: web.Request) -> web.StreamResponse:
    """200 while Redis answers (AMI state reported, not required); 503 otherwise."""
    try:
        await request.app[REDIS].ping()
        ami = (await request.app[LIVE].ami_status())["state"]
    except (RedisError, OSError) as exc:
        log.error("web: health check: Redis unreachable: %s", exc)
        return web.json_response({"status": "down", "redis": "unreachable"}, status=503)
    if not request.app[AMI_CONFIGURED] and ami == "none":
        ami = "not configured"
    return web.json_response({"status": "ok", "redis": "ok", "ami": ami})


@access(Access.PUBLIC)
async def metrics(request: web.Request) -> web.StreamResponse:
    """Queue depth, waits, agents, today's counts and the AMI link, for Prometheus.

    Read from the shared board at scrape time, so every web process reports the
    same figures; nothing here identifies a caller.
    """
    registry = CollectorRegistry()
    try:
        board = await request.app[LIVE].board(request.app[CLOCK]())
        pin_counts = await pin_load.counts(request.app[REDIS])
    except (RedisError, OSError):
        raise web.HTTPServiceUnavailable(text="Redis unreachable") from None
    labels = ["queue"]
    waiting = Gauge("ivr_queue_callers", "Callers waiting", labels, registry=registry)
    emergencies = Gauge("ivr_queue_emergency_callers", "Emergency callers waiting", labels,
                        registry=registry)  # fmt: skip
    available = Gauge("ivr_queue_agents_available", "Agents available", labels, registry=registry)
    offered = Gauge("ivr_queue_offered_today", "Calls offered today", labels, registry=registry)
    answered = Gauge("ivr_queue_answered_today", "Calls answered today", labels, registry=registry)
    abandoned = Gauge("ivr_queue_abandoned_today", "Calls abandoned today", labels,
                      registry=registry)  # fmt: skip
    longest = Gauge("ivr_queue_longest_wait_seconds", "Longest wait today", labels,
                    registry=registry)  # fmt: skip
    for queue in board["queues"]:
        name = queue["name"]
        waiting.labels(name).set(len(queue["callers"]))
        emergencies.labels(name).set(sum(1 for c in queue["callers"] if c["emergency"]))
        available.labels(name).set(sum(1 for a in queue["agents"] if a["state"] == "available"))
        today = queue["today"]
        offered.labels(name).set(today["offered"])
        answered.labels(name).set(today["answered"])
        abandoned.labels(name).set(today["abandoned"])
        longest.labels(name).set(today["longest_wait"])
    Gauge("ivr_ami_up", "1 while the AMI link is up", registry=registry).set(
        1 if board["ami"]["state"] == "up" else 0
    )
    # PIN checks that met a busy box (every worker's, since the data was made).
    one_moment = Counter("ivr_pin_one_moment", "Callers told one moment while their PIN was "
                         "checked", registry=registry)  # fmt: skip
    one_moment.inc(pin_counts[pin_load.PinLoad.ONE_MOMENT])
    shed = Counter("ivr_pin_shed", "Callers sent to the general queue: their PIN check would "
                   "wait past twice IVR_PIN_QUEUE_MAX_SECONDS", registry=registry)  # fmt: skip
    shed.inc(pin_counts[pin_load.PinLoad.SHED])
    relay = request.app[RELAY]
    Gauge("ivr_web_live_clients", "Browsers following live updates", registry=registry).set(
        len(relay.listeners)
    )
    Gauge("ivr_web_live_dropped", "Browsers dropped for lagging", registry=registry).set(
        relay.dropped
    )
    return web.Response(body=generate_latest(registry),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})  # fmt: skip
