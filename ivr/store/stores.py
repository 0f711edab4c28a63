"""The one bag of stores every entry point and flow shares, over one Redis client."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from ivr.store.calendar import CalendarStore
from ivr.store.calls import CallStore
from ivr.store.directory import Directory
from ivr.store.journal import TicketJournal
from ivr.store.lockout import Lockout
from ivr.store.oncall import OnCallStore
from ivr.store.pins import PinHasher
from ivr.store.tickets import TicketStore


@dataclass(frozen=True, slots=True)
class Stores:
    """Every store of one process (built by ``ivr.services.build_stores``).

    ``journal`` is where a ticket goes when Redis fails at the moment of creating
    it; ``None`` (the call tester) means no fallback: the failure is the answer.
    """

    redis: Redis
    directory: Directory
    lockout: Lockout
    tickets: TicketStore
    calls: CallStore
    pins: PinHasher
    calendars: CalendarStore
    oncall: OnCallStore
    journal: TicketJournal | None
