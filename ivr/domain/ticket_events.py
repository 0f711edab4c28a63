"""What may happen to a ticket, and what each change tells the helpdesk.

Pure rules: a change is decided from the ticket as it stands and the time passed
in; the store applies the decision atomically. Every change is an event with a
per-ticket sequence number, so ``<ticket>/<seq>`` is an idempotency key that stays
the same however often the event is delivered or replayed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from ivr.domain.codec import to_json
from ivr.domain.records import EMERGENCY_TITLE, NewTicket, OnCallState, Ticket, TicketStatus


class EventKind(StrEnum):
    """The kinds of ticket change (the ``event`` of the helpdesk payload)."""

    CREATED = "created"
    REPEAT_CALL = "repeat_call"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    ONCALL_UNACCEPTED = "oncall_unaccepted"
    # The caller was told a journal number for a ticket Redis had in fact created
    # (its reply was lost): the journal number becomes another name of that ticket.
    ALSO_KNOWN_AS = "also_known_as"
    # A caller escalated the ticket with option 1: now an emergency (DESIGN: the
    # reseller opens a ticket in the helpdesk, then calls when the system is down).
    ESCALATED = "escalated"
    # The helpdesk's own change, taken in by the inbound sync: audited, never sent back.
    SYNCED = "synced"


class Verdict(StrEnum):
    """What became of a requested change."""

    CHANGED = "changed"
    UNCHANGED = "unchanged"  # already in that state: nothing written
    REFUSED = "refused"  # not allowed from the ticket's state
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class TicketEvent:
    """One change of a ticket, as recorded in its audit trail."""

    kind: EventKind
    seq: int
    at: dt.datetime
    by: str = ""
    note: str = ""

    def audit_entry(self) -> dict[str, str | int]:
        """The audit-trail entry (JSON-ready)."""
        return {
            "seq": self.seq,
            "event": self.kind.value,
            "at": self.at.isoformat(),
            "by": self.by,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class TicketChange:
    """A decided change: the hash fields to write and the event that says so."""

    fields: dict[str, str]
    event: TicketEvent


def idempotency_key(number: str, seq: int) -> str:
    """The key the helpdesk de-duplicates on: the same for every delivery of an event."""
    return f"ivr-ticket-{number}-{seq}"


def decide_acknowledge(
    ticket: Ticket, seq: int, by: str, at: dt.datetime
) -> TicketChange | Verdict:
    """Acknowledge an open ticket; an acknowledged one stays as it is; a resolved one refuses."""
    if ticket.status is TicketStatus.RESOLVED:
        return Verdict.REFUSED
    if ticket.status is TicketStatus.ACKNOWLEDGED:
        return Verdict.UNCHANGED
    fields = {
        "status": TicketStatus.ACKNOWLEDGED.value,
        "acknowledged_by": by,
        "acknowledged_at": at.isoformat(),
    }
    return TicketChange(fields, TicketEvent(EventKind.ACKNOWLEDGED, seq, at, by))


def decide_accept(
    ticket: Ticket, seq: int, engineer: str, at: dt.datetime
) -> TicketChange | Verdict:
    """On-call accept: the first engineer to press 1 owns the ticket, whatever the race."""
    if ticket.acknowledged_by or ticket.status is TicketStatus.RESOLVED:
        return Verdict.UNCHANGED
    fields = {
        "status": TicketStatus.ACKNOWLEDGED.value,
        "acknowledged_by": engineer,
        "acknowledged_at": at.isoformat(),
        "oncall_state": OnCallState.ACCEPTED.value,
    }
    return TicketChange(fields, TicketEvent(EventKind.ACKNOWLEDGED, seq, at, engineer, "on-call"))


def decide_unaccepted(ticket: Ticket, seq: int, repage_at: dt.datetime) -> TicketChange | Verdict:
    """The chain passed and the caller left a message: unaccepted, to be re-paged.

    Someone who took the ticket meanwhile (an engineer, or a supervisor who
    acknowledged it while the caller was still recording) wins: nothing changes.
    """
    if ticket.acknowledged_by or ticket.status is not TicketStatus.OPEN:
        return Verdict.UNCHANGED
    fields = {"oncall_state": OnCallState.UNACCEPTED.value}
    return TicketChange(
        fields, TicketEvent(EventKind.ONCALL_UNACCEPTED, seq, repage_at, note="re-paging")
    )


def decide_resolve(
    ticket: Ticket, seq: int, by: str, at: dt.datetime, note: str = ""
) -> TicketChange | Verdict:
    """Resolve an open or acknowledged ticket; a resolved one stays as it is."""
    if ticket.status is TicketStatus.RESOLVED:
        return Verdict.UNCHANGED
    fields = {
        "status": TicketStatus.RESOLVED.value,
        "resolved_by": by,
        "resolved_at": at.isoformat(),
    }
    if note:
        fields["resolution_note"] = note
    return TicketChange(fields, TicketEvent(EventKind.RESOLVED, seq, at, by, note))


def joins_open_emergency(existing: Ticket | None, reseller: str, host_id: str) -> bool:
    """A repeat call adds to the same reseller's unresolved emergency ticket for the Host ID."""
    return (
        existing is not None
        and existing.emergency
        and existing.status is not TicketStatus.RESOLVED
        and existing.reseller_account == reseller
        and existing.host_id == host_id
    )


def _lines(*parts: str) -> str:
    return "\n".join(part for part in parts if part)


def decide_repeat_call(
    ticket: Ticket, seq: int, scenario: str, call_id: str, at: dt.datetime
) -> TicketChange:
    """A repeat call: its scenario is appended and the call noted on the ticket."""
    fields = {
        "scenario": _lines(ticket.scenario, scenario),
        "recordings": _lines(ticket.recordings, scenario),
        "repeat_calls": str(ticket.repeat_calls + 1),
    }
    return TicketChange(fields, TicketEvent(EventKind.REPEAT_CALL, seq, at, note=f"call {call_id}"))


def emergency_title(title: str) -> str:
    """An escalated ticket's title: prefixed with ``EMERGENCY_TITLE``, once."""
    if title.startswith(EMERGENCY_TITLE):
        return title
    return f"{EMERGENCY_TITLE}: {title}" if title.strip() else EMERGENCY_TITLE


def escalatable(ticket: Ticket | None, reseller: str) -> bool:
    """Option 1 with a ticket in hand: only the caller's own ticket that is not resolved
    (anything else gets the same answer as a number that does not exist)."""
    return (
        ticket is not None
        and ticket.reseller_account == reseller
        and ticket.status is not TicketStatus.RESOLVED
    )


def decide_escalate(ticket: Ticket, seq: int, call: NewTicket) -> TicketChange:
    """An emergency call takes up an existing ticket that is not yet an emergency.

    ``call`` is what the call would have opened (its time, the system's tier, the
    emergency SLA due from now, the recording). The ticket becomes an emergency of
    the system's tier with the title prefixed; it is open again (an engineer must
    respond to the emergency, and the on-call engineer must be able to accept it);
    its SLA clock restarts at the call when that is sooner, or when the response it
    was waiting for had already been given (acknowledged). The recording is appended.
    """
    fields = {
        "emergency": "1",
        "title": emergency_title(ticket.title),
        "tier": call.tier.value,
        "status": TicketStatus.OPEN.value,
        "acknowledged_by": "",
        "acknowledged_at": "",
        "escalated_at": call.created.isoformat(),
        "scenario": _lines(ticket.scenario, call.scenario),
        "recordings": _lines(ticket.recordings, call.scenario),
    }
    note = f"call {call.call_id}"
    if call.sla_due is not None and sla_restarts(ticket, call.sla_due):
        fields |= {"sla_due": call.sla_due.isoformat(), "sla_from": call.created.isoformat()}
        note += f"; SLA restarted, due {call.sla_due.isoformat()}"
    return TicketChange(fields, TicketEvent(EventKind.ESCALATED, seq, call.created, note=note))


def sla_restarts(ticket: Ticket, emergency_due: dt.datetime) -> bool:
    """An escalation restarts the SLA clock when the emergency's due time is sooner than
    the ticket's (a best-effort ticket has none: any is sooner), or when the ticket no
    longer waited for a response (acknowledged)."""
    if ticket.status is not TicketStatus.OPEN or ticket.sla_due is None:
        return True
    return emergency_due < ticket.sla_due


def decide_join(ticket: Ticket, seq: int, call: NewTicket) -> TicketChange:
    """An emergency call adds to an existing ticket: a repeat call on an emergency, an
    escalation of any other."""
    if ticket.emergency:
        return decide_repeat_call(ticket, seq, call.scenario, call.call_id, call.created)
    return decide_escalate(ticket, seq, call)


def helpdesk_payload(ticket: Ticket, event: TicketEvent) -> dict[str, object]:
    """The JSON object the helpdesk webhook receives for one event: the event and the
    whole ticket after it (every field of ``Ticket``, times in ISO 8601)."""
    return {
        "idempotency_key": idempotency_key(ticket.number, event.seq),
        "event": event.kind.value,
        "event_seq": event.seq,
        "event_at": event.at.isoformat(),
        "by": event.by,
        "note": event.note,
        "ticket": to_json(ticket),
    }
