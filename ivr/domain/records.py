"""The support line's records: resellers, systems, tickets and call records.

Plain data only: no I/O, no Redis, no AGI. Times are timezone-aware datetimes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum

from ivr.domain.codec import fields_of

ACCOUNT_RE = re.compile(r"^[0-9]{3,12}$")
HOST_ID_RE = re.compile(r"^[0-9]{3,16}$")
PIN_RE = re.compile(r"^[0-9]{4,12}$")
# Caller-ID numbers as stored for recognition: digits with an optional leading +.
PHONE_RE = re.compile(r"^\+?[0-9]{3,20}$")

EMERGENCY_TITLE = "Emergency \u2013 System Down"
NORMAL_TITLE = "Support request"
WARRANTY_TITLE = "Hardware warranty request"

# The phone line numbers its own tickets from one counter, starting here so every
# number has five digits or more and is easy to read back.
FIRST_TICKET_NUMBER = 10001
# A caller keys a ticket number on the phone: at most this many digits.
KEYPAD_TICKET_DIGITS = 10


class Tier(StrEnum):
    """Support tier of a system's contract (from the vendor's published terms)."""

    STANDARD = "standard"
    PREMIUM = "premium"
    PREMIUM_PLUS = "premium_plus"


def parse_tier(text: str) -> Tier:
    """A tier as a person may write it: ``premium_plus``, ``premium-plus``,
    ``Premium Plus`` or ``premiumplus``."""
    folded = re.sub(r"[\s_-]+", "", text).lower()
    for tier in Tier:
        if tier.value.replace("_", "") == folded:
            return tier
    known = ", ".join(tier.value for tier in Tier)
    raise ValueError(f"{text!r} is not a tier (one of {known})")


class TicketKind(StrEnum):
    """What cover a ticket was opened under."""

    SUPPORT = "support"  # the support contract: the tier's SLA
    WARRANTY = "warranty"  # the hardware warranty: best effort, no SLA clock


class ResellerStatus(StrEnum):
    """Whether a reseller may use the support line."""

    ACTIVE = "active"
    SUSPENDED = "suspended"


class TicketStatus(StrEnum):
    """Lifecycle of a ticket."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class TicketSource(StrEnum):
    """Who opened a ticket: the phone line, or the helpdesk (taken in by the inbound sync)."""

    PHONE = "phone"
    HELPDESK = "helpdesk"


class OnCallState(StrEnum):
    """Where an after-hours ticket stands with the on-call chain."""

    PAGING = "paging"
    ACCEPTED = "accepted"
    UNACCEPTED = "unaccepted"


class Route(StrEnum):
    """Where the dialplan sends the call after the service has decided (IVR_ROUTE)."""

    QUEUE = "queue"
    ONCALL = "oncall"
    RENEWALS = "renewals"
    CLOSED = "closed"
    HANGUP = "hangup"


def normalize_phone(raw: str) -> str | None:
    """Canonical form of a North American caller-ID number, or None if it is not one.

    ``+1 214-555-0100``, ``12145550100`` and ``2145550100`` all become ``2145550100``;
    other numbers keep their digits (and leading ``+``) unchanged.
    """
    text = raw.strip()
    plus = text.startswith("+")
    digits = re.sub(r"[\s().-]", "", text.removeprefix("+"))
    if not digits.isdigit() or not 3 <= len(digits) <= 20:
        return None
    if len(digits) == 11 and digits.startswith("1"):
        return digits[1:]
    if len(digits) == 10:
        return digits
    return ("+" if plus else "") + digits


@dataclass(frozen=True, slots=True)
class Reseller:
    """A partner that calls on behalf of its end customers."""

    account: str
    name: str
    phones: tuple[str, ...] = ()
    status: ResellerStatus = ResellerStatus.ACTIVE

    @property
    def active(self) -> bool:
        """True when the reseller may open tickets."""
        return self.status is ResellerStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class System:
    """A customer system in the registry, keyed by its Host ID."""

    host_id: str
    reseller_account: str
    end_customer: str
    system_type: str
    software_release: str
    tier: Tier
    support_expires: dt.date
    warranty_expires: dt.date | None = None  # the original hardware warranty
    purchased: dt.date | None = None
    warranty_extended_until: dt.date | None = None  # a bought extension (at most a year)

    def covered_on(self, day: dt.date) -> bool:
        """A contract is active when ``day`` is on or before its expiry date."""
        return day <= self.support_expires


@dataclass(frozen=True, slots=True)
class TelephoneSet:
    """An Infinity telephone set (or SIP client) registered under its parent system's Host ID.

    Its own hardware warranty only: the terms exclude telephone sets and SIP clients
    from extended warranty, so a set has no extension to record.
    """

    host_id: str  # the parent system
    serial: str
    model: str
    warranty_expires: dt.date
    purchased: dt.date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewTicket:
    """What a call opens: everything a ticket holds before the store numbers it.

    Every field of a ticket is declared once, here or in ``Ticket``; the codec of
    ``ivr.domain.codec`` stores, journals and shows it with no other edit.
    """

    created: dt.datetime
    reseller_account: str
    host_id: str
    end_customer: str
    system_type: str
    software_release: str
    tier: Tier
    emergency: bool
    title: str
    sla_due: dt.datetime | None  # None: best effort (a warranty ticket), no SLA clock
    call_id: str
    scenario: str = ""  # the caller's recorded description (a sound file reference)
    kind: TicketKind = TicketKind.SUPPORT

    def numbered(self, number: str) -> Ticket:
        """The open ticket with its allocated number."""
        return Ticket(number=number, **fields_of(self))


@dataclass(frozen=True, slots=True, kw_only=True)
class Ticket(NewTicket):
    """A trouble ticket: what the call opened, its number, and where it stands."""

    number: str
    status: TicketStatus = TicketStatus.OPEN
    acknowledged_by: str = ""
    acknowledged_at: dt.datetime | None = None
    oncall_state: str = ""  # "", paging, accepted, unaccepted
    resolved_by: str = ""
    resolved_at: dt.datetime | None = None
    resolution_note: str = ""
    repeat_calls: int = 0  # later calls that added to this (emergency) ticket
    source: TicketSource = TicketSource.PHONE
    # The recordings of the calls that added to it after it was opened (an escalation,
    # repeat calls), one per line; also appended to ``scenario``. Kept apart so that a
    # helpdesk update of its call scenario keeps them.
    recordings: str = ""
    escalated_at: dt.datetime | None = None  # when a caller escalated it with option 1
    sla_from: dt.datetime | None = None  # when its SLA clock started, if not at creation
    helpdesk_updated: dt.datetime | None = None  # the helpdesk's version (its updated_at)

    @property
    def sla_start(self) -> dt.datetime:
        """When the ticket's SLA clock started: its creation, or the escalation that
        restarted it."""
        return self.sla_from or self.created


@dataclass(slots=True)
class CallRecord:
    """One record per call: what happened, step by step, and how it ended."""

    call_id: str
    started: dt.datetime
    caller_id: str
    route_name: str
    ended: dt.datetime | None = None
    steps: list[str] = field(default_factory=list)
    reseller_account: str = ""
    host_id: str = ""
    menu_choice: str = ""
    decision: str = ""
    ticket: str = ""
    outcome: str = ""

    def step(self, name: str) -> None:
        """Note that the call passed a step (``authenticated``, ``host_id``, ...)."""
        self.steps.append(name)
