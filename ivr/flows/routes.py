"""The route table: FastAGI script names (``agi_network_script`` paths) to handlers."""

from __future__ import annotations

from collections.abc import Mapping

from ivr.channel import RouteHandler
from ivr.flows.oncall import OnCallAccept, OnCallDeps, OnCallMessage
from ivr.flows.support_line import SupportLine, SupportLineDeps

SUPPORT_LINE = "support-line"
ONCALL_ACCEPT = "oncall-accept"
ONCALL_MESSAGE = "oncall-message"


def route_table(support_line: SupportLineDeps) -> Mapping[str, RouteHandler]:
    """Every route the FastAGI server answers."""
    oncall = OnCallDeps(tickets=support_line.tickets, clock=support_line.clock)
    return {
        SUPPORT_LINE: SupportLine(support_line),
        ONCALL_ACCEPT: OnCallAccept(oncall),
        ONCALL_MESSAGE: OnCallMessage(oncall),
    }
