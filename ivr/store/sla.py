"""SLA watch state in Redis: the index of watched tickets and each ticket's alerts.

Every mark of a ticket (``50%``, ``80%``, ``breach``) is claimed with ``HSETNX``
in the same script that checks the ticket is still open, so a mark is raised, and
paged, once: across restarts, and even if two workers briefly both think they
run the watch.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis

from ivr.domain.records import TicketStatus
from ivr.domain.sla import elapsed_share
from ivr.store import keys
from ivr.store.calendar import CalendarStore
from ivr.store.tickets import TicketStore

# KEYS: ticket hash, ticket's SLA hash. ARGV: mark label, JSON record.
# 1 claimed, 0 the ticket is no longer open, 2 already raised, -1 no such ticket.
_CLAIM = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -1 end
if status ~= 'open' then return 0 end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 2 end
return 1
"""


class Claim:
    """Answers of the claim script."""

    CLAIMED = 1
    NOT_OPEN = 0
    ALREADY = 2
    MISSING = -1


@dataclass(frozen=True, slots=True)
class SlaAlert:
    """One raised mark of a ticket, as recorded on it."""

    ticket: str
    label: str  # "50%", "80%", "breach"
    share: float
    at: dt.datetime  # when the watch raised it
    mark_at: dt.datetime  # when the share was reached on the tier's clock
    due: dt.datetime
    late_seconds: float  # breach: how late the ticket already was when it was seen
    passed_over: bool  # reached while the watch was down, after a later mark: not alerted
    paged: str  # who was paged and how it went ("" when nobody was)

    def as_json(self) -> dict[str, object]:
        """JSON-ready (times ISO 8601)."""
        return {
            "ticket": self.ticket,
            "label": self.label,
            "share": self.share,
            "at": self.at.isoformat(),
            "mark_at": self.mark_at.isoformat(),
            "due": self.due.isoformat(),
            "late_seconds": self.late_seconds,
            "passed_over": self.passed_over,
            "paged": self.paged,
        }


def alert_from(data: dict[str, object]) -> SlaAlert:
    """An ``SlaAlert`` from its stored JSON."""
    return SlaAlert(
        ticket=str(data["ticket"]),
        label=str(data["label"]),
        share=float(cast(float, data["share"])),
        at=dt.datetime.fromisoformat(str(data["at"])),
        mark_at=dt.datetime.fromisoformat(str(data["mark_at"])),
        due=dt.datetime.fromisoformat(str(data["due"])),
        late_seconds=float(cast(float, data["late_seconds"])),
        passed_over=bool(data["passed_over"]),
        paged=str(data["paged"]),
    )


class SlaStore:
    """The watch index and the alerts of every ticket."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._claim = redis.register_script(_CLAIM)

    async def due(self, now: dt.datetime, limit: int) -> list[str]:
        """Watched tickets whose next mark is reached at ``now``, oldest first."""
        return cast(
            list[str],
            await self._redis.zrangebyscore(
                keys.SLA_WATCH, "-inf", now.timestamp(), start=0, num=limit
            ),
        )

    async def watched(self) -> list[str]:
        """Every ticket still watched."""
        return cast(list[str], await self._redis.zrange(keys.SLA_WATCH, 0, -1))

    async def reschedule(self, number: str, next_at: dt.datetime | None) -> None:
        """Look at the ticket again at ``next_at``; None: stop watching it."""
        if next_at is None:
            await self._redis.zrem(keys.SLA_WATCH, number)
        else:
            await self._redis.zadd(keys.SLA_WATCH, {number: next_at.timestamp()}, xx=True)

    async def claim(self, alert: SlaAlert) -> int:
        """Record the mark if the ticket is open and the mark new (see ``Claim``)."""
        record = json.dumps(alert.as_json(), sort_keys=True)
        result = await self._claim(
            keys=[keys.ticket(alert.ticket), keys.ticket_sla(alert.ticket)],
            args=[alert.label, record],
        )
        return int(result)

    async def note_paged(self, alert: SlaAlert, paged: str) -> None:
        """Add who was paged (and how it went) to a claimed mark's record."""
        record = json.dumps(alert.as_json() | {"paged": paged}, sort_keys=True)
        await self._redis.hset(keys.ticket_sla(alert.ticket), alert.label, record)

    async def raised(self, number: str) -> frozenset[str]:
        """Labels of the marks already raised for a ticket."""
        return frozenset(cast(list[str], await self._redis.hkeys(keys.ticket_sla(number))))

    async def alerts(self, number: str) -> list[SlaAlert]:
        """Every alert of a ticket, in the order its marks come."""
        raw = cast(dict[str, str], await self._redis.hgetall(keys.ticket_sla(number)))
        found = [alert_from(json.loads(item)) for item in raw.values()]
        return sorted(found, key=lambda a: a.share)


@dataclass(frozen=True, slots=True)
class SlaStanding:
    """Where one watched ticket stands on its SLA clock (for the live page)."""

    ticket: str
    tier: str
    emergency: bool
    reseller: str
    host_id: str
    end_customer: str
    created: dt.datetime
    due: dt.datetime
    elapsed_share: float  # on the tier's clock; 1 or more: due time passed
    seconds_left: float  # real time to the due time; negative when late
    alerts: tuple[str, ...]  # labels raised so far


async def sla_standings(
    redis: Redis, tickets: TicketStore, calendars: CalendarStore, now: dt.datetime
) -> list[SlaStanding]:
    """Every open, watched ticket with its SLA elapsed, most urgent first (the live page)."""
    store = SlaStore(redis)
    found: list[SlaStanding] = []
    for number in await store.watched():
        ticket = await tickets.get(number)
        if ticket is None or ticket.status is not TicketStatus.OPEN or ticket.sla_due is None:
            continue
        calendar = await calendars.calendar(ticket.sla_start)
        found.append(
            SlaStanding(
                ticket=ticket.number,
                tier=ticket.tier.value,
                emergency=ticket.emergency,
                reseller=ticket.reseller_account,
                host_id=ticket.host_id,
                end_customer=ticket.end_customer,
                created=ticket.created,
                due=ticket.sla_due,
                elapsed_share=elapsed_share(
                    calendar, ticket.tier, ticket.sla_start, ticket.sla_due, now
                ),
                seconds_left=(ticket.sla_due - now).total_seconds(),
                alerts=tuple(sorted(await store.raised(number))),
            )
        )
    return sorted(found, key=lambda s: (s.seconds_left, not s.emergency))
