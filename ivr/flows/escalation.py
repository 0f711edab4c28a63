"""Option 1 with a ticket in hand: the reseller opened a ticket (in the helpdesk, as the
vendor's terms ask) and calls because the system is down.

After authentication the caller is asked for that ticket's number, or pound. The
caller's own ticket that is not resolved is read back (number, end customer,
Host ID) and confirmed with 1: the Host ID step is skipped and the call goes on
as an emergency that escalates that ticket (``TicketStore.escalate``). A number
that does not exist, names another reseller's ticket or a resolved one gets one
and the same answer, so nothing can be enumerated; the normal emergency path
follows. The support-line flow (``ivr.flows.support_line``) calls these steps.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ivr.domain.records import KEYPAD_TICKET_DIGITS, CallRecord, NewTicket, System, Ticket
from ivr.domain.ticket_events import escalatable
from ivr.flows.channel import Channel
from ivr.flows.prompts import Prompt
from ivr.store.stores import Stores
from ivr.store.tickets import TicketStore

ENTRY_TIMEOUT = 7.0
CONFIRM_TIMEOUT = 5.0
MAX_ENTRIES = 3  # a read-back answered with 2 (or not at all) asks for the number again
SPELLED_CHARACTERS = 24  # Asterisk spells a name letter by letter: keep it short


@dataclass(frozen=True, slots=True)
class TicketInHand:
    """The ticket the caller confirmed, and the system it is for."""

    ticket: Ticket
    system: System


def spelled(name: str) -> str:
    """What ``SAY ALPHA`` spells of an end customer's name: letters, digits, spaces, short."""
    return " ".join(re.sub(r"[^A-Za-z0-9 ]", "", name).split())[:SPELLED_CHARACTERS].strip()


async def ask_ticket_in_hand(
    channel: Channel, stores: Stores, account: str, record: CallRecord
) -> TicketInHand | None:
    """Ask for the ticket the caller already has; None: none, or not one they may escalate."""
    for _ in range(MAX_ENTRIES):
        keys = await channel.read_keys(Prompt.TICKET_IN_HAND, KEYPAD_TICKET_DIGITS, ENTRY_TIMEOUT)
        if not keys.digits:
            return None  # pound (or silence): no ticket yet, the usual emergency path
        ticket = await stores.tickets.get(keys.digits) if keys.digits.isdigit() else None
        system = await stores.directory.system(ticket.host_id) if ticket is not None else None
        if system is None or not escalatable(ticket, account) or ticket is None:
            record.step("ticket_in_hand:not_found")
            await channel.play(Prompt.TICKET_IN_HAND_NOT_FOUND)
            return None
        await channel.play(Prompt.TICKET_IN_HAND_READ_BACK)
        await channel.say_digits(ticket.number)
        if name := spelled(ticket.end_customer):
            await channel.play(Prompt.TICKET_IN_HAND_CUSTOMER)
            await channel.say_alpha(name)
        await channel.play(Prompt.TICKET_IN_HAND_HOST_ID)
        await channel.say_digits(ticket.host_id)
        confirm = await channel.read_keys(Prompt.HOST_ID_CONFIRM, 1, CONFIRM_TIMEOUT)
        if confirm.digits == "1":
            record.host_id = system.host_id
            record.step("ticket_in_hand")
            return TicketInHand(ticket, system)
    return None


def opened_on(in_hand: Ticket | None, now: dt.datetime, tz: dt.tzinfo) -> dt.date:
    """The day whose contract cover counts: a ticket in hand keeps the cover it was
    opened under (opened before the expiry: covered; after it: not), a new one today's."""
    return (in_hand.created if in_hand is not None else now).astimezone(tz).date()


async def escalate_or_create(
    tickets: TicketStore,
    new: NewTicket,
    in_hand: Ticket | None,
    callback_at: dt.datetime | None,
    oncall_chain: str | None,
) -> Ticket:
    """The call's ticket: the one in hand, escalated; else (none, or resolved meanwhile)
    a new one, or the Host ID's open emergency or helpdesk ticket it joins."""
    if in_hand is not None:
        escalated = await tickets.escalate(in_hand.number, new, callback_at, oncall_chain)
        if escalated is not None:
            return escalated
    return await tickets.create(new, callback_at=callback_at, oncall_chain=oncall_chain)


async def say_response_due(
    channel: Channel, due: dt.datetime | None, now: dt.datetime, tz: dt.tzinfo
) -> None:
    """When an engineer will respond: the ticket's SLA due time or, for a ticket already
    past it (an overdue ticket escalated keeps its due time), as soon as possible. A
    best-effort (warranty) ticket has no due time: nothing is said here."""
    if due is None:
        return
    if due <= now:
        await channel.play(Prompt.SLA_RESPONSE_NOW)
        return
    await channel.play(Prompt.SLA_RESPONSE_BY)
    await channel.say_datetime(due.astimezone(tz))
