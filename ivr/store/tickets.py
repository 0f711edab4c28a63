"""Tickets in Redis, numbered from one atomic counter shared by every worker.

Every change (creation, a repeat call, an escalation, acknowledgement,
resolution, on-call states) is written at once: the ticket's hash, its audit
entry, the helpdesk outbox entry and the live notice together or not at all. A
call's new ticket (or the open emergency it joins) takes two round trips, a
snapshot and one script that checks it and writes (``ivr.store.ticket_opening``);
the other changes are one MULTI/EXEC under WATCH. What a change may do is decided
by the pure rules in ``ivr.domain.ticket_events``.

One keypad namespace: the helpdesk's own tickets live here too (under their
numbers, ``ivr.store.helpdesk_sync``), so the counter skips every number that
already names a ticket.
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
from ivr.domain.records import FIRST_TICKET_NUMBER, NewTicket, OnCallState, Ticket, TicketStatus
from ivr.domain.ticket_events import (
    EventKind,
    TicketChange,
    TicketEvent,
    Verdict,
    decide_accept,
    decide_acknowledge,
    decide_join,
    decide_resolve,
    decide_unaccepted,
    escalatable,
    helpdesk_payload,
    idempotency_key,
    joins_open_emergency,
)
from ivr.store import keys
from ivr.store.ticket_opening import Indexes, OpeningScript, Snapshot, Writes

T = TypeVar("T")

# How long a call's ticket is remembered for journal replays of the same call.
CALL_TICKET_SECONDS = 30 * 86400

FIRST_NUMBER = FIRST_TICKET_NUMBER


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


def record_event(
    pipe: Pipeline | Writes, ticket: Ticket, event: TicketEvent, *, outbox: bool
) -> None:
    """Queue a change's audit entry and, with ``outbox``, its helpdesk outbox entry."""
    pipe.rpush(keys.ticket_audit(ticket.number), json.dumps(event.audit_entry()))
    if outbox:
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


def live_notice(ticket: Ticket, event: TicketEvent) -> dict[str, object]:
    """The ``ticket`` notice on the live channel for one change."""
    return {
        "kind": "ticket",
        "event": event.kind.value,
        "number": ticket.number,
        "status": ticket.status.value,
        "emergency": ticket.emergency,
        "by": event.by,
    }


def _joinable(seen: Snapshot, new: NewTicket) -> tuple[Ticket, int] | None:
    """The ticket an emergency call adds to, and its next event's number: the reseller's
    open emergency for the Host ID, else its newest open helpdesk ticket for it."""
    if seen.current_hash:
        existing = ticket_from(seen.current_hash)
        if joins_open_emergency(existing, new.reseller_account, new.host_id):
            return existing, int(seen.current_hash.get("events") or "0") + 1
    if seen.newest_hash:
        existing = ticket_from(seen.newest_hash)
        if escalatable(existing, new.reseller_account) and existing.host_id == new.host_id:
            return existing, int(seen.newest_hash.get("events") or "0") + 1
    return None


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
    queued on the helpdesk outbox stream in the same transaction. Each event is
    announced on ``live_channel``; ``None`` announces nothing (the call tester:
    pub/sub ignores database numbers, so a scratch database's notice would reach
    every dashboard of the same server).
    """

    def __init__(
        self, redis: Redis, *, outbox: bool = False, live_channel: str | None = keys.LIVE
    ) -> None:
        self._redis = redis
        self._outbox = outbox
        self._live_channel = live_channel
        self._opening = OpeningScript(redis, FIRST_NUMBER)

    async def create(
        self,
        new: NewTicket,
        callback_at: dt.datetime | None = None,
        oncall_chain: str | None = None,
        *,
        number: str | None = None,
    ) -> Ticket:
        """Open a ticket, or add an emergency call to the reseller's ticket for that Host ID.

        The number comes from one shared counter (skipping numbers the helpdesk's
        tickets hold) unless given (a journal replay): then a ticket that already
        exists is returned unchanged, so a replay done twice counts once. A repeat
        emergency call returns the existing emergency with its ``repeat_calls``
        raised; with no open emergency, the newest open helpdesk ticket for the Host
        ID is escalated instead of opening another. Two workers racing cannot open
        two: the write is made only on the snapshot it was decided on.
        """
        if number is not None:
            return await self._replay(new, number, callback_at, oncall_chain)
        indexes = Indexes(
            keys.open_emergency(new.reseller_account, new.host_id),
            keys.helpdesk_open(new.reseller_account, new.host_id),
            emergency=new.emergency,
        )
        seen = await self._opening.snapshot(indexes)
        while True:
            joined = _joinable(seen, new) if new.emergency else None
            if joined is not None:
                existing, seq = joined
                ticket, writes = self._joining(existing, seq, new, callback_at, oncall_chain)
                taken = ""
            else:
                taken = seen.number
                ticket, writes = self._opening_writes(
                    new, taken, callback_at, oncall_chain, set_index=new.emergency
                )
                writes.set(keys.TICKET_SEQUENCE, str(int(taken) - FIRST_NUMBER + 1))
            opener = new.call_id if taken else ""
            moved = await self._opening.commit(indexes, seen, taken, writes, opener)
            if moved is None:
                return ticket
            seen = moved

    async def _replay(
        self,
        new: NewTicket,
        number: str,
        callback_at: dt.datetime | None,
        oncall_chain: str | None,
    ) -> Ticket:
        """A journaled ticket written under the number the caller heard (once only)."""
        index = keys.open_emergency(new.reseller_account, new.host_id) if new.emergency else None

        async def attempt(pipe: Pipeline) -> Ticket:
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
            ticket, writes = self._opening_writes(
                new, number, callback_at, oncall_chain, set_index=index is not None and not current
            )
            _multi(pipe)
            writes.queue_on(pipe)
            await pipe.execute()
            return ticket

        return await self._transaction(attempt)

    def _opening_writes(
        self,
        new: NewTicket,
        number: str,
        callback_at: dt.datetime | None,
        oncall_chain: str | None,
        *,
        set_index: bool,
    ) -> tuple[Ticket, Writes]:
        """A new ticket's writes: its hash, indexes, SLA watch, audit, outbox and notice."""
        ticket = new.numbered(number)
        fields = to_strings(ticket)
        if oncall_chain is not None:
            ticket = dataclasses.replace(ticket, oncall_state=OnCallState.PAGING.value)
            fields |= {"oncall_chain": oncall_chain, "oncall_state": ticket.oncall_state}
        event = TicketEvent(EventKind.CREATED, 1, new.created, note=f"call {new.call_id}")
        writes = Writes()
        writes.hset(keys.ticket(ticket.number), fields | {"events": "1"})
        writes.zadd(keys.TICKETS, {ticket.number: new.created.timestamp()})
        # Into the SLA watch, due for its first look at once: the watch works out
        # the ticket's marks on its tier's clock (ivr/workers/sla_watch.py). A
        # best-effort ticket (warranty) has no SLA clock, so nothing to watch.
        if new.sla_due is not None:
            writes.zadd(keys.SLA_WATCH, {ticket.number: new.created.timestamp()})
        if callback_at is not None:
            writes.zadd(keys.CALLBACKS, {ticket.number: callback_at.timestamp()})
        if set_index:
            writes.set(keys.open_emergency(new.reseller_account, new.host_id), ticket.number)
        if new.call_id:
            writes.set(keys.call_ticket(new.call_id), ticket.number, ex=CALL_TICKET_SECONDS)
        self._record(writes, ticket, event)
        return ticket, writes

    async def _transaction(self, attempt: Callable[[Pipeline], Awaitable[T]]) -> T:
        """Run ``attempt`` (WATCH, read, decide, MULTI/EXEC) until no watched key moved."""
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    return await attempt(pipe)
                except WatchError:
                    await pipe.reset()  # type: ignore[no-untyped-call]  # unannotated in redis-py

    async def escalate(
        self,
        number: str,
        new: NewTicket,
        callback_at: dt.datetime | None = None,
        oncall_chain: str | None = None,
    ) -> Ticket | None:
        """Option 1 with a ticket in hand: the call takes up ticket ``number`` (an
        escalation, or a repeat call on an emergency). None when it is no longer the
        caller's open ticket (resolved meanwhile): the call then opens its own."""

        async def attempt(pipe: Pipeline) -> Ticket | None:
            await pipe.watch(keys.ticket(number))
            data = cast(dict[str, str], await pipe.hgetall(keys.ticket(number)))
            existing = ticket_from(data) if data else None
            if existing is None or not escalatable(existing, new.reseller_account):
                return None
            seq = int(data.get("events") or "0") + 1
            ticket, writes = self._joining(existing, seq, new, callback_at, oncall_chain)
            _multi(pipe)
            writes.queue_on(pipe)
            await pipe.execute()
            return ticket

        return await self._transaction(attempt)

    def _joining(
        self,
        existing: Ticket,
        seq: int,
        new: NewTicket,
        callback_at: dt.datetime | None,
        oncall_chain: str | None,
    ) -> tuple[Ticket, Writes]:
        """An emergency call adds to an existing ticket (event ``seq``): a repeat call on
        an emergency, an escalation of any other ticket. The ticket after it, and the writes."""
        change = decide_join(existing, seq, new)
        fields = dict(change.fields)
        escalating = change.event.kind is EventKind.ESCALATED
        if oncall_chain is not None and (escalating or not existing.acknowledged_by):
            fields |= {"oncall_chain": oncall_chain, "oncall_state": OnCallState.PAGING.value}
        ticket = ticket_from(to_strings(existing) | fields)
        writes = Writes()
        writes.hset(keys.ticket(existing.number), fields | {"events": str(seq)})
        if escalating:
            # Now an emergency of the phone line: on its SLA watch (a restarted clock
            # raises its marks afresh), the Host ID's open emergency, a callback if closed.
            writes.zadd(keys.SLA_WATCH, {ticket.number: new.created.timestamp()})
            if "sla_from" in fields:
                writes.delete(keys.ticket_sla(ticket.number))
            writes.set(keys.open_emergency(ticket.reseller_account, ticket.host_id), ticket.number)
            if callback_at is not None:
                writes.zadd(keys.CALLBACKS, {ticket.number: callback_at.timestamp()})
        if new.call_id:
            writes.set(keys.call_ticket(new.call_id), ticket.number, ex=CALL_TICKET_SECONDS)
        self._record(writes, ticket, change.event)
        return ticket, writes

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

    def _record(self, pipe: Pipeline | Writes, ticket: Ticket, event: TicketEvent) -> None:
        """Queue the audit entry, the outbox entry and the live notice of one event."""
        record_event(pipe, ticket, event, outbox=self._outbox)
        if self._live_channel is not None:
            pipe.publish(self._live_channel, json.dumps(live_notice(ticket, event)))

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

    async def mark_unaccepted(self, number: str, repage_at: dt.datetime) -> bool:
        """Nobody accepted: mark it and schedule the re-paging (one transaction).

        Decided on the ticket as it stands at the write, not as the caller found
        it: taken meanwhile (acknowledged, accepted, resolved) it stays as it is
        and is not re-paged. True when it was marked.
        """

        def schedule(pipe: Pipeline, ticket: Ticket) -> None:
            pipe.zadd(keys.REPAGE, {ticket.number: repage_at.timestamp()})

        result = await self._change(
            number, lambda t, seq: decide_unaccepted(t, seq, repage_at), schedule
        )
        return result.verdict is Verdict.CHANGED

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
