"""What the command bodies share: the stores over the configured Redis, and output."""

from __future__ import annotations

import contextlib
import sys
import urllib.parse
from collections.abc import AsyncIterator

from ivr.config import Settings
from ivr.services import build_stores, open_redis
from ivr.store.stores import Stores


@contextlib.asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Stores]:
    """Redis (the configured one, or the data directory's own) and every store over it,
    for the length of one command."""
    async with open_redis(settings) as redis:
        yield build_stores(redis, settings)


def fail(message: str, status: int = 1) -> int:
    """Say what went wrong on stderr (``ivr: ...``); return the exit status."""
    print(f"ivr: {message}", file=sys.stderr)
    return status


def store_name(settings: Settings) -> str:
    """Which Redis a command reads, in words (a password in its URL hidden)."""
    if settings.redis_url:
        return f"Redis at {shown_url(settings.redis_url)} (IVR_REDIS_URL)"
    return f"the store in {settings.data_dir}"


def has_store(settings: Settings) -> bool:
    """Whether the data directory held a store before this command (always, with
    IVR_REDIS_URL): a read in an empty one started a fresh, empty Redis."""
    data = settings.data_dir
    return bool(settings.redis_url) or any(
        (data / name).exists() for name in ("appendonlydir", "dump.rdb")
    )


def shown_url(url: str) -> str:
    """The URL as it may be printed: a password in it (``:pw@`` or ``?password=``) is ``***``."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is not None:
        host = parts.netloc.rpartition("@")[2]
        parts = parts._replace(netloc=f"{parts.username or ''}:***@{host}")
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if any(name == "password" for name, _ in pairs):
        hidden = [(name, "***" if name == "password" else value) for name, value in pairs]
        parts = parts._replace(query=urllib.parse.urlencode(hidden, safe="*"))
    if parts == urllib.parse.urlsplit(url):
        return url
    # Built by hand: urlunsplit would turn unix:///path into unix:/path.
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}{parts.path}{query}"
