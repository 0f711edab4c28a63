"""Resellers and the system registry in Redis."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from ivr.domain.codec import from_strings, to_strings
from ivr.domain.records import Reseller, ResellerStatus, System, TelephoneSet
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
    return from_strings(System, data)


def _strings(record: System | TelephoneSet) -> dict[FieldT, EncodableT]:
    return {name: value for name, value in to_strings(record).items()}  # noqa: C416  (widens)


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
                pipe.hset(keys.system(system.host_id), mapping=_strings(system))
                pipe.sadd(keys.SYSTEMS, system.host_id)
            await pipe.execute()

    async def host_ids(self) -> set[str]:
        """Every Host ID in the registry."""
        return cast(set[str], await self._redis.smembers(keys.SYSTEMS))

    async def save_telephones(self, sets: Sequence[TelephoneSet]) -> None:
        """Store telephone sets under their systems at once; a set moved leaves its old system."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for phone in sets:
                pipe.hget(keys.telephone(phone.serial), "host_id")
            old_parents = cast(list[str | None], await pipe.execute())
        async with self._redis.pipeline(transaction=True) as pipe:
            for phone, old in zip(sets, old_parents, strict=True):
                if old and old != phone.host_id:
                    pipe.srem(keys.system_telephones(old), phone.serial)
                pipe.delete(keys.telephone(phone.serial))
                pipe.hset(keys.telephone(phone.serial), mapping=_strings(phone))
                pipe.sadd(keys.system_telephones(phone.host_id), phone.serial)
            await pipe.execute()

    async def telephones(self, host_id: str) -> list[TelephoneSet]:
        """The telephone sets registered under a system, by serial."""
        members = await self._redis.smembers(keys.system_telephones(host_id))
        serials = sorted(cast(set[str], members))
        async with self._redis.pipeline(transaction=False) as pipe:
            for serial in serials:
                pipe.hgetall(keys.telephone(serial))
            rows = cast(list[dict[str, str]], await pipe.execute())
        return [from_strings(TelephoneSet, row) for row in rows if row]

    async def system(self, host_id: str) -> System | None:
        """One system, or None."""
        data = cast(dict[str, str], await self._redis.hgetall(keys.system(host_id)))
        return system_from(data) if data else None
