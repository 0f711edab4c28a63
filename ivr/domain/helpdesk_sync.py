"""The helpdesk's own tickets, taken in: what an event must hold, and what it may change.

The helpdesk is the system of record. It sends its ticket events to the phone line
(``POST /api/helpdesk/events``, or ``ivr helpdesk sync`` for an export), signed as
the outbound webhook is. Pure rules: parsing a body into an event, the one keypad
namespace (a number names one ticket), and the merge of an event into the ticket
the phone line keeps. Which events win is decided by the ticket's version, the
helpdesk's ``updated_at``: an older or equal one changes nothing, so events that
arrive late or twice never regress a ticket.

What the phone line added to a helpdesk ticket stays: an escalation (emergency,
the title's prefix, its SLA clock) and the callers' recordings. A helpdesk status
older than the escalation does not undo the escalation's reopening.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from ivr.domain.records import (
    ACCOUNT_RE,
    FIRST_TICKET_NUMBER,
    HOST_ID_RE,
    KEYPAD_TICKET_DIGITS,
    System,
    Ticket,
    TicketSource,
    TicketStatus,
)
from ivr.domain.ticket_events import EventKind, TicketEvent, emergency_title

MAX_BODY_BYTES = 64 * 1024
MAX_IDEMPOTENCY_KEY = 200
MAX_TEXT = 500  # title, end customer, system type, release, names
MAX_SCENARIO = 32 * 1024
NUMBER_RE = re.compile(rf"^[0-9]{{1,{KEYPAD_TICKET_DIGITS}}}$")
_KEY_RE = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces
HELPDESK = "helpdesk"  # who a helpdesk change is recorded as, when the event names nobody


class Problem(IntEnum):
    """Why an event is refused, as the HTTP status the endpoint answers."""

    MALFORMED = 400
    UNSIGNED = 401
    CONFLICT = 409
    TOO_LARGE = 413
    UNKNOWN = 422


class Rejected(Exception):
    """An event refused, with the reason its sender reads."""

    def __init__(self, problem: Problem, reason: str) -> None:
        super().__init__(reason)
        self.problem = problem
        self.reason = reason


class InboundKind(StrEnum):
    """The helpdesk's event names."""

    CREATED = "created"
    UPDATED = "updated"
    STATUS_CHANGED = "status_changed"
    RESOLVED = "resolved"


class SyncOutcome(StrEnum):
    """What an event did to the phone line's copy of the ticket."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # this version is already held
    STALE = "stale"  # older than the version held: ignored


@dataclass(frozen=True, slots=True, kw_only=True)
class HelpdeskTicket:
    """A ticket as the helpdesk describes it in an event."""

    number: str
    reseller_account: str
    host_id: str
    status: TicketStatus
    created_at: dt.datetime
    updated_at: dt.datetime
    title: str = ""
    end_customer: str = ""
    system_type: str = ""
    software_release: str = ""
    call_scenario: str = ""
    acknowledged_by: str = ""
    resolved_by: str = ""
    resolution_note: str = ""
    sla_due: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """One helpdesk event: its name, the ticket, and the key in its body (if any)."""

    kind: InboundKind
    ticket: HelpdeskTicket
    body_key: str | None = None


def check_idempotency_key(key: str) -> str:
    """The ``Idempotency-Key`` header: required, printable ASCII, at most 200 characters."""
    if not key:
        raise Rejected(Problem.MALFORMED, "the Idempotency-Key header is required")
    if len(key) > MAX_IDEMPOTENCY_KEY or not _KEY_RE.match(key):
        raise Rejected(
            Problem.MALFORMED,
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters",
        )
    return key


def parse_body(body: bytes) -> InboundEvent:
    """An event from the exact bytes the helpdesk sent (after its signature was checked)."""
    if len(body) > MAX_BODY_BYTES:
        raise Rejected(Problem.TOO_LARGE, f"the body is over {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise Rejected(Problem.MALFORMED, "the body is not UTF-8") from None
    except ValueError as exc:
        raise Rejected(Problem.MALFORMED, f"the body is not JSON: {exc}") from None
    return parse_event(data)


def event_digest(body: bytes) -> str:
    """What makes two bodies the same event for an Idempotency-Key: their JSON, not their
    spacing or key order (a body ``parse_body`` accepted)."""
    canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_event(data: object) -> InboundEvent:
    """An event from a decoded JSON value: ``{"event": ..., "ticket": {...}}``.

    A line of an export may also be the ticket object alone (then it is ``updated``,
    or ``resolved`` when its status is resolved). Unknown fields are ignored.
    """
    if not isinstance(data, dict):
        raise Rejected(Problem.MALFORMED, "the body must be a JSON object")
    if "ticket" in data:
        raw_kind, ticket = data.get("event"), data["ticket"]
        kinds = ", ".join(k.value for k in InboundKind)
        if not isinstance(raw_kind, str) or raw_kind not in set(InboundKind):
            raise Rejected(Problem.MALFORMED, f"event must be one of {kinds}")
        kind = InboundKind(raw_kind)
    else:
        ticket, kind = data, InboundKind.UPDATED
    if not isinstance(ticket, dict):
        raise Rejected(Problem.MALFORMED, "ticket must be a JSON object")
    parsed = _ticket(ticket)
    if kind is InboundKind.RESOLVED and parsed.status is not TicketStatus.RESOLVED:
        raise Rejected(Problem.MALFORMED, "a resolved event needs ticket.status resolved")
    if "ticket" not in data and parsed.status is TicketStatus.RESOLVED:
        kind = InboundKind.RESOLVED
    body_key = data.get("idempotency_key")
    if body_key is not None and not isinstance(body_key, str):
        raise Rejected(Problem.MALFORMED, "idempotency_key must be a string")
    return InboundEvent(kind, parsed, body_key)


def _ticket(raw: dict[str, object]) -> HelpdeskTicket:
    number = raw.get("number")
    if isinstance(number, int) and not isinstance(number, bool):
        number = str(number)
    if not isinstance(number, str) or not NUMBER_RE.match(number):
        raise Rejected(
            Problem.MALFORMED,
            f"ticket.number must be 1 to {KEYPAD_TICKET_DIGITS} digits (callers key it in)",
        )
    if number.startswith("0"):
        raise Rejected(
            Problem.CONFLICT,
            f"ticket number {number}: numbers starting with 0 are the phone line's own "
            "(tickets written to its journal while Redis was down)",
        )
    status = _text(raw, "status", 20, required=True)
    if status not in set(TicketStatus):
        statuses = ", ".join(s.value for s in TicketStatus)
        raise Rejected(Problem.MALFORMED, f"ticket.status must be one of {statuses}")
    sla_due = _time(raw, "sla_due") if raw.get("sla_due") not in (None, "") else None
    return HelpdeskTicket(
        number=number,
        reseller_account=_matching(raw, "reseller_account", ACCOUNT_RE, "3 to 12 digits"),
        host_id=_matching(raw, "host_id", HOST_ID_RE, "3 to 16 digits"),
        status=TicketStatus(status),
        created_at=_time(raw, "created_at"),
        updated_at=_time(raw, "updated_at"),
        title=_text(raw, "title", MAX_TEXT),
        end_customer=_text(raw, "end_customer", MAX_TEXT),
        system_type=_text(raw, "system_type", MAX_TEXT),
        software_release=_text(raw, "software_release", MAX_TEXT),
        call_scenario=_text(raw, "call_scenario", MAX_SCENARIO, lines=True),
        acknowledged_by=_text(raw, "acknowledged_by", MAX_TEXT),
        resolved_by=_text(raw, "resolved_by", MAX_TEXT),
        resolution_note=_text(raw, "resolution_note", MAX_SCENARIO, lines=True),
        sla_due=sla_due,
    )


def _text(
    raw: dict[str, object], name: str, limit: int, *, required: bool = False, lines: bool = False
) -> str:
    value = raw.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise Rejected(Problem.MALFORMED, f"ticket.{name} must be a string")
    if len(value) > limit:
        raise Rejected(Problem.MALFORMED, f"ticket.{name} is over {limit} characters")
    allowed = "\n\t" if lines else ""
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in value):
        where = "" if lines else " (line breaks included)"
        raise Rejected(Problem.MALFORMED, f"ticket.{name} holds control characters{where}")
    return value.strip()


def _matching(raw: dict[str, object], name: str, pattern: re.Pattern[str], what: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not pattern.match(value):
        raise Rejected(Problem.MALFORMED, f"ticket.{name} must be {what}")
    return value


def _time(raw: dict[str, object], name: str) -> dt.datetime:
    value = raw.get(name)
    try:
        parsed = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.utcoffset() is None:
        raise Rejected(
            Problem.MALFORMED, f"ticket.{name} must be an ISO 8601 time with its UTC offset"
        )
    return parsed


def check_owner(ticket: HelpdeskTicket, reseller_known: bool, system: System | None) -> System:
    """The ticket's reseller and Host ID must be in the registry, the system the reseller's."""
    if not reseller_known:
        raise Rejected(Problem.UNKNOWN, f"unknown reseller account {ticket.reseller_account}")
    if system is None:
        raise Rejected(Problem.UNKNOWN, f"unknown Host ID {ticket.host_id}")
    if system.reseller_account != ticket.reseller_account:
        raise Rejected(
            Problem.UNKNOWN,
            f"Host ID {ticket.host_id} is not a system of reseller {ticket.reseller_account}",
        )
    return system


def phone_allocated(number: str, sequence: int) -> bool:
    """True when the phone line's counter has handed out (or is handing out) ``number``."""
    return FIRST_TICKET_NUMBER <= int(number) <= FIRST_TICKET_NUMBER - 1 + sequence


def version_outcome(held: dt.datetime | None, incoming: dt.datetime) -> SyncOutcome | None:
    """What the version held makes of an event: stale (older), unchanged (the same
    instant), or None: newer, to be applied."""
    if held is None or incoming > held:
        return None
    return SyncOutcome.STALE if incoming < held else SyncOutcome.UNCHANGED


@dataclass(frozen=True, slots=True)
class SyncDecision:
    """What an event does: the outcome, the ticket after it, and the audit event."""

    outcome: SyncOutcome
    ticket: Ticket
    event: TicketEvent | None = None


def decide_sync(
    existing: Ticket | None,
    event: InboundEvent,
    system: System,
    *,
    sla_due: dt.datetime,
    sequence: int,
    seq: int,
    at: dt.datetime,
) -> SyncDecision:
    """Merge one event into the phone line's copy of the ticket (pure).

    ``sla_due`` is the tier's SLA from the ticket's creation (used unless the event
    names its own); ``sequence`` the phone line's counter; ``seq`` the ticket's next
    event number. Raises ``Rejected`` (409) when the number names another ticket.
    """
    incoming = event.ticket
    number = incoming.number
    if existing is not None and existing.source is not TicketSource.HELPDESK:
        raise Rejected(
            Problem.CONFLICT, f"ticket number {number} names a ticket the phone line opened"
        )
    if existing is None and phone_allocated(number, sequence):
        raise Rejected(
            Problem.CONFLICT,
            f"ticket number {number} is in the phone line's own range "
            f"({FIRST_TICKET_NUMBER} up to {FIRST_TICKET_NUMBER - 1 + sequence} so far)",
        )
    if existing is not None:
        held = version_outcome(existing.helpdesk_updated, incoming.updated_at)
        if held is not None:
            return SyncDecision(held, existing)
    ticket = _merged(existing, incoming, system, incoming.sla_due or sla_due)
    outcome = SyncOutcome.CREATED if existing is None else SyncOutcome.UPDATED
    note = f"{event.kind.value} in the helpdesk at {incoming.updated_at.isoformat()}"
    return SyncDecision(outcome, ticket, TicketEvent(EventKind.SYNCED, seq, at, HELPDESK, note))


def _merged(
    existing: Ticket | None, incoming: HelpdeskTicket, system: System, sla_due: dt.datetime
) -> Ticket:
    """The ticket after the event: the helpdesk's fields, the phone line's additions kept."""
    base = existing or Ticket(
        number=incoming.number,
        created=incoming.created_at,
        reseller_account=incoming.reseller_account,
        host_id=incoming.host_id,
        end_customer="",
        system_type="",
        software_release="",
        tier=system.tier,
        emergency=False,
        title="",
        sla_due=sla_due,
        call_id="",
        source=TicketSource.HELPDESK,
    )
    escalated = base.emergency
    scenario = "\n".join(s for s in (incoming.call_scenario, base.recordings) if s)
    merged = dataclasses.replace(
        base,
        created=incoming.created_at,
        reseller_account=incoming.reseller_account,
        host_id=incoming.host_id,
        end_customer=incoming.end_customer or system.end_customer,
        system_type=incoming.system_type or system.system_type,
        software_release=incoming.software_release or system.software_release,
        tier=system.tier,
        title=emergency_title(incoming.title) if escalated else incoming.title,
        sla_due=base.sla_due if escalated else sla_due,
        scenario=scenario,
        helpdesk_updated=incoming.updated_at,
    )
    if base.escalated_at is not None and incoming.updated_at <= base.escalated_at:
        return merged  # the status predates the escalation, which reopened the ticket
    return _with_status(merged, incoming)


def _with_status(ticket: Ticket, incoming: HelpdeskTicket) -> Ticket:
    """The helpdesk's status, with who and when (the helpdesk when it names nobody)."""
    status, when = incoming.status, incoming.updated_at
    acknowledged_by = incoming.acknowledged_by or ticket.acknowledged_by
    if status is TicketStatus.ACKNOWLEDGED:
        acknowledged_by = acknowledged_by or HELPDESK
    elif status is TicketStatus.OPEN:
        acknowledged_by = ""
    resolved = status is TicketStatus.RESOLVED
    return dataclasses.replace(
        ticket,
        status=status,
        acknowledged_by=acknowledged_by,
        acknowledged_at=(ticket.acknowledged_at or when) if acknowledged_by else None,
        resolved_by=(incoming.resolved_by or HELPDESK) if resolved else "",
        resolved_at=(ticket.resolved_at or when) if resolved else None,
        resolution_note=incoming.resolution_note if resolved else "",
    )
