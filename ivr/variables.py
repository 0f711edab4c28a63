"""Channel variables the service sets for the dialplan: the one place for their names.

The FastAGI call ends by setting these; ``dialplan/support-line.conf`` acts on them.
Values are always built by the service from validated data (enums, digits, queue
names from settings), never copied from caller-supplied text.
"""

from __future__ import annotations

from enum import StrEnum


class Var(StrEnum):
    """Names of the ``IVR_*`` channel variables."""

    ROUTE = "IVR_ROUTE"
    QUEUE = "IVR_QUEUE"
    QUEUE_PRIORITY = "IVR_QUEUE_PRIORITY"
    TICKET = "IVR_TICKET"
    TIER = "IVR_TIER"
    RESELLER = "IVR_RESELLER"
    HOST_ID = "IVR_HOST_ID"
    EMERGENCY = "IVR_EMERGENCY"
    ONCALL_DIAL = "IVR_ONCALL_DIAL"
    SLA_DUE = "IVR_SLA_DUE"
