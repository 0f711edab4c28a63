"""Tickets in Redis, numbered from one atomic counter shared by every worker."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, fields
from typing import cast

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from ivr.domain.records import OnCallState, Ticket, TicketStatus, Tier
from ivr.store import keys

# Accept once: the first engineer to press 1 owns the ticket, whatever the race.
_ACCEPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HGET', KEYS[1], 'acknowledged_by') then
  local who = redis.call('HGET', KEYS[1], 'acknowledged_by')
  if who ~= '' then return 0 end
end
redis.call('HSET', KEYS[1], 'acknowledged_by', ARGV[1], 'acknowledged_at', ARGV[2],
           'status', 'acknowledged', 'oncall_state', 'accepted')
redis.call('ZREM', KEYS[2], ARGV[3])
return 1
"""

# Ticket numbers start above this so every number has five digits or more and
# is easy to read back on the phone.
FIRST_NUMBER = 10001


@dataclass(frozen=True, slots=True)
class NewTicket:
    """Everything a ticket needs except the number the store allocates."""

    created: dt.datetime
    reseller_account: str
    host_id: str
    end_customer: str
    system_type: str
    software_release: str
    tier: Tier
    emergency: bool
    title: str
    sla_due: dt.datetime
    call_id: str
    scenario: str = ""

    def numbered(self, number: str) -> Ticket:
        """The open ticket with its allocated number."""
        return Ticket(
            number=number,
            created=self.created,
            reseller_account=self.reseller_account,
            host_id=self.host_id,
            end_customer=self.end_customer,
            system_type=self.system_type,
            software_release=self.software_release,
            tier=self.tier,
            emergency=self.emergency,
            title=self.title,
            sla_due=self.sla_due,
            call_id=self.call_id,
            scenario=self.scenario,
        )


def _encode(ticket: Ticket) -> dict[FieldT, EncodableT]:
    out: dict[FieldT, EncodableT] = {}
    for f in fields(ticket):
        value = getattr(ticket, f.name)
        if isinstance(value, dt.datetime):
            out[f.name] = value.isoformat()
        elif isinstance(value, bool):
            out[f.name] = "1" if value else "0"
        elif value is None:
            out[f.name] = ""
        else:
            out[f.name] = str(value)
    return out


def ticket_from(data: dict[str, str]) -> Ticket:
    """A ``Ticket`` from its Redis hash."""
    acknowledged = data.get("acknowledged_at", "")
    return Ticket(
        number=data["number"],
        created=dt.datetime.fromisoformat(data["created"]),
        reseller_account=data["reseller_account"],
        host_id=data["host_id"],
        end_customer=data["end_customer"],
        system_type=data["system_type"],
        software_release=data["software_release"],
        tier=Tier(data["tier"]),
        emergency=data["emergency"] == "1",
        title=data["title"],
        sla_due=dt.datetime.fromisoformat(data["sla_due"]),
        call_id=data["call_id"],
        scenario=data.get("scenario", ""),
        status=TicketStatus(data.get("status", TicketStatus.OPEN.value)),
        acknowledged_by=data.get("acknowledged_by", ""),
        acknowledged_at=dt.datetime.fromisoformat(acknowledged) if acknowledged else None,
        oncall_state=data.get("oncall_state", ""),
    )


class TicketStore:
    """Creates and reads tickets."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._accept = redis.register_script(_ACCEPT)

    async def create(
        self,
        new: NewTicket,
        callback_at: dt.datetime | None = None,
        oncall_chain: str | None = None,
    ) -> Ticket:
        """Allocate a number (INCR) and store the ticket (one transaction): two round trips.

        A callback time schedules the call back; an on-call chain (JSON) is kept
        with the ticket so the accept route knows who each step was.
        """
        seq = int(await self._redis.incr(keys.TICKET_SEQUENCE))
        ticket = new.numbered(str(FIRST_NUMBER - 1 + seq))
        fields = _encode(ticket)
        if oncall_chain is not None:
            ticket = dataclasses.replace(ticket, oncall_state=OnCallState.PAGING.value)
            fields |= {"oncall_chain": oncall_chain, "oncall_state": ticket.oncall_state}
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.ticket(ticket.number), mapping=fields)
            pipe.zadd(keys.TICKETS, {ticket.number: new.created.timestamp()})
            # Into the SLA watch, due for its first look at once: the watch works out
            # the ticket's marks on its tier's clock (ivr/sla_watch.py).
            pipe.zadd(keys.SLA_WATCH, {ticket.number: new.created.timestamp()})
            if callback_at is not None:
                pipe.zadd(keys.CALLBACKS, {ticket.number: callback_at.timestamp()})
            await pipe.execute()
        return ticket

    async def get(self, number: str) -> Ticket | None:
        """One ticket, or None."""
        data = cast(dict[str, str], await self._redis.hgetall(keys.ticket(number)))
        return ticket_from(data) if data else None

    async def recent(self, limit: int = 100) -> list[Ticket]:
        """The newest tickets first."""
        numbers = cast(list[str], await self._redis.zrevrange(keys.TICKETS, 0, limit - 1))
        async with self._redis.pipeline(transaction=False) as pipe:
            for number in numbers:
                pipe.hgetall(keys.ticket(number))
            rows = cast(list[dict[str, str]], await pipe.execute())
        return [ticket_from(row) for row in rows if row]

    async def oncall_chain(self, number: str) -> str:
        """The JSON chain stored with the ticket ("" when it never went on-call)."""
        return cast(str, await self._redis.hget(keys.ticket(number), "oncall_chain") or "")

    async def accept(self, number: str, engineer: str, at: dt.datetime) -> bool:
        """Record the first engineer to accept; False if someone already had (or no ticket)."""
        result = await self._accept(
            keys=[keys.ticket(number), keys.REPAGE], args=[engineer, at.isoformat(), number]
        )
        return int(result) == 1

    async def mark_unaccepted(self, number: str, repage_at: dt.datetime) -> None:
        """Nobody accepted: mark it and schedule the re-paging (one transaction)."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.ticket(number), "oncall_state", OnCallState.UNACCEPTED.value)
            pipe.zadd(keys.REPAGE, {number: repage_at.timestamp()})
            await pipe.execute()

    async def log_page(self, number: str, entry: dict[str, str]) -> None:
        """Append one paging attempt (who, when, how it ended) to the ticket's log."""
        await self._redis.rpush(keys.ticket_pages(number), json.dumps(entry, sort_keys=True))

    async def pages(self, number: str) -> list[dict[str, str]]:
        """Every paging attempt of a ticket, oldest first."""
        raw = cast(list[str], await self._redis.lrange(keys.ticket_pages(number), 0, -1))
        return [json.loads(item) for item in raw]
