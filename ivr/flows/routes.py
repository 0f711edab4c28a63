"""The route table: FastAGI script names (``agi_network_script`` paths) to handlers."""

from __future__ import annotations

from collections.abc import Mapping

from ivr.channel import RouteHandler
from ivr.flows.support_line import SupportLine, SupportLineDeps

SUPPORT_LINE = "support-line"


def route_table(support_line: SupportLineDeps) -> Mapping[str, RouteHandler]:
    """Every route the FastAGI server answers."""
    return {SUPPORT_LINE: SupportLine(support_line)}
