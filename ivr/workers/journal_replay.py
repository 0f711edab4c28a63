"""The journal replay: tickets kept on local disk while Redis was away go into Redis
as soon as it answers again (``ivr.store.journal`` says how numbers stay unique)."""

from __future__ import annotations

import logging

from ivr.runtime.tasks import Retry, retry_forever
from ivr.store.journal import TicketJournal
from ivr.store.tickets import TicketStore

log = logging.getLogger("ivr.journal")

REPLAY_INTERVAL_SECONDS = 2.0


async def replay_forever(
    journal: TicketJournal, tickets: TicketStore, interval: float = REPLAY_INTERVAL_SECONDS
) -> None:
    """Replay the journal whenever it holds tickets, until cancelled (run by ``ivr serve``)."""

    async def replay() -> None:
        if await journal.pending():
            count = await journal.replay(tickets)
            log.info("%d journal tickets are now in Redis", count)

    await retry_forever(
        replay, name="journal replay", retry=Retry(every=interval, first=interval), logger=log
    )
