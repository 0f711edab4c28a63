"""The route table: FastAGI script names (``agi_network_script`` paths) to handlers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from ivr.domain.routing import QueueNames
from ivr.flows.channel import RouteHandler
from ivr.flows.forgiving import forgiving
from ivr.flows.oncall import REPAGE_DELAY, OnCallAccept, OnCallMessage
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
    # When the first re-page of a ticket nobody accepted goes out.
    repage_delay: dt.timedelta = REPAGE_DELAY


def route_table(context: LineContext) -> Mapping[str, RouteHandler]:
    """Every route the FastAGI server answers, each on a ``ForgivingChannel``: a prompt or
    sound that fails is skipped, never the caller's route."""
    routes: dict[str, RouteHandler] = {
        SUPPORT_LINE: SupportLine(
            context.stores, context.queues, context.clock, allow_call_time=context.allow_call_time
        ),
        ONCALL_ACCEPT: OnCallAccept(context.stores.tickets, context.clock),
        ONCALL_MESSAGE: OnCallMessage(
            context.stores.tickets, context.clock, repage_delay=context.repage_delay
        ),
    }
    return {name: forgiving(handler) for name, handler in routes.items()}
