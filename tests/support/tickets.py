"""Tickets as the support line opens them, for tests of the ticket store and its outbox."""

from __future__ import annotations

import datetime as dt

from ivr.domain.records import NewTicket, Tier
from tests.support.harness import OPEN_HOURS


def new_ticket(host_id: str = "123456", *, emergency: bool = True) -> NewTicket:
    """An emergency for Acme Hospital's system."""
    return NewTicket(
        created=OPEN_HOURS,
        reseller_account="1001",
        host_id=host_id,
        end_customer="Acme Hospital",
        system_type="UCX450",
        software_release="7.2",
        tier=Tier.PREMIUM_PLUS,
        emergency=emergency,
        title="Emergency \u2013 System Down",
        sla_due=OPEN_HOURS + dt.timedelta(hours=2),
        call_id="call-1",
        scenario="/var/spool/asterisk/ivr/call-1",
    )
