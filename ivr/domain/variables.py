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
    # Set only when the call added to a ticket it did not open: repeat_call or escalated
    # (ivr.domain.ticket_outcome); unset, the call opened IVR_TICKET.
    TICKET_JOINED = "IVR_TICKET_JOINED"
    # The escalation chain, one step each: primary, secondary, manager.
    ONCALL_STEPS = "IVR_ONCALL_STEPS"
    ONCALL_DIAL_1 = "IVR_ONCALL_DIAL_1"
    ONCALL_DIAL_2 = "IVR_ONCALL_DIAL_2"
    ONCALL_DIAL_3 = "IVR_ONCALL_DIAL_3"
    ONCALL_TIMEOUT_1 = "IVR_ONCALL_TIMEOUT_1"
    ONCALL_TIMEOUT_2 = "IVR_ONCALL_TIMEOUT_2"
    ONCALL_TIMEOUT_3 = "IVR_ONCALL_TIMEOUT_3"
    # Set by route oncall-accept on the engineer's channel: 1 when they accepted.
    ACCEPTED = "IVR_ACCEPTED"
    # Set by the service's AMI Originate on a re-page call.
    ONCALL_STEP = "IVR_ONCALL_STEP"
    PAGE_ROUND = "IVR_PAGE_ROUND"
    # Set only for a call that names its own time (``support-line?at=``): the time
    # it ran at, or ``ignored`` when the service does not allow a call time.
    CALL_TIME = "IVR_CALL_TIME"


MAX_ONCALL_STEPS = 3
ONCALL_DIALS = (Var.ONCALL_DIAL_1, Var.ONCALL_DIAL_2, Var.ONCALL_DIAL_3)
ONCALL_TIMEOUTS = (Var.ONCALL_TIMEOUT_1, Var.ONCALL_TIMEOUT_2, Var.ONCALL_TIMEOUT_3)
