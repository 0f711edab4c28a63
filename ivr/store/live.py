"""Live queue state in Redis: written by the AMI consumer, read by every web process.

Each queue is one JSON snapshot (waiting callers and agents), rewritten when it
changes and announced on the ``keys.LIVE`` channel. The day's figures are kept
per call (sets and hashes keyed by Uniqueid), so a call counts once however
many consumers saw it, and are read back into offered / answered / abandoned,
waits and service level.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any, cast
from zoneinfo import ZoneInfo

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from ivr.domain.queues import CallerContext, Queue, QueueOutcome, day_figures
from ivr.store import keys

DAY_TTL_SECONDS = 8 * 24 * 3600
HEARTBEAT_TTL_SECONDS = 15
MAX_QUEUE_NAME = 80

# Record a caller's queue outcome on its call record, only if the support line
# made that record (a queue call that never went through the IVR has none).
_OUTCOME = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'queue', ARGV[1], 'queue_wait', ARGV[2], 'queue_outcome', ARGV[3])
end
return 0
"""


def _day(at: dt.datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).date().isoformat()


class LiveStore:
    """Reads and writes the queue board in Redis."""

    def __init__(self, redis: Redis, tz: ZoneInfo, service_level_seconds: float = 60.0) -> None:
        self._redis = redis
        self._tz = tz
        self._sl = service_level_seconds
        self._outcome = redis.register_script(_OUTCOME)

    async def write(
        self,
        queues: Iterable[Queue],
        offered: Sequence[tuple[str, str, dt.datetime]] = (),
        outcomes: Sequence[QueueOutcome] = (),
        *,
        now: dt.datetime | None = None,
    ) -> None:
        """Store the queues' snapshots and the calls' outcomes, then announce each queue
        with its day figures (two round trips however many queues changed)."""
        snapshots = [q.to_json() for q in queues if len(q.name) <= MAX_QUEUE_NAME]
        async with self._redis.pipeline(transaction=False) as pipe:
            for snap in snapshots:
                pipe.set(keys.queue_state(snap["name"]), json.dumps(snap))
                pipe.sadd(keys.QUEUE_NAMES, snap["name"])
            for queue, uid, at in offered:
                key = keys.queue_day(queue, _day(at, self._tz), "offered")
                pipe.sadd(key, uid)
                pipe.expire(key, DAY_TTL_SECONDS)
            for outcome in outcomes:
                what = "answered" if outcome.answered else "abandoned"
                key = keys.queue_day(outcome.queue, _day(outcome.at, self._tz), what)
                pipe.hset(key, outcome.uniqueid, f"{outcome.wait_seconds:.1f}")
                pipe.expire(key, DAY_TTL_SECONDS)
                await self._outcome(
                    keys=[keys.call(outcome.uniqueid)],
                    args=[outcome.queue, f"{outcome.wait_seconds:.1f}", what],
                    client=pipe,
                )
            await pipe.execute()
        if not snapshots:
            return
        figures = await self._today([s["name"] for s in snapshots], now)
        async with self._redis.pipeline(transaction=False) as pipe:
            for snap in snapshots:
                snap["today"] = figures[snap["name"]]
                pipe.publish(keys.LIVE, json.dumps({"kind": "queue", "queue": snap}))
            await pipe.execute()

    async def _today(self, names: Sequence[str], now: dt.datetime | None) -> dict[str, Any]:
        """Each queue's figures for the day of ``now`` (today when None)."""
        day = _day(now or dt.datetime.now(dt.UTC), self._tz)
        async with self._redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.scard(keys.queue_day(name, day, "offered"))
                pipe.hvals(keys.queue_day(name, day, "answered"))
                pipe.hvals(keys.queue_day(name, day, "abandoned"))
            rows = await pipe.execute()
        return {
            name: day_figures(
                int(rows[3 * i]),
                (float(w) for w in cast(list[str], rows[3 * i + 1])),
                (float(w) for w in cast(list[str], rows[3 * i + 2])),
                self._sl,
            )
            for i, name in enumerate(names)
        }

    async def contexts(self, uniqueids: Sequence[str]) -> dict[str, CallerContext]:
        """What the support line recorded about these calls (two round trips)."""
        if not uniqueids:
            return {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for uid in uniqueids:
                pipe.hmget(keys.call(uid), ["reseller_account", "host_id", "ticket"])
            records = cast(list[list[str | None]], await pipe.execute())
        async with self._redis.pipeline(transaction=False) as pipe:
            for account, host_id, ticket in records:
                pipe.hget(keys.reseller(account or "-"), "name")
                pipe.hmget(keys.system(host_id or "-"), ["tier", "end_customer"])
                pipe.hmget(keys.ticket(ticket or "-"), ["tier", "emergency", "sla_due"])
            details = await pipe.execute()
        found: dict[str, CallerContext] = {}
        for index, (uid, (account, host_id, ticket)) in enumerate(
            zip(uniqueids, records, strict=True)
        ):
            name = cast(str | None, details[3 * index])
            system_tier, customer = cast(list[str | None], details[3 * index + 1])
            ticket_tier, emergency, sla_due = cast(list[str | None], details[3 * index + 2])
            found[uid] = CallerContext(
                reseller=account or "",
                reseller_name=name or "",
                host_id=host_id or "",
                tier=ticket_tier or system_tier or "",
                emergency=emergency == "1",
                ticket=ticket or "",
                sla_due=sla_due or "",
                end_customer=customer or "",
            )
        return found

    async def set_ami_status(self, up: bool, since: dt.datetime, detail: str = "") -> None:
        """Record and announce whether the AMI link is up (and since when)."""
        status: dict[str, str] = {
            "state": "up" if up else "down",
            "since": since.isoformat(),
            "detail": detail,
        }
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(keys.AMI_STATUS, mapping=cast(dict[FieldT, EncodableT], status))
            pipe.set(keys.AMI_HEARTBEAT, "1", ex=HEARTBEAT_TTL_SECONDS)
            pipe.publish(keys.LIVE, json.dumps({"kind": "ami", "ami": status}))
            await pipe.execute()

    async def heartbeat(self) -> None:
        """Say that a consumer is alive (the state is stale without one)."""
        await self._redis.set(keys.AMI_HEARTBEAT, "1", ex=HEARTBEAT_TTL_SECONDS)

    async def ami_status(self) -> dict[str, Any]:
        """The AMI link as the web shows it: up, down (stale since) or not running."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.AMI_STATUS)
            pipe.exists(keys.AMI_HEARTBEAT)
            status, alive = await pipe.execute()
        status = cast(dict[str, str], status)
        if not status:
            return {"state": "none", "since": "", "detail": "no AMI consumer has run"}
        if not alive and status.get("state") == "up":
            return {"state": "down", "since": status.get("since", ""), "detail": "no heartbeat"}
        return {"state": status.get("state", "down"), "since": status.get("since", ""),
                "detail": status.get("detail", "")}  # fmt: skip

    async def board(self, now: dt.datetime) -> dict[str, Any]:
        """Every queue with its callers, agents and today's figures, and the AMI state."""
        names = sorted(cast(set[str], await self._redis.smembers(keys.QUEUE_NAMES)))
        raws = cast(
            list[str | None],
            await self._redis.mget([keys.queue_state(n) for n in names]) if names else [],
        )
        figures = await self._today(names, now)
        queues: list[dict[str, Any]] = []
        for name, raw in zip(names, raws, strict=True):
            snap = json.loads(raw) if raw else {"name": name, "callers": [], "agents": []}
            snap["today"] = figures[name]
            queues.append(snap)
        return {
            "server_time": now.isoformat(),
            "ami": await self.ami_status(),
            "queues": queues,
        }
