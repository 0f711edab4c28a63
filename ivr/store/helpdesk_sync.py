"""The helpdesk's ticket events written to Redis: the inbound webhook's and the bulk sync's.

A batch of events (one for the webhook, up to ``BATCH`` lines of an export) is one
transaction: WATCH the tickets and the phone line's counter, read them (one
pipelined round trip), decide every event in order with the pure rules of
``ivr.domain.helpdesk_sync``, then one MULTI/EXEC writes the tickets, their audit
entries, the index of open helpdesk tickets per reseller and Host ID, the
webhook's idempotency record and one live notice. A rejected event writes
nothing; a helpdesk change is never queued back to the helpdesk's outbox.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError
from redis.typing import EncodableT, FieldT

from ivr.domain.codec import to_strings
from ivr.domain.helpdesk_sync import (
    InboundEvent,
    Problem,
    Rejected,
    SyncOutcome,
    check_owner,
    decide_sync,
    version_outcome,
)
from ivr.domain.records import System, Ticket, TicketSource, TicketStatus
from ivr.domain.ticket_events import TicketEvent
from ivr.store import keys
from ivr.store.calendar import CalendarStore
from ivr.store.directory import system_from
from ivr.store.tickets import live_notice, record_event, ticket_from

BATCH = 500
# How long the webhook's answer to an Idempotency-Key is kept: a replay within it is
# answered from the record; after it, the ticket's version still turns it away.
INBOUND_KEY_SECONDS = 7 * 86400


@dataclass(frozen=True, slots=True)
class Applied:
    """What one event did: its outcome and ticket; ``replayed``: answered from the record."""

    outcome: SyncOutcome
    number: str
    replayed: bool = False

    def as_json(self) -> dict[str, object]:
        """The webhook's answer."""
        return {"result": self.outcome.value, "ticket": self.number, "replayed": self.replayed}


Result = Applied | Rejected


@dataclass(slots=True)
class _Batch:
    """The tickets of a batch as read, then as each event leaves them.

    ``held``: helpdesk tickets not read whole because no event of the batch is newer
    than their version (every event for them is stale or unchanged: a second sync).
    """

    before: dict[str, Ticket | None]
    now: dict[str, Ticket | None]
    seqs: dict[str, int]
    sequence: int
    events: list[tuple[Ticket, TicketEvent]]
    held: dict[str, dt.datetime]


class HelpdeskSync:
    """Applies helpdesk events to the phone line's tickets."""

    def __init__(self, redis: Redis, calendars: CalendarStore) -> None:
        self._redis = redis
        self._calendars = calendars

    async def receive(self, event: InboundEvent, key: str, digest: str, at: dt.datetime) -> Applied:
        """One webhook event, idempotent by its key: a replay (same key, same body digest)
        is answered as the first time and changes nothing; raises ``Rejected``."""
        if event.body_key is not None and event.body_key != key:
            raise Rejected(Problem.MALFORMED, "idempotency_key in the body differs from the header")
        known = await self._redis.get(keys.helpdesk_inbound(key))
        if known is not None:
            return _replayed(cast(str, known), key, digest)
        [result] = await self._apply([event], at, (key, digest))
        if isinstance(result, Rejected):
            raise result
        return result

    async def apply(self, events: Sequence[InboundEvent], at: dt.datetime) -> list[Result]:
        """Events in order (an export's lines): each one's result or rejection."""
        results: list[Result] = []
        for start in range(0, len(events), BATCH):
            results += await self._apply(events[start : start + BATCH], at, None)
        return results

    async def _apply(
        self, events: Sequence[InboundEvent], at: dt.datetime, idempotency: tuple[str, str] | None
    ) -> list[Result]:
        systems = await self._owners(events)
        calendar = await self._calendars.builder()
        numbers = sorted({e.ticket.number for e, s in zip(events, systems, strict=True)
                          if not isinstance(s, Rejected)})  # fmt: skip
        watched = [keys.ticket(n) for n in numbers] + [keys.TICKET_SEQUENCE]
        if idempotency is not None:
            watched.append(keys.helpdesk_inbound(idempotency[0]))

        async def attempt(pipe: Pipeline) -> list[Result]:
            await pipe.watch(*watched)
            batch = await self._read(events, numbers, idempotency)
            if isinstance(batch, Applied):  # the same key won a race meanwhile
                return [batch]
            results: list[Result] = []
            for event, system in zip(events, systems, strict=True):
                if isinstance(system, Rejected):
                    results.append(system)
                    continue
                created = event.ticket.created_at
                sla_due = calendar(created).sla_due(system.tier, created)
                results.append(_decide(batch, event, system, sla_due, at))
            recorded = idempotency is not None and isinstance(results[0], Applied)
            if batch.events or recorded:
                await self._write(pipe, batch, results, idempotency)
            else:
                await pipe.unwatch()  # type: ignore[no-untyped-call]  # unannotated in redis-py
            return results

        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    return await attempt(pipe)
                except WatchError:
                    await pipe.reset()  # type: ignore[no-untyped-call]  # unannotated in redis-py

    async def _owners(self, events: Sequence[InboundEvent]) -> list[System | Rejected]:
        """Each event's system, or why its reseller or Host ID is refused (one round trip)."""
        accounts = sorted({e.ticket.reseller_account for e in events})
        hosts = sorted({e.ticket.host_id for e in events})
        async with self._redis.pipeline(transaction=False) as reader:
            for account in accounts:
                reader.sismember(keys.RESELLERS, account)
            for host in hosts:
                reader.hgetall(keys.system(host))
            rows = await reader.execute()
        known = {a for a, found in zip(accounts, rows, strict=False) if found}
        systems = {h: system_from(r) for h, r in zip(hosts, rows[len(accounts) :], strict=True)
                   if r}  # fmt: skip
        out: list[System | Rejected] = []
        for event in events:
            t = event.ticket
            try:
                out.append(check_owner(t, t.reseller_account in known, systems.get(t.host_id)))
            except Rejected as exc:
                out.append(exc)
        return out

    async def _read(
        self,
        events: Sequence[InboundEvent],
        numbers: list[str],
        idempotency: tuple[str, str] | None,
    ) -> _Batch | Applied:
        """The batch's tickets, the counter and the key record, after the WATCH (read on
        another connection: a write after the WATCH still aborts the EXEC). First each
        ticket's version (one round trip), then whole only the tickets an event changes."""
        async with self._redis.pipeline(transaction=False) as reader:
            for number in numbers:
                reader.hmget(keys.ticket(number), ["number", "source", "helpdesk_updated"])
            reader.get(keys.TICKET_SEQUENCE)
            if idempotency is not None:
                reader.get(keys.helpdesk_inbound(idempotency[0]))
            rows = await reader.execute()
        if idempotency is not None and rows[-1] is not None:
            return _replayed(cast(str, rows[-1]), *idempotency)
        newest: dict[str, dt.datetime] = {}
        for event in events:
            number, at = event.ticket.number, event.ticket.updated_at
            newest[number] = max(newest.get(number, at), at)
        held, whole = {}, []
        for number, (exists, source, version) in zip(numbers, rows, strict=False):
            if not exists:
                continue
            known = dt.datetime.fromisoformat(version) if version else None
            if (
                source == TicketSource.HELPDESK.value
                and known is not None
                and (version_outcome(known, newest[number]) is not None)
            ):
                held[number] = known
            else:
                whole.append(number)
        tickets: dict[str, Ticket | None] = dict.fromkeys(numbers)
        seqs = dict.fromkeys(numbers, 0)
        if whole:
            async with self._redis.pipeline(transaction=False) as reader:
                for number in whole:
                    reader.hgetall(keys.ticket(number))
                for number, row in zip(whole, await reader.execute(), strict=True):
                    tickets[number] = ticket_from(row) if row else None
                    seqs[number] = int(row.get("events") or 0) if row else 0
        sequence = int(rows[len(numbers)] or 0)
        return _Batch(dict(tickets), tickets, seqs, sequence, [], held)

    async def _write(
        self,
        pipe: Pipeline,
        batch: _Batch,
        results: list[Result],
        idempotency: tuple[str, str] | None,
    ) -> None:
        pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves multi() unannotated
        changed = {ticket.number for ticket, _ in batch.events}
        for number in sorted(changed):
            _write_ticket(pipe, batch.before[number], cast(Ticket, batch.now[number]),
                          batch.seqs[number])  # fmt: skip
        for ticket, event in batch.events:
            record_event(pipe, ticket, event, outbox=False)  # the helpdesk's own change
        if len(batch.events) == 1:
            pipe.publish(keys.LIVE, json.dumps(live_notice(*batch.events[0])))
        elif batch.events:  # one notice for a whole batch, not one per ticket
            notice = {"kind": "ticket", "event": "synced", "count": len(changed)}
            pipe.publish(keys.LIVE, json.dumps(notice))
        if idempotency is not None and isinstance(results[0], Applied):
            key, digest = idempotency
            record = {"digest": digest, "result": results[0].outcome.value,
                      "ticket": results[0].number}  # fmt: skip
            pipe.set(keys.helpdesk_inbound(key), json.dumps(record), ex=INBOUND_KEY_SECONDS)
        await pipe.execute()


def _decide(
    batch: _Batch, event: InboundEvent, system: System, sla_due: dt.datetime, at: dt.datetime
) -> Result:
    number = event.ticket.number
    if number in batch.held:  # not newer than the version held: read no further
        outcome = version_outcome(batch.held[number], event.ticket.updated_at)
        return Applied(outcome or SyncOutcome.UNCHANGED, number)
    seq = batch.seqs[number] + 1
    try:
        decision = decide_sync(batch.now[number], event, system, sla_due=sla_due,
                               sequence=batch.sequence, seq=seq, at=at)  # fmt: skip
    except Rejected as exc:
        return exc
    if decision.event is not None:
        batch.now[number], batch.seqs[number] = decision.ticket, seq
        batch.events.append((decision.ticket, decision.event))
    return Applied(decision.outcome, number)


def _write_ticket(pipe: Pipeline, before: Ticket | None, ticket: Ticket, seq: int) -> None:
    """The hash, the list of tickets and the open-helpdesk-tickets index of one ticket."""
    fields = to_strings(ticket) | {"events": str(seq)}
    mapping: dict[FieldT, EncodableT] = {name: value for name, value in fields.items()}  # noqa: C416
    pipe.hset(keys.ticket(ticket.number), mapping=mapping)
    pipe.zadd(keys.TICKETS, {ticket.number: ticket.created.timestamp()})
    index = keys.helpdesk_open(ticket.reseller_account, ticket.host_id)
    if before is not None:
        old = keys.helpdesk_open(before.reseller_account, before.host_id)
        if old != index:
            pipe.zrem(old, ticket.number)
    if ticket.status is TicketStatus.RESOLVED:
        pipe.zrem(index, ticket.number)
        pipe.zrem(keys.REPAGE, ticket.number)  # resolved in the helpdesk: paging stops
    else:
        pipe.zadd(index, {ticket.number: ticket.created.timestamp()})


def _replayed(record: str, key: str, digest: str) -> Applied:
    """The answer to a key seen before: the first answer, or 409 for another body."""
    known = json.loads(record)
    if known.get("digest") != digest:
        raise Rejected(
            Problem.CONFLICT, f"Idempotency-Key {key} was already used for a different event"
        )
    return Applied(SyncOutcome(known["result"]), str(known["ticket"]), replayed=True)
