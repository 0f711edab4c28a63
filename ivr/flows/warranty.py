"""Main menu option 4 of the support line: a hardware warranty request or replacement.

The caller has been authenticated and has confirmed the Host ID (``support_line``
does both, as for every option). Cover is the system's hardware warranty, not its
support contract: active, the fault is recorded and a ``warranty`` ticket opened
with a best-effort response (no SLA clock), then the warranty queue in Standard
hours or a callback; not active, the caller is told so with the date and handed
to renewals (a warranty lead in the reports). The flow speaks only to the
``Channel`` and the stores; the support line turns its outcome into the dialplan's
variables.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from redis.exceptions import RedisError

from ivr.domain.records import (
    WARRANTY_TITLE,
    CallRecord,
    NewTicket,
    Route,
    System,
    Ticket,
    TicketKind,
)
from ivr.domain.routing import Decision, QueueNames, route_warranty
from ivr.domain.warranty import warranty_cover, warranty_instead
from ivr.flows.channel import Channel
from ivr.flows.prompts import Prompt
from ivr.store.stores import Stores

log = logging.getLogger("ivr.flows.warranty")

MENU_OPTION = "4"
OFFER_TIMEOUT = 5.0
RECORD_SECONDS = 120
RECORD_SILENCE_SECONDS = 5


@dataclass(frozen=True, slots=True)
class WarrantyOutcome:
    """Where the request ends: the routing decision and the ticket opened, if any."""

    decision: Decision
    ticket: Ticket | None = None


async def offer_instead(channel: Channel, system: System, day: dt.date) -> bool:
    """On an expired contract whose warranty is active, offer option 4: True if 4 was pressed."""
    if not warranty_instead(system, day):
        return False
    keys = await channel.read_keys(Prompt.WARRANTY_INSTEAD, 1, OFFER_TIMEOUT)
    return keys.digits == MENU_OPTION


class WarrantyRequest:
    """One caller's warranty request, for one confirmed system."""

    def __init__(
        self,
        stores: Stores,
        queues: QueueNames,
        channel: Channel,
        record: CallRecord,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.stores = stores
        self.queues = queues
        self.channel = channel
        self.record = record
        self.clock = clock

    async def run(self, account: str, system: System) -> WarrantyOutcome:
        """Check the warranty; record the fault and open the ticket, or send to renewals."""
        channel = self.channel
        now = self.clock()
        calendar = await self.stores.calendars.calendar(now)
        cover = warranty_cover(system, now.astimezone(calendar.tz).date())
        if not cover.active:
            self.record.step("warranty:expired")
            await channel.play(Prompt.WARRANTY_NOT_COVERED)
            if cover.until is not None:
                await channel.play(Prompt.WARRANTY_ENDED_ON)
                await channel.say_date(cover.until)
            await channel.play(Prompt.TRANSFER_RENEWALS)
            return WarrantyOutcome(route_warranty(now, calendar, self.queues, covered=False))
        self.record.step("warranty:active")
        if cover.extended:
            await channel.play(Prompt.WARRANTY_EXTENSION_ONLY)
        await channel.play(Prompt.DESCRIBE_HARDWARE_FAULT)
        recording = await channel.record(channel.call_id, RECORD_SECONDS, RECORD_SILENCE_SECONDS)
        now = self.clock()
        decision = route_warranty(now, calendar, self.queues)
        new = NewTicket(
            created=now,
            reseller_account=account,
            host_id=system.host_id,
            end_customer=system.end_customer,
            system_type=system.system_type,
            software_release=system.software_release,
            tier=system.tier,
            emergency=False,
            title=WARRANTY_TITLE,
            sla_due=None,  # best effort: no SLA clock, no SLA alerts
            call_id=channel.call_id,
            scenario=recording.path,
            kind=TicketKind.WARRANTY,
        )
        callback_at = decision.next_opening if decision.route is Route.CLOSED else None
        ticket = await self._create(new, callback_at)
        self.record.ticket = ticket.number
        self.record.step("ticket")
        log.info(
            "call=%s warranty ticket %s opened route=%s",
            self.record.call_id, ticket.number, decision.route.value,
        )  # fmt: skip
        await channel.play(Prompt.WARRANTY_TICKET_CREATED)
        await channel.say_digits(ticket.number)
        await channel.play(Prompt.WARRANTY_BEST_EFFORT)
        await announce(channel, decision, calendar.tz)
        return WarrantyOutcome(decision, ticket)

    async def _create(self, new: NewTicket, callback_at: dt.datetime | None) -> Ticket:
        """Open the ticket in Redis or, if Redis went away mid-call, in the journal."""
        try:
            return await self.stores.tickets.create(new, callback_at=callback_at)
        except RedisError as exc:
            if self.stores.journal is None:
                raise
            ticket = await self.stores.journal.append(new, callback_at)
            log.error(
                "call=%s Redis unreachable opening the warranty ticket (%s): journaled as %s",
                self.record.call_id, exc, ticket.number,
            )  # fmt: skip
            return ticket


async def announce(channel: Channel, decision: Decision, tz: dt.tzinfo) -> None:
    """Tell a warranty caller where the call goes: the warranty team, or the callback time."""
    if decision.route is Route.QUEUE:
        await channel.play(Prompt.TRANSFER_WARRANTY)
    elif decision.route is Route.CLOSED and decision.next_opening is not None:
        await channel.play(Prompt.CLOSED_WARRANTY)
        await channel.play(Prompt.CALLBACK_SCHEDULED)
        await channel.say_datetime(decision.next_opening.astimezone(tz))
        await channel.play(Prompt.GOODBYE)
