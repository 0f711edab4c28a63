"""Helpers for the web tests: a running app on a free port and signed-in clients."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from argon2 import PasswordHasher
from redis.asyncio import Redis

from ivr.config import Settings
from ivr.store.accounts import Accounts, UserRole
from ivr.tester.engine import CallTester
from ivr.web.app import create_app, running_web
from tests.support.harness import OPEN_HOURS, Clock
from tests.support.stopping import STOP_SECONDS, within

SUPERVISOR = ("sam", "sam-watches-the-queues")
ADMIN = ("ada", "ada-changes-the-data")


def fast_accounts(redis: Redis) -> Accounts:
    """argon2id with small costs: the same code path, fast enough for many tests."""
    return Accounts(redis, PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@dataclass
class Web:
    """A running dashboard."""

    base: str
    accounts: Accounts
    clock: Clock


@asynccontextmanager
async def running_dashboard(
    redis: Redis, settings: Settings, *, call_tester: CallTester | None = None
) -> AsyncIterator[Web]:
    """The web app on a free loopback port with one supervisor and one administrator."""
    accounts = fast_accounts(redis)
    await accounts.add(SUPERVISOR[0], UserRole.SUPERVISOR, SUPERVISOR[1], OPEN_HOURS)
    await accounts.add(ADMIN[0], UserRole.ADMIN, ADMIN[1], OPEN_HOURS)
    clock = Clock(OPEN_HOURS)
    app = create_app(redis, settings, clock, accounts=accounts, call_tester=call_tester)
    serving = running_web(app, "127.0.0.1", 0)
    port = await serving.__aenter__()
    try:
        yield Web(f"http://127.0.0.1:{port}", accounts, clock)
    finally:  # bounded: the app's own stop bounds are 5 s per phase (ivr/web/app.py)
        await within("the web app", serving.__aexit__(None, None, None), STOP_SECONDS)


def browser() -> aiohttp.ClientSession:
    """A client that keeps cookies for 127.0.0.1, as a browser does."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def sign_in(client: aiohttp.ClientSession, base: str, name: str, password: str) -> int:
    """Fill in the sign-in form as a browser does; return the final status."""
    async with client.get(f"{base}/login") as page:
        token = login_token(await page.text())
    async with client.post(
        f"{base}/login", data={"name": name, "password": password, "csrf": token}
    ) as response:
        return response.status


def login_token(html: str) -> str:
    """The hidden CSRF field of the sign-in form."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the sign-in form has no CSRF field"
    return found.group(1)


async def csrf_of(client: aiohttp.ClientSession, base: str) -> str:
    """The CSRF token the dashboard page gives a signed-in browser."""
    async with client.get(f"{base}/") as page:
        return login_token(await page.text())
