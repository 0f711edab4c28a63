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
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from redis.exceptions import RedisError

from ivr.channel import CallHungUp, Channel, ChannelFailure
from ivr.domain.records import Route, Ticket
from ivr.prompts import Prompt
from ivr.store.tickets import TicketStore
from ivr.variables import Var

log = logging.getLogger("ivr.flows.oncall")

ACCEPT_TIMEOUT = 8.0
ACCEPT_TRIES = 2
MESSAGE_SECONDS = 120


@dataclass(frozen=True, slots=True)
class OnCallDeps:
    """What the on-call routes need."""

    tickets: TicketStore
    clock: Callable[[], dt.datetime]
    repage_delay: dt.timedelta = dt.timedelta(minutes=5)


def chain_entry(chain_json: str, step: str) -> dict[str, str]:
    """The engineer of a chain step ("1".."3") from the ticket's stored chain."""
    try:
        chain = json.loads(chain_json) if chain_json else []
        index = int(step) - 1
    except ValueError:
        return {}
    if not isinstance(chain, list) or not 0 <= index < len(chain):
        return {}
    entry = chain[index]
    return {str(k): str(v) for k, v in entry.items()} if isinstance(entry, dict) else {}


def chain_length(chain_json: str) -> int:
    """How many steps the ticket's stored chain has."""
    try:
        chain = json.loads(chain_json) if chain_json else []
    except ValueError:
        return 0
    return len(chain) if isinstance(chain, list) else 0


class OnCallAccept:
    """Route ``oncall-accept?ticket=N&step=K[&round=R]``, on the engineer's channel."""

    def __init__(self, deps: OnCallDeps) -> None:
        self._deps = deps

    async def __call__(self, channel: Channel, query: Mapping[str, str]) -> None:
        """Offer the ticket; set IVR_ACCEPTED to 1 only if this engineer took it."""
        number = query.get("ticket", "")
        step = query.get("step", "")
        outcome = "error"
        engineer: dict[str, str] = {}
        try:
            ticket = await self._deps.tickets.get(number) if number.isdigit() else None
            if ticket is not None:
                engineer = chain_entry(await self._deps.tickets.oncall_chain(number), step)
                if step == "manager":  # an SLA page to the support manager (ivr/sla_watch.py)
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
        deps = self._deps
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
                if await deps.tickets.accept(ticket.number, engineer, deps.clock()):
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
            "at": self._deps.clock().isoformat(),
            "step": step,
            "round": round_,
            "engineer": engineer.get("name", ""),
            "outcome": outcome,
        }
        try:
            await self._deps.tickets.log_page(number, entry)
        except (RedisError, OSError) as exc:
            log.error("ticket %s page attempt not logged: %s", number, exc)


class OnCallMessage:
    """Route ``oncall-message?ticket=N``: the chain passed; take a message, schedule re-pages."""

    def __init__(self, deps: OnCallDeps) -> None:
        self._deps = deps

    async def __call__(self, channel: Channel, query: Mapping[str, str]) -> None:
        """Record the caller's message; mark the ticket unaccepted even if they hang up."""
        number = query.get("ticket", "")
        ticket = None
        try:
            ticket = await self._deps.tickets.get(number) if number.isdigit() else None
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
            await self._deps.tickets.mark_unaccepted(
                number, self._deps.clock() + self._deps.repage_delay
            )
        except (RedisError, OSError) as exc:
            log.error("ticket %s unaccepted but re-paging not scheduled: %s", number, exc)
            return
        log.warning("ticket %s unaccepted by the whole chain: re-paging scheduled", number)
