"""Shared fixtures: a real redis-server per test session, stores, a FastAGI server.

Every teardown is bounded (``tests/support/stopping.py``): a part that does not stop
fails the test by name instead of hanging the suite."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from redis.asyncio import Redis

from ivr.agi.simulator import CallResult, FakeAsterisk, SimulatedCall
from ivr.config import Settings
from ivr.demo import load_demo
from ivr.services import build_agi_server, build_stores, redis_client
from ivr.store.pins import PinHasher
from ivr.store.stores import Stores
from tests.support.harness import OPEN_HOURS, Clock, Line
from tests.support.helpdesk_receiver import Receiver
from tests.support.pin_guard import PinGuard, PinGuardHandler, collect_pins
from tests.support.redis_server import redis_server
from tests.support.stopping import STOP_SECONDS, within


@pytest.fixture(scope="session", autouse=True)
def pin_guard() -> Iterator[PinGuard]:
    """Every log record of the whole suite (and what tests add) is checked for PINs.

    The session fails at its end if any PIN the suite uses reached a log line, a
    subprocess's output that a test handed over, or a Redis value (see
    ``tests/support/pin_guard.py`` for the rule).
    """
    guard = PinGuard(collect_pins())
    handler = PinGuardHandler(guard)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield guard
    finally:
        root.removeHandler(handler)
    assert guard.leaks == [], "PINs leaked:\n" + "\n".join(guard.leaks[:50])


@pytest.fixture(scope="session", autouse=True)
def _variables_guarded(pin_guard: PinGuard) -> Iterator[None]:
    """Every channel variable any simulated call of the suite saw is checked for PINs
    (AMI broadcasts channel variables: a PIN must never be one)."""
    place = FakeAsterisk.place

    async def guarded(self: FakeAsterisk, call: SimulatedCall, timeout: float = 60.0) -> CallResult:
        result = await place(self, call, timeout)
        for name, value in result.variables.items():
            pin_guard.check(f"{name}={value}", "channel variable of a simulated call")
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FakeAsterisk, "place", guarded)
        yield


@pytest.fixture(autouse=True)
def _log_everything() -> Iterator[None]:
    """Every level reaches the PIN guard; a handler an in-process ``main()`` added goes after."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    yield
    for handler in [h for h in root.handlers if getattr(h, "_ivr_handler", False)]:
        root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free port, started for this test session."""
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
async def redis(
    redis_url: str, pin_guard: PinGuard, request: pytest.FixtureRequest
) -> AsyncIterator[Redis]:
    """A client of the session's Redis, emptied before the test (every database: the call
    tester's scratch one too); its data checked for PINs after."""
    client = redis_client(redis_url)
    await client.flushall()
    try:
        yield client
        await pin_guard.check_redis(client, request.node.nodeid)
    finally:
        await within("the test's Redis client", client.aclose(), STOP_SECONDS)


@pytest.fixture(scope="session")
def fast_pins() -> PinHasher:
    """argon2id with small costs: the same code path, fast enough for many tests."""
    return PinHasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default settings with a private data directory."""
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
async def stores(redis: Redis, settings: Settings, fast_pins: PinHasher) -> Stores:
    """Stores over the test Redis, loaded with the demo data."""
    built = build_stores(redis, settings, pins=fast_pins)
    await load_demo(built.directory, built.pins)
    return built


@pytest.fixture
def clock() -> Clock:
    """Wednesday 10:00 in Chicago unless the test moves it."""
    return Clock(OPEN_HOURS)


@pytest.fixture
async def line(stores: Stores, settings: Settings, clock: Clock) -> AsyncIterator[Line]:
    """A FastAGI server on a free loopback port running every route."""
    server = build_agi_server(stores, settings, clock)
    host, port = await server.start("127.0.0.1", 0)
    try:
        yield Line(server, host, port)
    finally:
        await within("the FastAGI server", server.close(), STOP_SECONDS)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """The helpdesk webhook, listening on a free loopback port."""
    hook = Receiver()
    await hook.start()
    try:
        yield hook
    finally:
        await within("the helpdesk receiver", hook.stop(), STOP_SECONDS)
