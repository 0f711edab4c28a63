"""Resellers and the system registry in Redis."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import cast

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from ivr.domain.records import Reseller, ResellerStatus, System, Tier
from ivr.store import keys


def _reseller_from(account: str, data: dict[str, str]) -> Reseller:
    return Reseller(
        account=account,
        name=data.get("name", ""),
        phones=tuple(p for p in data.get("phones", "").split(";") if p),
        status=ResellerStatus(data.get("status", ResellerStatus.ACTIVE.value)),
    )


def system_from(data: dict[str, str]) -> System:
    """A ``System`` from its Redis hash."""
    warranty = data.get("warranty_expires", "")
    return System(
        host_id=data["host_id"],
        reseller_account=data["reseller_account"],
        end_customer=data["end_customer"],
        system_type=data["system_type"],
        software_release=data["software_release"],
        tier=Tier(data["tier"]),
        support_expires=dt.date.fromisoformat(data["support_expires"]),
        warranty_expires=dt.date.fromisoformat(warranty) if warranty else None,
    )


class Directory:
    """Reads and writes resellers and systems."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def save_resellers(self, rows: Sequence[tuple[Reseller, str | None]]) -> None:
        """Store resellers with their PIN hashes (``None`` keeps the stored hash) at once.

        Phones moved between resellers leave no stale caller-ID mapping behind.
        """
        old_phones: dict[str, list[str]] = {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for reseller, _ in rows:
                pipe.hget(keys.reseller(reseller.account), "phones")
            for (reseller, _), phones in zip(rows, await pipe.execute(), strict=True):
                old_phones[reseller.account] = [p for p in (phones or "").split(";") if p]
        async with self._redis.pipeline(transaction=True) as pipe:
            for reseller, pin_hash in rows:
                for phone in old_phones[reseller.account]:
                    pipe.srem(keys.phone(phone), reseller.account)
                mapping: dict[FieldT, EncodableT] = {
                    "account": reseller.account,
                    "name": reseller.name,
                    "phones": ";".join(reseller.phones),
                    "status": reseller.status.value,
                }
                if pin_hash is not None:
                    mapping["pin_hash"] = pin_hash
                pipe.hset(keys.reseller(reseller.account), mapping=mapping)
                pipe.sadd(keys.RESELLERS, reseller.account)
                for phone in reseller.phones:
                    pipe.sadd(keys.phone(phone), reseller.account)
            await pipe.execute()

    async def set_pin_hash(self, account: str, pin_hash: str) -> bool:
        """Replace an existing reseller's PIN hash; False if there is no such reseller."""
        if not await self._redis.sismember(keys.RESELLERS, account):
            return False
        await self._redis.hset(keys.reseller(account), "pin_hash", pin_hash)
        return True

    async def reseller(self, account: str) -> Reseller | None:
        """One reseller, or None."""
        data = cast(dict[str, str], await self._redis.hgetall(keys.reseller(account)))
        return _reseller_from(account, data) if data else None

    async def names(self, accounts: Iterable[str]) -> dict[str, str]:
        """Resellers' names by account (one round trip; unknown accounts left out)."""
        wanted = sorted({a for a in accounts if a})
        if not wanted:
            return {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for account in wanted:
                pipe.hget(keys.reseller(account), "name")
            found = cast(list[str | None], await pipe.execute())
        return {a: n for a, n in zip(wanted, found, strict=True) if n}

    async def account_for_phone(self, number: str) -> str | None:
        """The account a caller-ID number identifies, if it belongs to exactly one."""
        accounts = cast(set[str], await self._redis.smembers(keys.phone(number)))
        return next(iter(accounts)) if len(accounts) == 1 else None

    async def accounts(self) -> set[str]:
        """Every reseller account number."""
        return cast(set[str], await self._redis.smembers(keys.RESELLERS))

    async def save_systems(self, systems: Sequence[System]) -> None:
        """Store systems at once (one transaction)."""
        async with self._redis.pipeline(transaction=True) as pipe:
            for system in systems:
                pipe.hset(
                    keys.system(system.host_id),
                    mapping={
                        "host_id": system.host_id,
                        "reseller_account": system.reseller_account,
                        "end_customer": system.end_customer,
                        "system_type": system.system_type,
                        "software_release": system.software_release,
                        "tier": system.tier.value,
                        "support_expires": system.support_expires.isoformat(),
                        "warranty_expires": (
                            system.warranty_expires.isoformat() if system.warranty_expires else ""
                        ),
                    },
                )
                pipe.sadd(keys.SYSTEMS, system.host_id)
            await pipe.execute()

    async def system(self, host_id: str) -> System | None:
        """One system, or None."""
        data = cast(dict[str, str], await self._redis.hgetall(keys.system(host_id)))
        return system_from(data) if data else None
