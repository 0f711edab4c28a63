"""Where a call goes: one pure function of the caller's contract, the calendar and time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from ivr.domain.records import Route, Ticket, TicketKind, Tier

# Asterisk's QUEUE_PRIO: a higher number is answered first. Premium Plus ahead of
# Premium ahead of Standard; within a tier, emergencies ahead of the rest.
_TIER_RANK = {Tier.STANDARD: 1, Tier.PREMIUM: 2, Tier.PREMIUM_PLUS: 3}
EMERGENCY_BONUS = 5


class Hours(Protocol):
    """The part of the support calendar routing needs."""

    def is_open(self, tier: Tier, at: dt.datetime) -> bool:
        """Is the tier's phone support open at ``at``."""
        ...

    def is_staffed(self, at: dt.datetime) -> bool:
        """Are engineers in the queues at ``at`` (else Premium Plus goes on-call)."""
        ...

    def next_opening(self, tier: Tier, at: dt.datetime) -> dt.datetime:
        """The next time the tier opens (``at`` itself when open)."""
        ...


class QueueNames(Protocol):
    """The queue names routing chooses from."""

    @property
    def general(self) -> str:
        """The general support queue."""
        ...

    @property
    def renewals(self) -> str:
        """The renewals queue."""
        ...

    @property
    def warranty(self) -> str:
        """The hardware warranty queue."""
        ...

    def for_tier(self, tier: Tier) -> str:
        """The support queue of a tier."""
        ...


@dataclass(frozen=True, slots=True)
class Decision:
    """The routing decision the dialplan acts on."""

    route: Route
    queue: str = ""
    priority: int = 0
    next_opening: dt.datetime | None = None


def queue_priority(tier: Tier, emergency: bool) -> int:
    """QUEUE_PRIO for a call: tier rank times ten, plus five for an emergency."""
    return _TIER_RANK[tier] * 10 + (EMERGENCY_BONUS if emergency else 0)


def route_call(
    tier: Tier,
    emergency: bool,
    at: dt.datetime,
    hours: Hours,
    queues: QueueNames,
    *,
    covered: bool = True,
) -> Decision:
    """Open: the tier's queue; closed: Premium Plus on-call, others closed till next opening.

    An expired contract goes to renewals whatever the hour. Premium Plus is open
    around the clock, answered by the queue while the centre is staffed and by
    the on-call engineer otherwise.
    """
    if not covered:
        return renewals(queues)
    priority = queue_priority(tier, emergency)
    if tier is Tier.PREMIUM_PLUS and not hours.is_staffed(at):
        return Decision(Route.ONCALL, queues.for_tier(tier), priority)
    if hours.is_open(tier, at):
        return Decision(Route.QUEUE, queues.for_tier(tier), priority)
    return Decision(Route.CLOSED, next_opening=hours.next_opening(tier, at))


def route_warranty(
    at: dt.datetime, hours: Hours, queues: QueueNames, *, covered: bool = True
) -> Decision:
    """A hardware warranty request: the warranty queue in Standard hours, else closed.

    Best effort, so no tier's priority or on-call: Standard's hours and Standard's
    place in the queue. A warranty that is not active goes to renewals.
    """
    if not covered:
        return renewals(queues)
    if hours.is_open(Tier.STANDARD, at):
        return Decision(Route.QUEUE, queues.warranty, queue_priority(Tier.STANDARD, False))
    return Decision(Route.CLOSED, next_opening=hours.next_opening(Tier.STANDARD, at))


def route_ticket(ticket: Ticket, at: dt.datetime, hours: Hours, queues: QueueNames) -> Decision:
    """A call about an existing ticket: routed by its kind and tier, its cover not re-checked.

    A ticket opened before its contract or warranty expired keeps that cover after it.
    """
    if ticket.kind is TicketKind.WARRANTY:
        return route_warranty(at, hours, queues)
    return route_call(ticket.tier, ticket.emergency, at, hours, queues)


def general_queue(queues: QueueNames) -> Decision:
    """The safe route: the general support queue."""
    return Decision(Route.QUEUE, queues.general, 0)


def renewals(queues: QueueNames) -> Decision:
    """An expired contract: the renewals team."""
    return Decision(Route.RENEWALS, queues.renewals, 0)
