"""What a call did with its ticket, and how that is said: the one place for the wording.

An emergency call may open a ticket, add to the Host ID's open emergency (a repeat
call) or take up a ticket it did not open (an escalation). The call's log line,
the ``IVR_TICKET_JOINED`` variable, ``ivr call`` and the call tester all say it
with these words, so none of them calls a joined ticket "opened".
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from ivr.domain.records import NewTicket, Ticket
from ivr.domain.variables import Var


class TicketOutcome(StrEnum):
    """What the call did with the ticket it ends with (values are call-record steps)."""

    OPENED = "opened"
    REPEAT_CALL = "repeat_call"
    ESCALATED = "escalated"


def ticket_outcome(ticket: Ticket, new: NewTicket) -> TicketOutcome:
    """Opened by this call, a repeat call on an open emergency, or an escalation."""
    if ticket.call_id == new.call_id:
        return TicketOutcome.OPENED
    if ticket.escalated_at == new.created:
        return TicketOutcome.ESCALATED
    return TicketOutcome.REPEAT_CALL


def outcome_text(number: str, outcome: TicketOutcome) -> str:
    """``ticket 10042 opened``, ``joined ticket 10042 (repeat call)`` or
    ``escalated ticket 10042``."""
    match outcome:
        case TicketOutcome.OPENED:
            return f"ticket {number} opened"
        case TicketOutcome.REPEAT_CALL:
            return f"joined ticket {number} (repeat call)"
        case TicketOutcome.ESCALATED:
            return f"escalated ticket {number}"


def outcome_from_variable(value: str) -> TicketOutcome:
    """The outcome an ``IVR_TICKET_JOINED`` value names (unset or unknown: opened)."""
    try:
        return TicketOutcome(value)
    except ValueError:
        return TicketOutcome.OPENED


def said_of_call(variables: Mapping[str, str]) -> str:
    """What a call did with its ticket, from the variables it set ("" for no ticket)."""
    number = variables.get(Var.TICKET.value, "")
    if not number:
        return ""
    return outcome_text(number, outcome_from_variable(variables.get(Var.TICKET_JOINED.value, "")))
