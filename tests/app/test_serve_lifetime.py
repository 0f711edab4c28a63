"""``ivr serve``'s lifetime in-process: a start that fails or is cancelled leaves nothing.

Whatever stops the start-up (the AMI consumer failing, a Ctrl-C while the AMI
login hangs), every part already running is stopped: no listening FastAGI
socket, no background task.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from ivr import app
from ivr.config import Settings
from tests.support.fake_ami import FakeAmi
from tests.support.harness import free_port, wait_for

SECRET = "s3cret-for-tests"


@pytest.fixture
async def silent_ami() -> AsyncIterator[int]:
    """A TCP port that accepts and never sends the AMI banner: the login hangs."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


def _service(tmp_path: Path, redis_url: str, ami_port: int) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        redis_url=redis_url,
        agi_host="127.0.0.1",
        agi_port=free_port(),
        web_host="127.0.0.1",
        web_port=free_port(),
        ami_host="127.0.0.1",
        ami_port=ami_port,
        ami_secret=SECRET,
        lag_probe_file=str(tmp_path / "lag.json"),
    )


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _ours(before: set[asyncio.Task[object]]) -> set[asyncio.Task[object]]:
    """Tasks started since ``before`` that are still running (this test's own excepted)."""
    return {t for t in asyncio.all_tasks() if t not in before and not t.done()} - {
        asyncio.current_task()
    }


async def test_a_failing_ami_start_stops_everything_started_before_it(
    tmp_path: Path, redis_url: str, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The consumer's start fails after FastAGI, the lag probe and the pager are up."""
    fake = FakeAmi(secret=SECRET)
    settings = _service(tmp_path, redis_url, await fake.start())

    async def refused(*_args: object) -> None:
        assert _listening(settings.agi_port)  # FastAGI was up when AMI failed
        raise OSError("AMI consumer could not start")

    monkeypatch.setattr(app, "start_consumer", refused)
    before = set(asyncio.all_tasks())
    try:
        with pytest.raises(OSError, match="AMI consumer could not start"):
            await app.serve(settings)
        assert not _listening(settings.agi_port)
        await wait_for(lambda: not _ours(before), timeout=5.0)
        assert (tmp_path / "lag.json").exists()  # the probe was stopped and wrote its samples
    finally:
        await fake.close()


async def test_cancelled_while_the_ami_login_hangs_leaves_nothing_running(
    tmp_path: Path, redis_url: str, redis: Redis, silent_ami: int
) -> None:
    """Ctrl-C during the pager's AMI login: FastAGI closed, probe and AMI link stopped."""
    settings = _service(tmp_path, redis_url, silent_ami)
    before = set(asyncio.all_tasks())
    serving = asyncio.create_task(app.serve(settings))
    await wait_for(lambda: _listening(settings.agi_port), timeout=10.0)
    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving
    assert not _listening(settings.agi_port)
    await wait_for(lambda: not _ours(before), timeout=5.0)
