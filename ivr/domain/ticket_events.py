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
from ivr.domain.records import OnCallState, Ticket, TicketStatus


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


def decide_repeat_call(
    ticket: Ticket, seq: int, scenario: str, call_id: str, at: dt.datetime
) -> TicketChange:
    """A repeat call: its scenario is appended and the call noted on the ticket."""
    scenarios = "\n".join(s for s in (ticket.scenario, scenario) if s)
    fields = {"scenario": scenarios, "repeat_calls": str(ticket.repeat_calls + 1)}
    return TicketChange(fields, TicketEvent(EventKind.REPEAT_CALL, seq, at, note=f"call {call_id}"))


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
