"""Dashboard accounts, API tokens and browser sessions, kept in Redis.

- Passwords are argon2id hashes, checked in a worker thread; an unknown name is
  checked against a decoy hash so it takes as long as a wrong password.
- API tokens and session ids are 256-bit random values shown once; Redis keeps
  only their SHA-256 digests (a slow hash adds nothing to a random 256-bit value,
  and a stolen Redis dump cannot be replayed as a session or a token).
- Sign-in failures are counted per account name and per client address, and
  both lock sign-in for a while once they pass their limits.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from redis.asyncio import Redis

from ivr.store import keys

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 256


class UserRole(StrEnum):
    """What an account may do: supervisors watch, administrators also change data."""

    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    def allows(self, needed: UserRole) -> bool:
        """Whether this role may use a route that needs ``needed``."""
        return self is UserRole.ADMIN or needed is UserRole.SUPERVISOR


@dataclass(frozen=True, slots=True)
class Account:
    """A signed-in (or token-bearing) user: never carries the password hash."""

    name: str
    role: UserRole


@dataclass(frozen=True, slots=True)
class Session:
    """A browser session: who, and the CSRF token its forms must echo."""

    account: Account
    csrf: str


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """How many sign-in failures lock sign-in, and for how long."""

    per_account: int = 5
    per_address: int = 20
    window_seconds: int = 900


def digest(secret_value: str) -> str:
    """SHA-256 of a random token or session id: what Redis keeps."""
    return hashlib.sha256(secret_value.encode()).hexdigest()


def check_name(name: str) -> str:
    """A valid account name, or ValueError."""
    if not NAME_RE.match(name):
        raise ValueError("an account name is 2-32 lower-case letters, digits, '.', '_' or '-'")
    return name


def check_password(password: str) -> str:
    """A password long enough, or ValueError."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValueError(f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


class Accounts:
    """Accounts, tokens, sessions and the sign-in throttle."""

    def __init__(
        self,
        redis: Redis,
        hasher: PasswordHasher | None = None,
        *,
        session_seconds: int = 8 * 3600,
        throttle: ThrottlePolicy | None = None,
    ) -> None:
        self._redis = redis
        self._hasher = hasher or PasswordHasher()
        self._decoy = self._hasher.hash("decoy-not-a-password")
        self._session_seconds = session_seconds
        self._throttle = throttle or ThrottlePolicy()

    # -- accounts ------------------------------------------------------------------

    async def add(self, name: str, role: UserRole, password: str, now: dt.datetime) -> None:
        """Create or replace an account; replacing one signs it out everywhere."""
        check_name(name)
        check_password(password)
        hashed = await asyncio.to_thread(self._hasher.hash, password)
        await self.revoke_all(name)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.user(name), mapping={"role": role.value, "password_hash": hashed,
                                                "created": now.isoformat()})  # fmt: skip
            pipe.sadd(keys.USERS, name)
            await pipe.execute()

    async def remove(self, name: str) -> bool:
        """Delete an account, its tokens and sessions; False when there was none."""
        await self.revoke_all(name)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.user(name))
            pipe.srem(keys.USERS, name)
            removed, _ = await pipe.execute()
        return bool(removed)

    async def get(self, name: str) -> Account | None:
        """An account by name (without its hash)."""
        role = cast(str | None, await self._redis.hget(keys.user(name), "role"))
        return Account(name, UserRole(role)) if role else None

    async def list(self) -> list[Account]:
        """Every account, by name."""
        names = sorted(cast(set[str], await self._redis.smembers(keys.USERS)))
        found = [await self.get(n) for n in names]
        return [a for a in found if a is not None]

    async def verify(self, name: str, password: str) -> Account | None:
        """The account when the password matches, else None (same cost either way)."""
        data = cast(dict[str, str], await self._redis.hgetall(keys.user(name)))
        stored = data.get("password_hash") or self._decoy
        ok = await asyncio.to_thread(self._check, stored, password)
        if not ok or not data:
            return None
        return Account(name, UserRole(data["role"]))

    def _check(self, stored: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(stored, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    # -- API tokens ----------------------------------------------------------------

    async def new_token(self, name: str) -> str:
        """A new API token for an account (shown once; Redis keeps its digest)."""
        if await self.get(name) is None:
            raise ValueError(f"no account {name!r}")
        token = secrets.token_urlsafe(32)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.api_token(digest(token)), name)
            pipe.sadd(keys.user_tokens(name), digest(token))
            await pipe.execute()
        return token

    async def by_token(self, token: str) -> Account | None:
        """The account a bearer token belongs to."""
        if not 20 <= len(token) <= 100:
            return None
        name = cast(str | None, await self._redis.get(keys.api_token(digest(token))))
        return await self.get(name) if name else None

    async def revoke_all(self, name: str) -> None:
        """Revoke every token and session of an account."""
        tokens = cast(set[str], await self._redis.smembers(keys.user_tokens(name)))
        sessions = cast(set[str], await self._redis.smembers(keys.user_sessions(name)))
        async with self._redis.pipeline(transaction=True) as pipe:
            for token_digest in tokens:
                pipe.delete(keys.api_token(token_digest))
            for session_digest in sessions:
                pipe.delete(keys.web_session(session_digest))
            pipe.delete(keys.user_tokens(name), keys.user_sessions(name))
            await pipe.execute()

    # -- sessions ------------------------------------------------------------------

    async def open_session(self, account: Account) -> tuple[str, Session]:
        """A fresh session id (never one the browser brought) and its CSRF token."""
        session_id = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        key = keys.web_session(digest(session_id))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"name": account.name, "csrf": csrf})
            pipe.expire(key, self._session_seconds)
            pipe.sadd(keys.user_sessions(account.name), digest(session_id))
            await pipe.execute()
        return session_id, Session(account, csrf)

    async def session(self, session_id: str) -> Session | None:
        """The live session of a cookie value (its idle timer restarts)."""
        if not 20 <= len(session_id) <= 100:
            return None
        key = keys.web_session(digest(session_id))
        data = cast(dict[str, str], await self._redis.hgetall(key))
        if not data:
            return None
        account = await self.get(data["name"])
        if account is None:
            return None
        await self._redis.expire(key, self._session_seconds)
        return Session(account, data["csrf"])

    async def close_session(self, session_id: str) -> None:
        """Sign out: the session id is dead from now on."""
        await self._redis.delete(keys.web_session(digest(session_id)))

    # -- sign-in throttle ----------------------------------------------------------

    async def throttled(self, name: str, address: str) -> bool:
        """Whether sign-in is locked for this account name or this address."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(keys.signin_failures("user", name[:64]))
            pipe.get(keys.signin_failures("addr", address))
            by_name, by_addr = await pipe.execute()
        return (
            int(by_name or 0) >= self._throttle.per_account
            or int(by_addr or 0) >= self._throttle.per_address
        )

    async def failed(self, name: str, address: str) -> None:
        """Count a failed sign-in against the name and the address."""
        window = self._throttle.window_seconds
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in (keys.signin_failures("user", name[:64]),
                        keys.signin_failures("addr", address)):  # fmt: skip
                pipe.incr(key)
                pipe.expire(key, window, nx=True)
            await pipe.execute()

    async def succeeded(self, name: str) -> None:
        """A good sign-in clears the account's failures (not the address's)."""
        await self._redis.delete(keys.signin_failures("user", name[:64]))
