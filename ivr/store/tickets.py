"""Tickets in Redis, numbered from one atomic counter shared by every worker.

Every change (creation, a repeat call, acknowledgement, resolution, on-call
states) is one MULTI/EXEC under WATCH: the ticket's hash, its audit entry, the
helpdesk outbox entry and the live notice are written together or not at all.
What a change may do is decided by the pure rules in ``ivr.domain.ticket_events``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar, cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError
from redis.typing import EncodableT, FieldT

from ivr.domain.codec import from_strings, to_strings
from ivr.domain.records import NewTicket, OnCallState, Ticket, TicketStatus
from ivr.domain.ticket_events import (
    EventKind,
    TicketChange,
    TicketEvent,
    Verdict,
    decide_accept,
    decide_acknowledge,
    decide_repeat_call,
    decide_resolve,
    helpdesk_payload,
    idempotency_key,
    joins_open_emergency,
)
from ivr.store import keys

T = TypeVar("T")

# How long a call's ticket is remembered for journal replays of the same call.
CALL_TICKET_SECONDS = 30 * 86400

# Ticket numbers start above this so every number has five digits or more and
# is easy to read back on the phone.
FIRST_NUMBER = 10001


def _encode(ticket: Ticket) -> dict[FieldT, EncodableT]:
    return {name: value for name, value in to_strings(ticket).items()}  # noqa: C416  (widens)


def ticket_from(data: dict[str, str]) -> Ticket:
    """A ``Ticket`` from its Redis hash (other fields of the hash are ignored)."""
    return from_strings(Ticket, data)


def _multi(pipe: Pipeline) -> None:
    """Start the transaction after the WATCHed reads."""
    pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves multi() unannotated


def _mapping(fields: dict[str, str]) -> dict[FieldT, EncodableT]:
    return {name: value for name, value in fields.items()}  # noqa: C416  (widens the type)


def _time_or_none(text: str) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """What a requested change did, and the ticket after it (None if there is none)."""

    verdict: Verdict
    ticket: Ticket | None


Decide = Callable[[Ticket, int], TicketChange | Verdict]
AlsoWrite = Callable[[Pipeline, Ticket], None]


class TicketStore:
    """Creates, changes and reads tickets; every change leaves an audit entry and an event.

    With ``outbox`` on (the helpdesk webhook is configured), each event is also
    queued on the helpdesk outbox stream in the same transaction.
    """

    def __init__(self, redis: Redis, *, outbox: bool = False) -> None:
        self._redis = redis
        self._outbox = outbox

    async def create(
        self,
        new: NewTicket,
        callback_at: dt.datetime | None = None,
        oncall_chain: str | None = None,
        *,
        number: str | None = None,
    ) -> Ticket:
        """Open a ticket, or add the call to the reseller's open emergency for that Host ID.

        The number comes from one shared counter (INCR) unless given (a journal
        replay): then a ticket that already exists is returned unchanged, so a
        replay done twice counts once. A repeat emergency call returns the
        existing ticket with its ``repeat_calls`` raised; two workers racing
        cannot open two (WATCH on the emergency index).
        """
        index = keys.open_emergency(new.reseller_account, new.host_id) if new.emergency else None
        allocated: list[str] = [number] if number is not None else []

        async def attempt(pipe: Pipeline) -> Ticket:
            if number is not None:
                await pipe.watch(keys.ticket(number))
                existing = await self._read(pipe, number)
                if existing is not None:
                    return existing
                aliased = cast(str, await pipe.get(keys.ticket_alias(number)) or "")
                named = await self._read(pipe, aliased) if aliased else None
                if named is not None:  # replayed before: already a second name
                    return named
                if new.call_id:
                    await pipe.watch(keys.call_ticket(new.call_id))
                    opened = cast(str, await pipe.get(keys.call_ticket(new.call_id)) or "")
                    if opened and opened != number:
                        await pipe.watch(keys.ticket(opened))
                        other = await self._read(pipe, opened)
                        if other is not None:
                            return await self._alias(pipe, other, number, new.created)
            current = ""
            if index is not None:
                await pipe.watch(index)
                current = cast(str, await pipe.get(index) or "")
            if current and number is None:
                await pipe.watch(keys.ticket(current))
                existing = await self._read(pipe, current)
                if existing is not None and joins_open_emergency(
                    existing, new.reseller_account, new.host_id
                ):
                    return await self._repeat(pipe, existing, new, oncall_chain)
            if not allocated:  # once: a retried transaction keeps its number
                seq = int(await self._redis.incr(keys.TICKET_SEQUENCE))
                allocated.append(str(FIRST_NUMBER - 1 + seq))
            ticket = new.numbered(allocated[0])
            fields = _encode(ticket)
            if oncall_chain is not None:
                ticket = dataclasses.replace(ticket, oncall_state=OnCallState.PAGING.value)
                fields |= {"oncall_chain": oncall_chain, "oncall_state": ticket.oncall_state}
            event = TicketEvent(EventKind.CREATED, 1, new.created, note=f"call {new.call_id}")
            _multi(pipe)
            pipe.hset(keys.ticket(ticket.number), mapping=fields | {"events": "1"})
            pipe.zadd(keys.TICKETS, {ticket.number: new.created.timestamp()})
            # Into the SLA watch, due for its first look at once: the watch works out
            # the ticket's marks on its tier's clock (ivr/workers/sla_watch.py). A
            # best-effort ticket (warranty) has no SLA clock, so nothing to watch.
            if new.sla_due is not None:
                pipe.zadd(keys.SLA_WATCH, {ticket.number: new.created.timestamp()})
            if callback_at is not None:
                pipe.zadd(keys.CALLBACKS, {ticket.number: callback_at.timestamp()})
            if index is not None and (number is None or not current):
                pipe.set(index, ticket.number)
            if new.call_id:
                pipe.set(keys.call_ticket(new.call_id), ticket.number, ex=CALL_TICKET_SECONDS)
            self._record(pipe, ticket, event)
            await pipe.execute()
            return ticket

        return await self._transaction(attempt)

    async def _transaction(self, attempt: Callable[[Pipeline], Awaitable[T]]) -> T:
        """Run ``attempt`` (WATCH, read, decide, MULTI/EXEC) until no watched key moved."""
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    return await attempt(pipe)
                except WatchError:
                    await pipe.reset()  # type: ignore[no-untyped-call]  # unannotated in redis-py

    async def _repeat(
        self, pipe: Pipeline, existing: Ticket, new: NewTicket, oncall_chain: str | None
    ) -> Ticket:
        """Add a repeat call to an open emergency (inside the caller's WATCH)."""
        seq = int(cast(str, await pipe.hget(keys.ticket(existing.number), "events") or "0")) + 1
        change = decide_repeat_call(existing, seq, new.scenario, new.call_id, new.created)
        fields = dict(change.fields)
        if oncall_chain is not None and not existing.acknowledged_by:
            fields |= {"oncall_chain": oncall_chain, "oncall_state": OnCallState.PAGING.value}
        ticket = dataclasses.replace(
            existing,
            scenario=fields["scenario"],
            repeat_calls=existing.repeat_calls + 1,
            oncall_state=fields.get("oncall_state", existing.oncall_state),
        )
        _multi(pipe)
        pipe.hset(keys.ticket(existing.number), mapping=_mapping(fields | {"events": str(seq)}))
        self._record(pipe, ticket, change.event)
        await pipe.execute()
        return ticket

    async def _alias(
        self, pipe: Pipeline, ticket: Ticket, journal_number: str, at: dt.datetime
    ) -> Ticket:
        """Redis had created the call's ticket but its reply was lost, so the caller heard
        a journal number: that number now names this ticket (no second ticket, and the
        helpdesk is told which number the caller holds)."""
        seq = int(cast(str, await pipe.hget(keys.ticket(ticket.number), "events") or "0")) + 1
        event = TicketEvent(EventKind.ALSO_KNOWN_AS, seq, at,
                            note=f"the caller was given number {journal_number}")  # fmt: skip
        _multi(pipe)
        pipe.hset(keys.ticket(ticket.number),
                  mapping={"events": str(seq), "also_known_as": journal_number})  # fmt: skip
        pipe.set(keys.ticket_alias(journal_number), ticket.number)
        self._record(pipe, ticket, event)
        await pipe.execute()
        return ticket

    async def _read(self, pipe: Pipeline, number: str) -> Ticket | None:
        data = cast(dict[str, str], await pipe.hgetall(keys.ticket(number)))
        return ticket_from(data) if data else None

    def _record(self, pipe: Pipeline, ticket: Ticket, event: TicketEvent) -> None:
        """Queue the audit entry, the outbox entry and the live notice of one event."""
        pipe.rpush(keys.ticket_audit(ticket.number), json.dumps(event.audit_entry()))
        if self._outbox:
            payload = json.dumps(helpdesk_payload(ticket, event), sort_keys=True)
            pipe.xadd(
                keys.HELPDESK_OUTBOX,
                {
                    "key": idempotency_key(ticket.number, event.seq),
                    "kind": event.kind.value,
                    "ticket": ticket.number,
                    "payload": payload,
                },
            )
        live = {
            "kind": "ticket",
            "event": event.kind.value,
            "number": ticket.number,
            "status": ticket.status.value,
            "emergency": ticket.emergency,
            "by": event.by,
        }
        pipe.publish(keys.LIVE, json.dumps(live))

    async def _change(
        self, number: str, decide: Decide, also: AlsoWrite | None = None
    ) -> ChangeResult:
        """Apply one decided change atomically (WATCH the hash, decide, MULTI/EXEC)."""
        key = keys.ticket(number)

        async def attempt(pipe: Pipeline) -> ChangeResult:
            await pipe.watch(key)
            data = cast(dict[str, str], await pipe.hgetall(key))
            if not data:
                return ChangeResult(Verdict.NOT_FOUND, None)
            ticket = ticket_from(data)
            seq = int(data.get("events") or "0") + 1
            decided = decide(ticket, seq)
            if isinstance(decided, Verdict):
                return ChangeResult(decided, ticket)
            changed = ticket_from(data | decided.fields)
            _multi(pipe)
            pipe.hset(key, mapping=_mapping(decided.fields | {"events": str(seq)}))
            self._record(pipe, changed, decided.event)
            if also is not None:
                also(pipe, changed)
            await pipe.execute()
            return ChangeResult(Verdict.CHANGED, changed)

        return await self._transaction(attempt)

    async def acknowledge(self, number: str, by: str, at: dt.datetime) -> ChangeResult:
        """Someone takes the ticket (web API, ``ivr tickets ack``): open -> acknowledged."""
        return await self._change(number, lambda t, seq: decide_acknowledge(t, seq, by, at))

    async def resolve(self, number: str, by: str, at: dt.datetime, note: str = "") -> ChangeResult:
        """The ticket is done (web API, ``ivr tickets resolve``): -> resolved, re-paging stops."""

        def stop_paging(pipe: Pipeline, ticket: Ticket) -> None:
            pipe.zrem(keys.REPAGE, ticket.number)

        return await self._change(
            number, lambda t, seq: decide_resolve(t, seq, by, at, note), stop_paging
        )

    async def accept(self, number: str, engineer: str, at: dt.datetime) -> bool:
        """Record the first engineer to accept; False if someone already had (or no ticket)."""

        def stop_paging(pipe: Pipeline, ticket: Ticket) -> None:
            pipe.zrem(keys.REPAGE, ticket.number)

        result = await self._change(
            number, lambda t, seq: decide_accept(t, seq, engineer, at), stop_paging
        )
        return result.verdict is Verdict.CHANGED

    async def mark_unaccepted(self, number: str, repage_at: dt.datetime) -> None:
        """Nobody accepted: mark it and schedule the re-paging (one transaction)."""

        def unaccepted(_ticket: Ticket, seq: int) -> TicketChange:
            fields = {"oncall_state": OnCallState.UNACCEPTED.value}
            event = TicketEvent(EventKind.ONCALL_UNACCEPTED, seq, repage_at, note="re-paging")
            return TicketChange(fields, event)

        def schedule(pipe: Pipeline, ticket: Ticket) -> None:
            pipe.zadd(keys.REPAGE, {ticket.number: repage_at.timestamp()})

        await self._change(number, unaccepted, schedule)

    async def get(self, number: str) -> Ticket | None:
        """One ticket, or None; a journal number the caller heard finds its ticket."""
        data = cast(dict[str, str], await self._redis.hgetall(keys.ticket(number)))
        if not data:
            alias = cast(str | None, await self._redis.get(keys.ticket_alias(number)))
            if alias:
                data = cast(dict[str, str], await self._redis.hgetall(keys.ticket(alias)))
        return ticket_from(data) if data else None

    async def recent(self, limit: int = 100, status: TicketStatus | None = None) -> list[Ticket]:
        """The newest tickets first (only those of one status, if given, among the newest)."""
        numbers = cast(list[str], await self._redis.zrevrange(keys.TICKETS, 0, limit - 1))
        async with self._redis.pipeline(transaction=False) as pipe:
            for number in numbers:
                pipe.hgetall(keys.ticket(number))
            rows = cast(list[dict[str, str]], await pipe.execute())
        tickets = [ticket_from(row) for row in rows if row]
        return [t for t in tickets if status is None or t.status is status]

    async def audit(self, number: str) -> list[dict[str, object]]:
        """A ticket's changes, oldest first: seq, event, at, by, note."""
        raw = cast(list[str], await self._redis.lrange(keys.ticket_audit(number), 0, -1))
        return [json.loads(item) for item in raw]

    async def oncall_chain(self, number: str) -> str:
        """The JSON chain stored with the ticket ("" when it never went on-call)."""
        return cast(str, await self._redis.hget(keys.ticket(number), "oncall_chain") or "")

    async def log_paging(self, number: str, entry: dict[str, str]) -> None:
        """Append one paging attempt (who, when, how it ended) to the ticket's log."""
        await self._redis.rpush(keys.ticket_paging_log(number), json.dumps(entry, sort_keys=True))

    async def paging_log(self, number: str) -> list[dict[str, str]]:
        """Every paging attempt of a ticket, oldest first."""
        raw = cast(list[str], await self._redis.lrange(keys.ticket_paging_log(number), 0, -1))
        return [json.loads(item) for item in raw]
