"""A local ``redis-server`` the service starts and owns when no IVR_REDIS_URL is set.

It listens only on a Unix socket in the data directory (no port to clash with, no
network exposure), keeps its data there with append-only persistence, and is
shared by every ``ivr`` command of that data directory: ``ivr serve`` holds a lock
for as long as it runs, so a one-off command never stops the server under it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TextIO

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("ivr.redis")

INSTALL_HINT = "install it with: apt-get install redis-server"


class RedisUnavailable(RuntimeError):
    """The managed Redis could not be started or reached."""


def socket_path(data_dir: Path) -> Path:
    """Where the managed Redis listens."""
    return data_dir / "redis.sock"


def socket_url(data_dir: Path) -> str:
    """The redis-py URL of the managed Redis."""
    return f"unix://{socket_path(data_dir)}"


async def _alive(url: str) -> bool:
    client: Redis = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    try:
        return bool(await client.ping())
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def managed_redis(data_dir: Path, *, hold: bool) -> AsyncIterator[str]:
    """Yield the URL of the data directory's Redis, starting it if nobody runs it.

    With ``hold`` (``ivr serve``) the lock is kept until exit, so one-off commands
    use this server and never stop it. Without it, a server this call started is
    shut down (saving its data) on exit.
    """
    lock_file = await asyncio.to_thread(_open_lock, data_dir)
    url = socket_url(data_dir)
    try:
        if not hold and await _alive(url):
            yield url
            return
        await asyncio.to_thread(fcntl.flock, lock_file, fcntl.LOCK_EX)
        if await _alive(url):
            yield url
            return
        process = await _start(data_dir, quiet=not hold)
        try:
            yield url
        finally:
            await _stop(process, url)
    finally:
        lock_file.close()


def _open_lock(data_dir: Path) -> TextIO:
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return (data_dir / "redis.lock").open("a")


async def _start(data_dir: Path, *, quiet: bool) -> asyncio.subprocess.Process:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisUnavailable(f"redis-server was not found on PATH; {INSTALL_HINT}")
    sock = socket_path(data_dir)
    sock.unlink(missing_ok=True)
    args = [
        binary,
        "--port", "0",
        "--unixsocket", str(sock),
        "--unixsocketperm", "700",
        "--dir", str(data_dir),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        "--daemonize", "no",
        "--logfile", str(data_dir / "redis.log"),
    ]  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = socket_url(data_dir)
    for _ in range(100):
        if await _alive(url):
            log.log(
                logging.DEBUG if quiet else logging.INFO,
                "started redis-server (pid %s) in %s",
                process.pid,
                data_dir,
            )
            return process
        if process.returncode is not None:
            break
        await asyncio.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    err = b""
    if process.stderr is not None:
        with contextlib.suppress(TimeoutError):
            err = await asyncio.wait_for(process.stderr.read(), 2)
    raise RedisUnavailable(
        f"redis-server did not start in {data_dir}: {err.decode(errors='replace').strip()} "
        f"(see {data_dir / 'redis.log'})"
    )


async def _stop(process: asyncio.subprocess.Process, url: str) -> None:
    client: Redis = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5)
    try:
        await client.shutdown(nosave=False)
    except (RedisError, OSError):
        pass  # shutdown closes the connection under us: that is success
    finally:
        await client.aclose()
    try:
        await asyncio.wait_for(process.wait(), 10)
    except TimeoutError:
        process.kill()
        await process.wait()
