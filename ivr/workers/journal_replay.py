"""The journal replay: tickets kept on local disk while Redis was away go into Redis
as soon as it answers again (``ivr.store.journal`` says how numbers stay unique)."""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError

from ivr.runtime.tasks import raise_if_cancelling
from ivr.store.journal import TicketJournal
from ivr.store.tickets import TicketStore

log = logging.getLogger("ivr.journal")

REPLAY_INTERVAL_SECONDS = 2.0


async def replay_forever(
    journal: TicketJournal, tickets: TicketStore, interval: float = REPLAY_INTERVAL_SECONDS
) -> None:
    """Replay the journal whenever it holds tickets, until cancelled (run by ``ivr serve``)."""
    waiting = False
    while True:
        if await journal.pending():
            try:
                count = await journal.replay(tickets)
            except (RedisError, OSError) as exc:
                raise_if_cancelling()
                if not waiting:
                    log.warning("journal tickets wait for Redis: %s", exc)
                    waiting = True
            else:
                waiting = False
                log.info("%d journal tickets are now in Redis", count)
        await asyncio.sleep(interval)
