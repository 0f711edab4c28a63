"""The helpdesk outbox: a Redis stream of ticket events read by one consumer group.

The ticket store appends an entry in the same transaction as each change; this
module is the reading side. An entry stays pending in the group until it is
delivered (then acknowledged and deleted) or has used up its attempts (then moved
to the dead-letter list, from which ``redeliver`` puts it back). Entries pending
on a consumer that died are claimed by a live one (XAUTOCLAIM), so a crash
between reading and delivering loses nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import ResponseError
from redis.typing import EncodableT, FieldT

from ivr.store import keys


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One ticket event waiting for delivery."""

    entry_id: str
    key: str  # idempotency key
    kind: str
    ticket: str
    payload: str  # the exact JSON body the webhook receives

    def fields(self) -> dict[str, str]:
        """The stream fields (also what a dead letter keeps)."""
        return {"key": self.key, "kind": self.kind, "ticket": self.ticket, "payload": self.payload}


@dataclass(frozen=True, slots=True)
class Attempts:
    """Failed deliveries of an entry so far, and when the next may be tried (epoch s)."""

    count: int = 0
    due: float = 0.0
    error: str = ""


def _entries(rows: list[Any]) -> list[OutboxEntry]:
    """Stream rows ``[(id, {field: value})]``; rows deleted meanwhile come back empty."""
    out = []
    for entry_id, data in rows:
        if data:
            out.append(
                OutboxEntry(entry_id, data["key"], data["kind"], data["ticket"], data["payload"])
            )
    return out


class HelpdeskOutbox:
    """Reading, acknowledging and dead-lettering outbox entries as one consumer."""

    def __init__(self, redis: Redis, consumer: str) -> None:
        self._redis = redis
        self.consumer = consumer

    async def ensure_group(self) -> None:
        """Create the stream and the consumer group if they are not there yet."""
        try:
            await self._redis.xgroup_create(
                keys.HELPDESK_OUTBOX, keys.HELPDESK_GROUP, id="0", mkstream=True
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def claim_stale(self, min_idle_seconds: float) -> int:
        """Take over entries left pending that long by any consumer (a dead one): how many."""
        claimed, start = 0, "0-0"
        while True:
            reply = await self._redis.xautoclaim(
                keys.HELPDESK_OUTBOX,
                keys.HELPDESK_GROUP,
                self.consumer,
                min_idle_time=int(min_idle_seconds * 1000),
                start_id=start,
                count=100,
            )
            start, rows = reply[0], reply[1]
            claimed += len(rows)
            if start == "0-0":
                return claimed

    async def pending(self, count: int = 100) -> list[OutboxEntry]:
        """Entries this consumer holds but has not delivered yet, oldest first."""
        return await self._read("0", count, None)

    async def new(self, count: int, block_seconds: float) -> list[OutboxEntry]:
        """Entries nobody has read yet (waits up to ``block_seconds`` for one)."""
        return await self._read(">", count, max(1, int(block_seconds * 1000)))

    async def _read(self, start: str, count: int, block_ms: int | None) -> list[OutboxEntry]:
        reply: list[Any] | None = await self._redis.xreadgroup(  # type: ignore[assignment]  # RESP2 reply: [[stream, rows]]
            keys.HELPDESK_GROUP,
            self.consumer,
            {keys.HELPDESK_OUTBOX: start},
            count=count,
            block=block_ms,
        )
        if not reply:
            return []
        return _entries(reply[0][1])

    async def attempts(self, entry_ids: list[str]) -> dict[str, Attempts]:
        """The failure record of each entry (absent: never failed)."""
        if not entry_ids:
            return {}
        raw = cast(list[str | None], await self._redis.hmget(keys.HELPDESK_ATTEMPTS, entry_ids))
        return {
            entry_id: Attempts(**json.loads(value))
            for entry_id, value in zip(entry_ids, raw, strict=True)
            if value
        }

    async def delivered(self, entry: OutboxEntry) -> None:
        """Acknowledge and drop a delivered entry (one transaction)."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xack(keys.HELPDESK_OUTBOX, keys.HELPDESK_GROUP, entry.entry_id)
            pipe.xdel(keys.HELPDESK_OUTBOX, entry.entry_id)
            pipe.hdel(keys.HELPDESK_ATTEMPTS, entry.entry_id)
            await pipe.execute()

    async def failed(self, entry: OutboxEntry, attempts: Attempts) -> None:
        """Note a failed attempt; the entry stays pending until it is due again."""
        record = json.dumps({"count": attempts.count, "due": attempts.due, "error": attempts.error})
        await self._redis.hset(keys.HELPDESK_ATTEMPTS, entry.entry_id, record)

    async def dead(self, entry: OutboxEntry, attempts: Attempts) -> None:
        """Move an entry that used up its attempts to the dead-letter list (one transaction)."""
        letter = entry.fields() | {"attempts": str(attempts.count), "error": attempts.error}
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(keys.HELPDESK_DEAD, json.dumps(letter, sort_keys=True))
            pipe.xack(keys.HELPDESK_OUTBOX, keys.HELPDESK_GROUP, entry.entry_id)
            pipe.xdel(keys.HELPDESK_OUTBOX, entry.entry_id)
            pipe.hdel(keys.HELPDESK_ATTEMPTS, entry.entry_id)
            await pipe.execute()


async def dead_letters(redis: Redis) -> list[dict[str, str]]:
    """Events the helpdesk never took, oldest first (ticket, kind, key, attempts, error)."""
    raw = cast(list[str], await redis.lrange(keys.HELPDESK_DEAD, 0, -1))
    return [json.loads(item) for item in raw]


async def redeliver(redis: Redis, ticket: str | None = None) -> int:
    """Put dead letters (of one ticket, or all) back on the outbox; how many.

    Each moves in one transaction (XADD and LREM together), with its original
    idempotency key, so a helpdesk that did get it after all ignores the copy.
    """
    moved = 0
    for raw in cast(list[str], await redis.lrange(keys.HELPDESK_DEAD, 0, -1)):
        letter = json.loads(raw)
        if ticket is not None and letter.get("ticket") != ticket:
            continue
        fields: dict[FieldT, EncodableT] = {
            name: str(letter[name]) for name in ("key", "kind", "ticket", "payload")
        }
        async with redis.pipeline(transaction=True) as pipe:
            pipe.lrem(keys.HELPDESK_DEAD, 1, raw)
            pipe.xadd(keys.HELPDESK_OUTBOX, fields)
            removed, _ = await pipe.execute()
        moved += int(removed)
    return moved
