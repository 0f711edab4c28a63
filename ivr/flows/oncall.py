"""Routes of the after-hours on-call path.

- ``oncall-accept``: runs on the engineer's channel (Dial's screening gosub, or a
  re-page originated through AMI): the ticket summary, then **1** to accept.
  The first engineer to accept owns the ticket; every attempt is logged.
- ``oncall-message``: runs on the caller's channel when the whole chain passed:
  the caller leaves a message, the ticket is marked unaccepted and re-paging is
  scheduled.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping

from redis.exceptions import RedisError

from ivr.domain.oncall import chain_entry
from ivr.domain.records import Route, Ticket
from ivr.domain.variables import Var
from ivr.flows.channel import CallHungUp, Channel, ChannelFailure
from ivr.flows.prompts import Prompt
from ivr.store.tickets import TicketStore

log = logging.getLogger("ivr.flows.oncall")

ACCEPT_TIMEOUT = 8.0
ACCEPT_TRIES = 2
MESSAGE_SECONDS = 120
# The first re-page of a ticket nobody accepted.
REPAGE_DELAY = dt.timedelta(minutes=5)


class OnCallAccept:
    """Route ``oncall-accept?ticket=N&step=K[&round=R]``, on the engineer's channel."""

    def __init__(self, tickets: TicketStore, clock: Callable[[], dt.datetime]) -> None:
        self._tickets = tickets
        self._clock = clock

    async def __call__(self, channel: Channel, query: Mapping[str, str]) -> None:
        """Offer the ticket; set IVR_ACCEPTED to 1 only if this engineer took it."""
        number = query.get("ticket", "")
        step = query.get("step", "")
        outcome = "error"
        engineer: dict[str, str] = {}
        try:
            ticket = await self._tickets.get(number) if number.isdigit() else None
            if ticket is not None:
                engineer = chain_entry(await self._tickets.oncall_chain(number), step)
                if step == "manager":  # an SLA page to the support manager (workers/sla_watch)
                    engineer = {"name": "support manager"}
            outcome = await self._offer(channel, ticket, engineer.get("name", f"step {step}"))
        except CallHungUp:
            outcome = "hangup"
        except (ChannelFailure, RedisError, OSError) as exc:
            log.error("call=%s oncall-accept failed: %s", channel.call_id, exc)
        finally:
            if number.isdigit():
                await self._log(number, step, query.get("round", "0"), engineer, outcome)

    async def _offer(self, channel: Channel, ticket: Ticket | None, engineer: str) -> str:
        await channel.answer()
        if ticket is None:
            await channel.play(Prompt.GOODBYE)
            await channel.set_variable(Var.ACCEPTED, "0")
            return "no-ticket"
        if ticket.acknowledged_by:
            await channel.play(Prompt.ONCALL_ALREADY_ACCEPTED)
            await channel.set_variable(Var.ACCEPTED, "0")
            return "already-accepted"
        await channel.play(Prompt.ONCALL_SUMMARY)
        await channel.say_digits(ticket.number)
        await channel.play(Prompt.ONCALL_HOST_ID)
        await channel.say_digits(ticket.host_id)
        for _ in range(ACCEPT_TRIES):
            keys = await channel.read_keys(Prompt.ONCALL_PRESS_1, 1, ACCEPT_TIMEOUT)
            if keys.digits == "1":
                if await self._tickets.accept(ticket.number, engineer, self._clock()):
                    log.info("ticket %s accepted by %s", ticket.number, engineer)
                    await channel.play(Prompt.ONCALL_ACCEPTED)
                    await channel.set_variable(Var.ACCEPTED, "1")
                    return "accepted"
                await channel.play(Prompt.ONCALL_ALREADY_ACCEPTED)
                await channel.set_variable(Var.ACCEPTED, "0")
                return "already-accepted"
            if keys.digits:
                break  # any other key passes it on
        await channel.set_variable(Var.ACCEPTED, "0")
        return "declined" if keys.digits else "no-answer"

    async def _log(
        self, number: str, step: str, round_: str, engineer: dict[str, str], outcome: str
    ) -> None:
        entry = {
            "at": self._clock().isoformat(),
            "step": step,
            "round": round_,
            "engineer": engineer.get("name", ""),
            "outcome": outcome,
        }
        try:
            await self._tickets.log_paging(number, entry)
        except (RedisError, OSError) as exc:
            log.error("ticket %s page attempt not logged: %s", number, exc)


class OnCallMessage:
    """Route ``oncall-message?ticket=N``: the chain passed; take a message, schedule re-pages."""

    def __init__(
        self,
        tickets: TicketStore,
        clock: Callable[[], dt.datetime],
        repage_delay: dt.timedelta = REPAGE_DELAY,
    ) -> None:
        self._tickets = tickets
        self._clock = clock
        self._repage_delay = repage_delay

    async def __call__(self, channel: Channel, query: Mapping[str, str]) -> None:
        """Record the caller's message; mark the ticket unaccepted even if they hang up."""
        number = query.get("ticket", "")
        ticket = None
        try:
            ticket = await self._tickets.get(number) if number.isdigit() else None
            if ticket is None:
                await channel.play(Prompt.TRANSFER_GENERAL)
                await channel.set_variable(Var.ROUTE, Route.QUEUE.value)
                return
            await channel.play(Prompt.ONCALL_LEAVE_MESSAGE)
            await channel.record(f"{channel.call_id}-message", MESSAGE_SECONDS, 5)
            await channel.play(Prompt.ONCALL_MESSAGE_TAKEN)
            await channel.set_variable(Var.ROUTE, Route.HANGUP.value)
        except CallHungUp:
            log.info("call=%s hung up while leaving a message", channel.call_id)
        except ChannelFailure as exc:
            log.error("call=%s oncall-message failed: %s", channel.call_id, exc)
        finally:
            if ticket is not None and not ticket.acknowledged_by:
                await self._unaccepted(ticket.number)

    async def _unaccepted(self, number: str) -> None:
        try:
            marked = await self._tickets.mark_unaccepted(number, self._clock() + self._repage_delay)
        except (RedisError, OSError) as exc:
            log.error("ticket %s unaccepted but re-paging not scheduled: %s", number, exc)
            return
        if not marked:
            log.info("ticket %s was taken while the caller left a message: no re-paging", number)
            return
        log.warning("ticket %s unaccepted by the whole chain: re-paging scheduled", number)
