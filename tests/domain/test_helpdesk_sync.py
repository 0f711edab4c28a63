"""The pure rules of the helpdesk's events and of escalation: parsing, versions, the keypad
namespace, and what the phone line's additions keep across the helpdesk's updates."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from ivr.domain.helpdesk_sync import (
    InboundKind,
    Problem,
    Rejected,
    SyncOutcome,
    decide_sync,
    parse_body,
    parse_event,
)
from ivr.domain.records import (
    EMERGENCY_TITLE,
    System,
    Ticket,
    TicketSource,
    TicketStatus,
    Tier,
)
from ivr.domain.ticket_events import (
    EventKind,
    decide_escalate,
    emergency_title,
    escalatable,
    sla_restarts,
)
from tests.support.harness import OPEN_HOURS
from tests.support.helpdesk_sender import helpdesk_ticket
from tests.support.tickets import new_ticket

BAKER = System("234567", "1001", "Baker Law Offices", "UCX250", "6.9.0", Tier.PREMIUM,
               dt.date(2030, 6, 30))  # fmt: skip
DUE = OPEN_HOURS + dt.timedelta(hours=4)


def event(kind: str = "created", **ticket: object) -> object:
    """A decoded event body."""
    return {"event": kind, "ticket": helpdesk_ticket(**ticket)}  # type: ignore[arg-type]


def decide(existing: Ticket | None, body: object, sequence: int = 0) -> Ticket:
    """The ticket after one event (the test fails on a rejection)."""
    decision = decide_sync(existing, parse_event(body), BAKER, sla_due=DUE, sequence=sequence,
                           seq=1, at=OPEN_HOURS)  # fmt: skip
    return decision.ticket


def test_a_bare_ticket_line_is_an_update_or_a_resolution() -> None:
    """Export lines may be tickets alone; numbers may be JSON numbers; unknown fields pass."""
    line = helpdesk_ticket(number=77001, status="resolved", colour="green")  # type: ignore[arg-type]
    parsed = parse_event(line)
    assert (parsed.kind, parsed.ticket.number, parsed.ticket.status) == (
        InboundKind.RESOLVED, "77001", TicketStatus.RESOLVED,
    )  # fmt: skip
    assert parse_event(helpdesk_ticket()).kind is InboundKind.UPDATED


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"event": "created"}', Problem.MALFORMED),
        (b'{"event": "created", "ticket": []}', Problem.MALFORMED),
        (b'{"event": "created", "ticket": {"number": true}}', Problem.MALFORMED),
        (b"x" * (64 * 1024 + 1), Problem.TOO_LARGE),
    ],
)
def test_parse_refusals(body: bytes, problem: Problem) -> None:
    """Each refusal carries its problem (the HTTP status) and a reason."""
    with pytest.raises(Rejected) as caught:
        parse_body(body)
    assert caught.value.problem is problem
    assert caught.value.reason


def test_created_takes_the_helpdesk_fields_and_the_registry_fills_gaps() -> None:
    """A new ticket: the helpdesk's, of the system's tier with its SLA; blanks from the registry."""
    ticket = decide(None, event(end_customer="", system_type=""))
    assert ticket.source is TicketSource.HELPDESK
    assert (ticket.end_customer, ticket.system_type, ticket.tier) == (
        "Baker Law Offices", "UCX250", Tier.PREMIUM,
    )  # fmt: skip
    assert (ticket.sla_due, ticket.emergency, ticket.call_id) == (DUE, False, "")
    own = decide(None, event(sla_due="2026-11-27T09:00:00-06:00"))
    assert own.sla_due is not None
    assert own.sla_due.isoformat() == "2026-11-27T09:00:00-06:00"


def test_versions_decide_between_events() -> None:
    """Newer applies, the same version is unchanged, an older one is stale (ignored)."""
    first = decide(None, event(updated_at="2026-11-20T10:00:00-06:00"))
    for updated, outcome in (("2026-11-20T10:00:00-06:00", SyncOutcome.UNCHANGED),
                             ("2026-11-20T09:59:59-06:00", SyncOutcome.STALE),
                             ("2026-11-20T11:00:00-05:00", SyncOutcome.UNCHANGED),  # same instant
                             ("2026-11-20T10:00:01-06:00", SyncOutcome.UPDATED)):  # fmt: skip
        body = parse_event(event("updated", title="New", updated_at=updated))
        decision = decide_sync(first, body, BAKER, sla_due=DUE, sequence=0, seq=2, at=OPEN_HOURS)
        assert decision.outcome is outcome, updated
        assert (decision.event is None) is (outcome is not SyncOutcome.UPDATED)


def test_one_keypad_namespace() -> None:
    """A phone ticket's number, or one the counter handed out, is 409; above it is free."""
    phone = new_ticket().numbered("10001")
    with pytest.raises(Rejected) as caught:
        decide(phone, event(number="10001"))
    assert caught.value.problem is Problem.CONFLICT
    with pytest.raises(Rejected):
        decide(None, event(number="10007"), sequence=7)
    assert decide(None, event(number="10008"), sequence=7).number == "10008"
    assert decide(None, event(number="9999"), sequence=7).number == "9999"


def test_an_escalation_survives_the_helpdesk_updates() -> None:
    """Emergency, the title's prefix, the recordings and the restarted SLA stay; a status older
    than the escalation does not undo its reopening, a newer one applies."""
    taken = decide(None, event(status="acknowledged", acknowledged_by="Hal"))
    call = dataclasses.replace(new_ticket(), created=OPEN_HOURS, tier=Tier.PREMIUM, sla_due=DUE,
                               scenario="/rec/1.wav")  # fmt: skip
    change = decide_escalate(taken, 2, call)
    escalated = dataclasses.replace(
        taken, emergency=True, title=change.fields["title"], status=TicketStatus.OPEN,
        acknowledged_by="", acknowledged_at=None, escalated_at=OPEN_HOURS,
        recordings="/rec/1.wav", scenario=change.fields["scenario"], sla_due=DUE,
        sla_from=OPEN_HOURS,
    )  # fmt: skip
    before_it = event("updated", status="acknowledged", title="Renamed", call_scenario="Edited.",
                      updated_at="2026-11-25T09:59:00-06:00")  # fmt: skip
    older = decide(escalated, before_it)
    assert (older.status, older.title, older.emergency) == (
        TicketStatus.OPEN, f"{EMERGENCY_TITLE}: Renamed", True,
    )  # fmt: skip
    assert older.scenario == "Edited.\n/rec/1.wav"
    assert (older.sla_due, older.sla_start) == (DUE, OPEN_HOURS)
    newer = decide(older, event("resolved", status="resolved", resolved_by="Hal",
                                updated_at="2026-11-25T11:00:00-06:00"))  # fmt: skip
    assert (newer.status, newer.resolved_by, newer.emergency) == (
        TicketStatus.RESOLVED,
        "Hal",
        True,
    )


def test_escalation_rules() -> None:
    """The title is prefixed once; only the caller's unresolved ticket; the SLA restarts when
    sooner or when the ticket was no longer waiting for a response."""
    assert emergency_title("Calls dropping") == f"{EMERGENCY_TITLE}: Calls dropping"
    assert emergency_title(emergency_title("x")) == emergency_title("x")
    assert emergency_title(" ") == EMERGENCY_TITLE
    ticket = new_ticket().numbered("77001")
    assert ticket.sla_due is not None
    due = ticket.sla_due
    assert escalatable(ticket, "1001")
    assert not escalatable(ticket, "1002")
    assert not escalatable(dataclasses.replace(ticket, status=TicketStatus.RESOLVED), "1001")
    assert not escalatable(None, "1001")
    assert sla_restarts(ticket, due - dt.timedelta(minutes=1))
    assert not sla_restarts(ticket, due)
    acknowledged = dataclasses.replace(ticket, status=TicketStatus.ACKNOWLEDGED)
    assert sla_restarts(acknowledged, due + dt.timedelta(days=1))
    best_effort = dataclasses.replace(ticket, sla_due=None)  # a warranty ticket: any is sooner
    assert sla_restarts(best_effort, due + dt.timedelta(days=30))
    later = dataclasses.replace(new_ticket(), sla_due=due + dt.timedelta(hours=1))
    change = decide_escalate(ticket, 2, later)
    assert change.event.kind is EventKind.ESCALATED
    assert "sla_due" not in change.fields
