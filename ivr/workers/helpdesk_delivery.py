"""Delivers outbox entries to the helpdesk webhook: signed JSON POSTs, retried, bounded.

At least once, and exactly once as the receiver sees it: every delivery of an
event carries the same ``Idempotency-Key``. Entries are delivered one at a time,
oldest first, so a ticket's events arrive in order while the helpdesk is up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from redis.exceptions import RedisError

from ivr.domain.helpdesk import (
    EVENT_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    RetryPolicy,
    sign,
)
from ivr.runtime.tasks import Retry, retry_forever
from ivr.store.outbox import Attempts, HelpdeskOutbox, OutboxEntry

log = logging.getLogger("ivr.helpdesk")

IDLE_WAIT_SECONDS = 1.0  # longest wait for a new entry before looking at retries again
REDIS_RETRY_SECONDS = 1.0  # pause after Redis could not be reached


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where and how to deliver."""

    url: str
    secret: str
    timeout_seconds: float = 10.0


def due_entries(
    pending: list[OutboxEntry], attempts: dict[str, Attempts], now: float
) -> tuple[list[OutboxEntry], float]:
    """The pending entries to try now, and the seconds until the next one is due."""
    due = [e for e in pending if attempts.get(e.entry_id, Attempts()).due <= now]
    later = [attempts[e.entry_id].due - now for e in pending if e not in due]
    return due, min([IDLE_WAIT_SECONDS, *later])


class Deliverer:
    """The consumer-group reader that POSTs each event to the webhook."""

    def __init__(
        self,
        outbox: HelpdeskOutbox,
        webhook: Webhook,
        policy: RetryPolicy,
        claim_idle_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._outbox = outbox
        self._webhook = webhook
        self._policy = policy
        self._claim_idle = claim_idle_seconds
        self._clock = clock

    async def run(self) -> None:
        """Deliver until cancelled; Redis outages are waited out, never fatal."""
        timeout = aiohttp.ClientTimeout(total=self._webhook.timeout_seconds)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            grouped = False

            async def deliver() -> None:
                nonlocal grouped
                try:
                    if not grouped:  # again after an outage: Redis may have lost the group
                        await self._outbox.ensure_group()
                        grouped = True
                    await self.step(session)
                except (RedisError, OSError):
                    grouped = False
                    raise

            retry = Retry(every=0.0, first=REDIS_RETRY_SECONDS)
            await retry_forever(deliver, name="helpdesk delivery", retry=retry, logger=log)

    async def step(self, session: aiohttp.ClientSession) -> int:
        """Claim a dead consumer's entries, retry what is due, then take new ones: how many sent."""
        await self._outbox.claim_stale(self._claim_idle)
        pending = await self._outbox.pending()
        attempts = await self._outbox.attempts([e.entry_id for e in pending])
        due, wait = due_entries(pending, attempts, self._clock())
        for entry in due:
            await self.deliver(session, entry, attempts.get(entry.entry_id, Attempts()))
        fresh = await self._outbox.new(count=20, block_seconds=wait if not due else 0.001)
        for entry in fresh:
            await self.deliver(session, entry, Attempts())
        return len(due) + len(fresh)

    async def deliver(
        self, session: aiohttp.ClientSession, entry: OutboxEntry, before: Attempts
    ) -> bool:
        """One POST; on failure note the attempt, or dead-letter it when the budget is spent."""
        body = entry.payload.encode()
        headers = {
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: entry.key,
            EVENT_HEADER: entry.kind,
            SIGNATURE_HEADER: sign(body, self._webhook.secret),
        }
        try:
            async with session.post(self._webhook.url, data=body, headers=headers) as response:
                error = "" if 200 <= response.status < 300 else f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if not error:
            await self._outbox.delivered(entry)
            log.info(
                "ticket=%s %s delivered to the helpdesk (%s)", entry.ticket, entry.kind, entry.key
            )
            return True
        count = before.count + 1
        attempts = Attempts(count, self._clock() + self._policy.delay(count), error)
        if self._policy.gives_up(count):
            await self._outbox.dead(entry, attempts)
            log.error(
                "ticket=%s %s dead-lettered after %d attempts (%s): ivr tickets redeliver",
                entry.ticket, entry.kind, count, error,
            )  # fmt: skip
        else:
            await self._outbox.failed(entry, attempts)
            log.warning(
                "ticket=%s %s not delivered (attempt %d, %s), retry in %.1f s",
                entry.ticket, entry.kind, count, error, self._policy.delay(count),
            )  # fmt: skip
        return False
