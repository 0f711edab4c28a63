"""Call records in Redis: one hash per call, indexed by start time."""

from __future__ import annotations

import datetime as dt
from typing import cast

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from ivr.domain.records import CallRecord
from ivr.store import keys


class CallStore:
    """Writes and reads call records."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def save(self, record: CallRecord) -> None:
        """Store the record (one transaction)."""
        mapping: dict[FieldT, EncodableT] = {
            "call_id": record.call_id,
            "started": record.started.isoformat(),
            "ended": record.ended.isoformat() if record.ended else "",
            "caller_id": record.caller_id,
            "route": record.route_name,
            "steps": ",".join(record.steps),
            "reseller_account": record.reseller_account,
            "host_id": record.host_id,
            "menu_choice": record.menu_choice,
            "decision": record.decision,
            "ticket": record.ticket,
            "outcome": record.outcome,
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.call(record.call_id), mapping=mapping)
            pipe.zadd(keys.CALLS, {record.call_id: record.started.timestamp()})
            await pipe.execute()

    async def get(self, call_id: str) -> CallRecord | None:
        """One call record, or None."""
        data = cast(dict[str, str], await self._redis.hgetall(keys.call(call_id)))
        if not data:
            return None
        return CallRecord(
            call_id=data["call_id"],
            started=dt.datetime.fromisoformat(data["started"]),
            ended=dt.datetime.fromisoformat(data["ended"]) if data.get("ended") else None,
            caller_id=data["caller_id"],
            route_name=data["route"],
            steps=[s for s in data.get("steps", "").split(",") if s],
            reseller_account=data.get("reseller_account", ""),
            host_id=data.get("host_id", ""),
            menu_choice=data.get("menu_choice", ""),
            decision=data.get("decision", ""),
            ticket=data.get("ticket", ""),
            outcome=data.get("outcome", ""),
        )

    async def recent_ids(self, limit: int = 100) -> list[str]:
        """Newest call ids first."""
        return cast(list[str], await self._redis.zrevrange(keys.CALLS, 0, limit - 1))
