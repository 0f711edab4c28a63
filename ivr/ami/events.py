"""AMI event and action names the dashboard follows: the one place for them.

Field names were checked against the recordings of Asterisk 22 in
``tests/transcripts/ami-queue-events*.txt``.
"""

from __future__ import annotations

from enum import StrEnum


class Event(StrEnum):
    """AMI events that change a queue's live state."""

    QUEUE_CALLER_JOIN = "QueueCallerJoin"
    QUEUE_CALLER_LEAVE = "QueueCallerLeave"
    QUEUE_CALLER_ABANDON = "QueueCallerAbandon"
    AGENT_CALLED = "AgentCalled"
    AGENT_CONNECT = "AgentConnect"
    AGENT_COMPLETE = "AgentComplete"
    AGENT_RING_NO_ANSWER = "AgentRingNoAnswer"
    QUEUE_MEMBER_STATUS = "QueueMemberStatus"
    QUEUE_MEMBER_PAUSE = "QueueMemberPause"
    QUEUE_MEMBER_ADDED = "QueueMemberAdded"
    QUEUE_MEMBER_REMOVED = "QueueMemberRemoved"
    HANGUP = "Hangup"
    SHUTDOWN = "Shutdown"
    # Items of the QueueStatus and QueueSummary event lists.
    QUEUE_PARAMS = "QueueParams"
    QUEUE_MEMBER = "QueueMember"
    QUEUE_ENTRY = "QueueEntry"
    QUEUE_STATUS_COMPLETE = "QueueStatusComplete"
    QUEUE_SUMMARY = "QueueSummary"
    QUEUE_SUMMARY_COMPLETE = "QueueSummaryComplete"


FOLLOWED = frozenset(
    {
        Event.QUEUE_CALLER_JOIN,
        Event.QUEUE_CALLER_LEAVE,
        Event.QUEUE_CALLER_ABANDON,
        Event.AGENT_CALLED,
        Event.AGENT_CONNECT,
        Event.AGENT_COMPLETE,
        Event.AGENT_RING_NO_ANSWER,
        Event.QUEUE_MEMBER_STATUS,
        Event.QUEUE_MEMBER_PAUSE,
        Event.QUEUE_MEMBER_ADDED,
        Event.QUEUE_MEMBER_REMOVED,
        Event.HANGUP,
    }
)

# Device states of a queue member (``Status`` of QueueMember / QueueMemberStatus),
# from Asterisk's ast_device_state.
DEVICE_STATES = {
    "0": "unknown",
    "1": "available",
    "2": "in call",
    "3": "busy",
    "4": "invalid",
    "5": "unavailable",
    "6": "ringing",
    "7": "ringing",  # ring in use
    "8": "on hold",
}
