"""The board's tiles: today's figures at a glance, from the IVR's own data first.

Calls today, open emergencies, tickets at risk and SLA met today come from what
the calls left in Redis (call records, tickets, the SLA clock), so they work
without Asterisk; waiting now, service level and the longest wait need the
queue board that the AMI consumer keeps, and say so when there is none.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from ivr.domain.reports import local_bounds, sla_compliance
from ivr.store import keys
from ivr.store.report_data import ReportData
from ivr.store.sla import SlaStanding, sla_standings
from ivr.web.api import board_json
from ivr.web.context import CALENDARS, CLOCK, REDIS, TICKETS, TIMEZONE
from ivr.web.security import Access, access

AT_RISK_SHARE = 0.8  # the second SLA alert mark: past it a ticket is at risk


def queue_figures(board: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Waiting now, longest wait (now and today) and service level over every queue."""
    callers = [c for q in board["queues"] for c in q["callers"]]
    waits = [(now - dt.datetime.fromisoformat(c["joined_at"])).total_seconds() for c in callers]
    answered = sum(q["today"]["answered"] for q in board["queues"])
    within = sum(
        q["today"]["service_level"] * q["today"]["answered"]
        for q in board["queues"]
        if q["today"]["service_level"] is not None
    )
    return {
        "waiting": len(callers),
        "emergencies_waiting": sum(1 for c in callers if c["emergency"]),
        "longest_waiting_now": round(max(waits), 1) if waits else None,
        "longest_wait_today": max(
            (q["today"]["longest_wait"] for q in board["queues"]), default=None
        ),
        "answered": answered,
        "service_level": round(within / answered, 3) if answered else None,
    }


def ticket_figures(standings: list[SlaStanding]) -> dict[str, Any]:
    """Open (not yet acknowledged) emergencies and tickets past 80 % of their SLA."""
    return {
        "emergencies_open": sum(1 for s in standings if s.emergency),
        "at_risk": sum(1 for s in standings if s.elapsed_share >= AT_RISK_SHARE),
        "overdue": sum(1 for s in standings if s.seconds_left < 0),
        "open": len(standings),
    }


@access(Access.SUPERVISOR)
async def summary(request: web.Request) -> web.StreamResponse:
    """Today's figures for the board's tiles (local day of the support centre)."""
    app = request.app
    now = app[CLOCK]()
    redis = app[REDIS]
    start, end = local_bounds(now.astimezone(app[TIMEZONE]).date(),
                              now.astimezone(app[TIMEZONE]).date(), app[TIMEZONE])  # fmt: skip
    calls = int(await redis.zcount(keys.CALLS, start.timestamp(), f"({end.timestamp()}"))
    today = await ReportData(redis).tickets_between(start, end)
    sla = sla_compliance(today, now)
    board = await board_json(app)
    standings = await sla_standings(redis, app[TICKETS], app[CALENDARS], now)
    return web.json_response({
        "server_time": now.isoformat(),
        "calls_today": calls,
        "tickets_today": len(today),
        "sla_today": {"in_time": sla.in_time, "breached": sla.breached, "pending": sla.pending,
                      "compliance": sla.compliance},
        "queues": queue_figures(board, now),
        "tickets": ticket_figures(standings),
        "ami": board["ami"],
    })  # fmt: skip
