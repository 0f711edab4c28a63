"""Re-paging the on-call chain of tickets nobody accepted, through AMI Originate.

State lives in Redis (the ``REPAGE`` schedule and each ticket's round and step),
and each step is claimed atomically, so any number of workers can run a pager
and every step is paged once. Paging stops when an engineer accepts (the accept
script removes the ticket from the schedule) or after the last allowed round.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis

from ivr.ami.originate import OriginateRequest, Originator
from ivr.domain.oncall import chain_entry, chain_length
from ivr.domain.variables import Var
from ivr.runtime.tasks import Retry, retry_forever
from ivr.store import keys
from ivr.store.tickets import TicketStore

log = logging.getLogger("ivr.workers.repager")

# Claim the next step of a due ticket: returns {round, step}, {0, 0} when the
# rounds are used up, or nil when it is not due (or another worker took it).
_CLAIM = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return nil end
local accepted = redis.call('HGET', KEYS[2], 'acknowledged_by')
if accepted and accepted ~= '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return nil
end
local step = tonumber(redis.call('HGET', KEYS[2], 'repage_step') or '0') + 1
local round = tonumber(redis.call('HGET', KEYS[2], 'repage_round') or '1')
if step > tonumber(ARGV[3]) then
  step = 1
  round = round + 1
end
if round > tonumber(ARGV[4]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return {0, 0}
end
redis.call('HSET', KEYS[2], 'repage_step', step, 'repage_round', round)
redis.call('ZADD', KEYS[1], ARGV[5], ARGV[1])
return {round, step}
"""


@dataclass(frozen=True, slots=True)
class PagingPolicy:
    """How often and how many times to page."""

    max_rounds: int = 3
    round_gap: dt.timedelta = dt.timedelta(minutes=5)
    answer_margin: dt.timedelta = dt.timedelta(seconds=20)
    context: str = "ivr-oncall-page"


class Pager:
    """Pages the next step of every due unaccepted ticket."""

    def __init__(
        self,
        redis: Redis,
        tickets: TicketStore,
        originator: Originator,
        policy: PagingPolicy,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self._redis = redis
        self._tickets = tickets
        self._originator = originator
        self._policy = policy
        self._clock = clock
        self._claim = redis.register_script(_CLAIM)

    async def tick(self) -> int:
        """Page every due step once; return how many pages were sent."""
        now = self._clock()
        due = cast(list[str], await self._redis.zrangebyscore(keys.REPAGE, "-inf", now.timestamp()))
        sent = 0
        for number in due:
            sent += await self._page(number, now)
        return sent

    async def _page(self, number: str, now: dt.datetime) -> int:
        chain_json = await self._tickets.oncall_chain(number)
        steps = chain_length(chain_json)
        if steps == 0:
            await self._redis.zrem(keys.REPAGE, number)
            await self._note(number, now, "0", "0", "", "no on-call chain to page")
            return 0
        # The claim pushes the ticket a lease into the future so that no other
        # worker pages the same step; the exact next time is set just after.
        lease = now + dt.timedelta(minutes=10)
        claimed = await self._claim(
            keys=[keys.REPAGE, keys.ticket(number)],
            args=[number, now.timestamp(), steps, self._policy.max_rounds, lease.timestamp()],
        )
        if claimed is None:
            return 0
        round_, step = (str(int(x)) for x in claimed)
        if round_ == "0":
            log.warning(
                "ticket %s: nobody accepted after %d rounds", number, self._policy.max_rounds
            )
            await self._note(number, now, "0", "0", "", "gave up: rounds used up")
            return 0
        engineer = chain_entry(chain_json, step)
        timeout = int(engineer.get("timeout", "30") or 30)
        wait = dt.timedelta(seconds=timeout) + self._policy.answer_margin
        if int(step) == steps:
            wait = max(wait, self._policy.round_gap)
        await self._redis.zadd(keys.REPAGE, {number: (now + wait).timestamp()}, xx=True)
        ok = await self._originator.originate(
            OriginateRequest(
                channel=engineer.get("dial", ""),
                context=self._policy.context,
                exten="s",
                timeout_seconds=timeout,
                variables={Var.TICKET: number, Var.ONCALL_STEP: step, Var.PAGE_ROUND: round_},
            )
        )
        outcome = "paged" if ok else "originate failed"
        log.info(
            "ticket %s round %s step %s (%s): %s",
            number,
            round_,
            step,
            engineer.get("name"),
            outcome,
        )
        await self._note(number, now, round_, step, engineer.get("name", ""), outcome)
        return 1 if ok else 0

    async def _note(
        self, number: str, now: dt.datetime, round_: str, step: str, engineer: str, outcome: str
    ) -> None:
        await self._tickets.log_paging(
            number,
            {"at": now.isoformat(), "round": round_, "step": step, "engineer": engineer,
             "outcome": outcome, "via": "originate"},
        )  # fmt: skip

    async def run(self, interval: float = 5.0) -> None:
        """Tick forever (cancel to stop); a failed tick is logged and retried."""
        await retry_forever(
            self.tick, name="re-paging", retry=Retry(every=interval, first=interval), logger=log
        )
