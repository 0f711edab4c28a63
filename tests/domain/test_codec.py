"""The one record codec: a ticket round-trips through a Redis hash and JSON unchanged."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from ivr.domain.codec import from_json, from_strings, to_json, to_strings
from ivr.domain.records import EMERGENCY_TITLE, NewTicket, Ticket, TicketStatus, Tier
from ivr.domain.ticket_events import EventKind, TicketEvent, helpdesk_payload
from tests.support.harness import OPEN_HOURS

NEW = NewTicket(
    created=OPEN_HOURS, reseller_account="1001", host_id="123456", end_customer="Acme Hospital",
    system_type="UCX450", software_release="7.1", tier=Tier.PREMIUM_PLUS, emergency=True,
    title=EMERGENCY_TITLE, sla_due=OPEN_HOURS + dt.timedelta(hours=2), call_id="1.2",
    scenario="/var/spool/asterisk/ivr/1.2",
)  # fmt: skip
TICKET = dataclasses.replace(
    NEW.numbered("10001"),
    status=TicketStatus.ACKNOWLEDGED,
    acknowledged_by="Ana Ruiz",
    acknowledged_at=OPEN_HOURS + dt.timedelta(minutes=3),
    repeat_calls=2,
)


def test_numbered_ticket_keeps_every_field_of_what_the_call_opened() -> None:
    """``numbered`` copies every field of the new ticket and adds only the number."""
    ticket = NEW.numbered("10001")
    assert ticket.number == "10001"
    for field in dataclasses.fields(NewTicket):
        assert getattr(ticket, field.name) == getattr(NEW, field.name)
    assert ticket.status is TicketStatus.OPEN


def test_ticket_round_trips_through_a_redis_hash() -> None:
    """Strings out (booleans 1/0, no time as ""), the same ticket back; other hash keys ignored."""
    stored = to_strings(TICKET)
    assert stored["emergency"] == "1"
    assert stored["tier"] == "premium_plus"
    assert stored["resolved_at"] == ""
    assert stored["acknowledged_at"] == "2026-11-25T10:03:00-06:00"
    assert from_strings(Ticket, stored | {"events": "4", "oncall_chain": "[]"}) == TICKET


def test_ticket_round_trips_through_json() -> None:
    """JSON values out (true, null, ISO times), the same ticket back after a JSON text."""
    data = to_json(TICKET)
    assert data["emergency"] is True
    assert data["resolved_at"] is None
    assert data["repeat_calls"] == 2
    assert from_json(Ticket, json.loads(json.dumps(data))) == TICKET


def test_a_missing_required_field_is_an_error_and_a_missing_default_is_filled() -> None:
    """A record without a required field is refused; one without an optional field gets it."""
    data = to_json(NEW)
    del data["scenario"]
    assert from_json(NewTicket, data).scenario == ""
    del data["host_id"]
    with pytest.raises(KeyError, match="host_id"):
        from_json(NewTicket, data)


def test_a_field_added_to_a_record_needs_no_codec_edit() -> None:
    """A new field (here on a subclass) is written, read and shown without touching the codec."""

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Extended(Ticket):
        warranty_until: dt.date | None = None
        category: Tier = Tier.STANDARD

    extended = from_json(Extended, to_json(TICKET) | {"warranty_until": "2027-01-31"})
    assert extended.warranty_until == dt.date(2027, 1, 31)
    assert from_strings(Extended, to_strings(extended)) == extended


def test_the_helpdesk_payload_carries_every_ticket_field() -> None:
    """The webhook's ticket object is the whole ticket in its JSON form."""
    event = TicketEvent(EventKind.ACKNOWLEDGED, 2, OPEN_HOURS, by="Ana Ruiz")
    payload = helpdesk_payload(TICKET, event)
    assert payload["ticket"] == to_json(TICKET)
    assert set(to_json(TICKET)) == {f.name for f in dataclasses.fields(Ticket)}
