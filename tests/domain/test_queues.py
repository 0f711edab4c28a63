"""The live queue board: recorded Asterisk events replayed through the pure rules."""

from __future__ import annotations

import datetime as dt

from ivr.ami.wire import AmiMessage, AmiParser
from ivr.domain.queues import BoardChange, QueueBoard, day_figures
from tests.support.fake_ami import recorded_stream

T0 = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)


def _messages(name: str) -> list[AmiMessage]:
    return AmiParser().feed(recorded_stream(name))


def _status_items(messages: list[AmiMessage], action_id: str) -> list[dict[str, str]]:
    return [m.headers for m in messages if m.action_id == action_id and m.event]


def test_recorded_call_joins_rings_and_is_answered() -> None:
    """The slow-agent recording: the caller waits at position 1, rings Agent Two, is answered."""
    messages = _messages("ami-queue-events-slow.txt")
    board = QueueBoard()
    board.rebuild(_status_items(messages, "QueueStatus-2"), T0)
    queue = board.queues["support-slow"]
    assert queue.callers == {}
    assert [(a.name, a.state) for a in queue.agents.values()] == [("Agent Two", "available")]

    seen: list[tuple[str, int, str]] = []
    outcomes = []
    for message in messages:
        if not message.event or message.action_id:
            continue
        change = board.apply(message.headers, message.variables, T0)
        outcomes += change.outcomes
        if change.queues:
            caller = next(iter(queue.callers.values()), None)
            seen.append((message.event, len(queue.callers), caller.ringing if caller else ""))
    assert seen[0] == ("QueueCallerJoin", 1, "")
    assert ("AgentCalled", 1, "Agent Two") in seen
    assert ("QueueCallerLeave", 0, "") in seen
    assert queue.callers == {}
    assert [(o.queue, o.uniqueid, o.answered, o.wait_seconds) for o in outcomes] == [
        ("support-slow", "1795570949.13", True, 3.0)
    ]
    agent = queue.agents["Local/agent2@agents"]
    assert agent.calls_taken == 1  # from the last QueueMemberStatus
    assert agent.state == "available"


def test_rebuild_from_recorded_status_with_a_waiting_caller() -> None:
    """QueueStatus taken while the agent rang lists the caller (QueueEntry) with its wait."""
    messages = _messages("ami-queue-events-slow.txt")
    board = QueueBoard()
    change = board.rebuild(_status_items(messages, "QueueStatus-5"), T0)
    callers = list(board.queues["support-slow"].callers.values())
    assert [(c.uniqueid, c.position, c.caller_id) for c in callers] == [
        ("1795570949.13", 1, "5559876")
    ]
    assert callers[0].joined_at == T0  # Wait: 0
    assert change.joined == [("support-slow", "1795570949.13")]  # to be identified


def _join(uid: str, position: int, **variables: str) -> tuple[dict[str, str], dict[str, str]]:
    headers = {
        "Event": "QueueCallerJoin", "Queue": "support-premium", "Uniqueid": uid,
        "Linkedid": uid, "CallerIDNum": "2145550100", "CallerIDName": "Acme",
        "Position": str(position), "Count": str(position),
    }  # fmt: skip
    return headers, variables


def test_join_reads_ivr_variables_and_is_idempotent() -> None:
    """IVR_* channel variables identify the caller; the same join twice is one caller."""
    board = QueueBoard()
    headers, variables = _join(
        "1.1", 1, IVR_RESELLER="1001", IVR_TIER="premium", IVR_HOST_ID="234567",
        IVR_EMERGENCY="1", IVR_TICKET="10001", IVR_SLA_DUE="2026-11-25T19:00:00+00:00",
    )  # fmt: skip
    first = board.apply(headers, variables, T0)
    board.apply(headers, variables, T0 + dt.timedelta(seconds=5))
    callers = board.queues["support-premium"].callers
    assert len(callers) == 1
    caller = callers["1.1"]
    assert caller.joined_at == T0
    assert (caller.context.reseller, caller.context.tier, caller.context.emergency) == (
        "1001", "premium", True,
    )  # fmt: skip
    assert first.joined == []  # fully identified by its variables: no lookup needed


def test_leave_renumbers_the_callers_behind() -> None:
    """When the first caller leaves, the others move up one place."""
    board = QueueBoard()
    for index, uid in enumerate(["a", "b", "c"], 1):
        board.apply(*_join(uid, index), T0)
    board.apply({"Event": "QueueCallerLeave", "Queue": "support-premium", "Uniqueid": "a",
                 "Position": "1", "Count": "2"}, {}, T0)  # fmt: skip
    callers = board.queues["support-premium"].callers
    assert {uid: c.position for uid, c in callers.items()} == {"b": 1, "c": 2}


def test_abandon_counts_with_its_hold_time_and_hangup_clears_a_stray() -> None:
    """An abandoned caller is an outcome; a Hangup removes a caller whose leave was missed."""
    board = QueueBoard()
    board.apply(*_join("a", 1), T0)
    board.apply(*_join("b", 2), T0)
    change = board.apply({"Event": "QueueCallerAbandon", "Queue": "support-premium",
                          "Uniqueid": "a", "Position": "1", "OriginalPosition": "1",
                          "HoldTime": "42"}, {}, T0)  # fmt: skip
    assert [(o.answered, o.wait_seconds) for o in change.outcomes] == [(False, 42.0)]
    hangup = board.apply({"Event": "Hangup", "Uniqueid": "b"}, {}, T0)
    assert hangup.queues == {"support-premium"}
    assert board.queues["support-premium"].callers == {}


def test_member_pause_and_removal() -> None:
    """Agents are added, paused with a reason, unpaused and removed."""
    board = QueueBoard()
    member = {"Event": "QueueMemberAdded", "Queue": "q", "MemberName": "Dana",
              "Interface": "PJSIP/dana", "Status": "1", "Paused": "0"}  # fmt: skip
    board.apply(member, {}, T0)
    board.apply({"Event": "QueueMemberPause", "Queue": "q", "Interface": "PJSIP/dana",
                 "Paused": "1", "PausedReason": "lunch"}, {}, T0)  # fmt: skip
    assert board.queues["q"].agents["PJSIP/dana"].to_json()["state"] == "paused"
    assert board.queues["q"].agents["PJSIP/dana"].paused_reason == "lunch"
    board.apply({"Event": "QueueMemberRemoved", "Queue": "q", "Interface": "PJSIP/dana"}, {}, T0)
    assert board.queues["q"].agents == {}


def test_rebuild_drops_callers_gone_while_the_link_was_down() -> None:
    """A caller who left during an outage is gone after the rebuild; a stayer keeps its context."""
    board = QueueBoard()
    board.apply(*_join("stays", 1, IVR_RESELLER="1001", IVR_TICKET="10001"), T0)
    board.apply(*_join("left", 2, IVR_RESELLER="1002"), T0)
    later = T0 + dt.timedelta(minutes=3)
    board.rebuild(
        [{"Event": "QueueParams", "Queue": "support-premium"},
         {"Event": "QueueEntry", "Queue": "support-premium", "Uniqueid": "stays",
          "Position": "1", "Wait": "180", "CallerIDNum": "2145550100"}],
        later,
    )  # fmt: skip
    callers = board.queues["support-premium"].callers
    assert list(callers) == ["stays"]
    assert callers["stays"].joined_at == T0
    assert callers["stays"].context.ticket == "10001"


def test_other_events_change_nothing() -> None:
    """Channel events the board does not follow leave it alone."""
    board = QueueBoard()
    change = board.apply({"Event": "VarSet", "Uniqueid": "x"}, {}, T0)
    assert change == BoardChange()
    assert board.queues == {}


def test_day_figures() -> None:
    """Answered, abandoned, waits and the share answered within the service level."""
    figures = day_figures(5, [10.0, 30.0, 90.0], [120.0], 60.0)
    assert figures["offered"] == 5
    assert (figures["answered"], figures["abandoned"]) == (3, 1)
    assert figures["average_wait"] == 62.5
    assert figures["longest_wait"] == 120.0
    assert figures["service_level"] == 0.667
    assert day_figures(0, [], [], 60.0)["service_level"] is None
