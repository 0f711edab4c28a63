"""The route table: FastAGI script names (``agi_network_script`` paths) to handlers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ivr.domain.routing import QueueNames
from ivr.flows.channel import RouteHandler
from ivr.flows.oncall import OnCallAccept, OnCallMessage
from ivr.flows.support_line import SupportLine
from ivr.runtime.clock import Clock
from ivr.store.stores import Stores

SUPPORT_LINE = "support-line"
ONCALL_ACCEPT = "oncall-accept"
ONCALL_MESSAGE = "oncall-message"


@dataclass(frozen=True, slots=True)
class LineContext:
    """What every route needs: the stores, the queue names, the clock.

    ``allow_call_time`` lets a call name its own time (``support-line?at=...``):
    demos and tests only, never in production.
    """

    stores: Stores
    queues: QueueNames
    clock: Clock
    allow_call_time: bool = False


def route_table(context: LineContext) -> Mapping[str, RouteHandler]:
    """Every route the FastAGI server answers."""
    return {
        SUPPORT_LINE: SupportLine(
            context.stores, context.queues, context.clock, allow_call_time=context.allow_call_time
        ),
        ONCALL_ACCEPT: OnCallAccept(context.stores.tickets, context.clock),
        ONCALL_MESSAGE: OnCallMessage(context.stores.tickets, context.clock),
    }
