"""Live state of the support queues, kept from AMI events: pure data and rules.

``QueueBoard.apply`` takes one event (its headers and channel variables) and the
time it arrived, and changes the board; ``QueueBoard.rebuild`` replaces it with
the answer of ``QueueStatus``. No I/O here: the AMI consumer feeds it and writes
what changed to Redis.

Every change is idempotent per caller (keyed by the channel's Uniqueid): an
event seen twice, or seen once live and once in a snapshot, leaves one caller.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ivr.ami.events import DEVICE_STATES, Event
from ivr.domain.variables import Var


@dataclass(slots=True)
class CallerContext:
    """What the support line knows of a waiting caller (from IVR_* data)."""

    reseller: str = ""
    reseller_name: str = ""
    host_id: str = ""
    tier: str = ""
    emergency: bool = False
    ticket: str = ""
    sla_due: str = ""  # ISO time, "" when no SLA ticket
    end_customer: str = ""

    @property
    def known(self) -> bool:
        """Whether anything identifies the call beyond its caller ID."""
        return bool(self.reseller or self.host_id or self.ticket)

    @classmethod
    def from_variables(cls, variables: Mapping[str, str]) -> CallerContext:
        """From the ``ChanVariable`` headers of an event (manager.conf channelvars)."""
        return cls(
            reseller=variables.get(Var.RESELLER, ""),
            host_id=variables.get(Var.HOST_ID, ""),
            tier=variables.get(Var.TIER, ""),
            emergency=variables.get(Var.EMERGENCY, "") == "1",
            ticket=variables.get(Var.TICKET, ""),
            sla_due=variables.get(Var.SLA_DUE, ""),
        )

    def merged(self, other: CallerContext) -> CallerContext:
        """This context with blanks filled from ``other``."""
        return CallerContext(
            reseller=self.reseller or other.reseller,
            reseller_name=self.reseller_name or other.reseller_name,
            host_id=self.host_id or other.host_id,
            tier=self.tier or other.tier,
            emergency=self.emergency or other.emergency,
            ticket=self.ticket or other.ticket,
            sla_due=self.sla_due or other.sla_due,
            end_customer=self.end_customer or other.end_customer,
        )


@dataclass(slots=True)
class Caller:
    """A caller waiting in a queue."""

    uniqueid: str
    linkedid: str
    caller_id: str
    caller_name: str
    position: int
    joined_at: dt.datetime
    context: CallerContext = field(default_factory=CallerContext)
    ringing: str = ""  # the member being rung for this caller, if any

    def to_json(self) -> dict[str, Any]:
        """For the dashboard and the API."""
        return {
            "uniqueid": self.uniqueid,
            "caller_id": self.caller_id,
            "caller_name": self.caller_name,
            "position": self.position,
            "joined_at": self.joined_at.isoformat(),
            "ringing": self.ringing,
            "reseller": self.context.reseller,
            "reseller_name": self.context.reseller_name,
            "host_id": self.context.host_id,
            "tier": self.context.tier,
            "emergency": self.context.emergency,
            "ticket": self.context.ticket,
            "sla_due": self.context.sla_due,
            "end_customer": self.context.end_customer,
        }


@dataclass(slots=True)
class Agent:
    """A queue member (an engineer's phone)."""

    interface: str
    name: str
    state: str = "unknown"
    paused: bool = False
    paused_reason: str = ""
    calls_taken: int = 0
    in_call: bool = False

    def to_json(self) -> dict[str, Any]:
        """For the dashboard and the API."""
        return {
            "interface": self.interface,
            "name": self.name,
            "state": "paused" if self.paused else self.state,
            "paused": self.paused,
            "paused_reason": self.paused_reason,
            "calls_taken": self.calls_taken,
            "in_call": self.in_call,
        }


@dataclass(slots=True)
class Queue:
    """One queue's waiting callers and members."""

    name: str
    callers: dict[str, Caller] = field(default_factory=dict)
    agents: dict[str, Agent] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Callers by position, agents by name."""
        return {
            "name": self.name,
            "callers": [c.to_json() for c in sorted(self.callers.values(), key=_by_position)],
            "agents": [a.to_json() for a in sorted(self.agents.values(), key=lambda a: a.name)],
        }


def _by_position(caller: Caller) -> tuple[int, str]:
    return caller.position, caller.uniqueid


@dataclass(frozen=True, slots=True)
class QueueOutcome:
    """A caller left a queue: answered (with its wait) or abandoned."""

    queue: str
    uniqueid: str
    answered: bool
    wait_seconds: float
    at: dt.datetime


@dataclass(slots=True)
class BoardChange:
    """What one event changed: queues to rewrite, callers to identify, outcomes."""

    queues: set[str] = field(default_factory=set)
    joined: list[tuple[str, str]] = field(default_factory=list)  # (queue, uniqueid)
    offered: list[tuple[str, str, dt.datetime]] = field(default_factory=list)
    outcomes: list[QueueOutcome] = field(default_factory=list)

    def merge(self, other: BoardChange) -> None:
        """Add another change to this one."""
        self.queues |= other.queues
        self.joined += other.joined
        self.offered += other.offered
        self.outcomes += other.outcomes


def _int(text: str, default: int = 0) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def _float(text: str, default: float = 0.0) -> float:
    try:
        return float(text)
    except ValueError:
        return default


@dataclass(slots=True)
class QueueBoard:
    """Every queue's live state."""

    queues: dict[str, Queue] = field(default_factory=dict)

    def queue(self, name: str) -> Queue:
        """The queue, created on first sight."""
        found = self.queues.get(name)
        if found is None:
            found = self.queues[name] = Queue(name)
        return found

    def apply(
        self, headers: Mapping[str, str], variables: Mapping[str, str], at: dt.datetime
    ) -> BoardChange:
        """Apply one AMI event; return what changed (nothing for other events)."""
        name = headers.get("Event", "")
        change = BoardChange()
        queue_name = headers.get("Queue", "")
        if name == Event.HANGUP:
            uid = headers.get("Uniqueid", "")
            for queue in self.queues.values():
                if queue.callers.pop(uid, None) is not None:
                    _renumber(queue)
                    change.queues.add(queue.name)
            return change
        if not queue_name or name not in _HANDLERS:
            return change
        queue = self.queue(queue_name)
        _HANDLERS[name](queue, headers, variables, at, change)
        return change

    def rebuild(self, items: Iterable[Mapping[str, str]], at: dt.datetime) -> BoardChange:
        """Replace the board with a ``QueueStatus`` answer (its event list).

        Callers keep the context already known for the same Uniqueid; a caller
        missing from the answer is gone.
        """
        known = {uid: c for q in self.queues.values() for uid, c in q.callers.items()}
        fresh: dict[str, Queue] = {}
        change = BoardChange(queues=set(self.queues))
        for item in items:
            event = item.get("Event", "")
            queue_name = item.get("Queue", "")
            if not queue_name:
                continue
            queue = fresh.get(queue_name) or fresh.setdefault(queue_name, Queue(queue_name))
            change.queues.add(queue_name)
            if event == Event.QUEUE_MEMBER:
                agent = _agent_from(item)
                queue.agents[agent.interface] = agent
            elif event == Event.QUEUE_ENTRY:
                uid = item.get("Uniqueid", "")
                wait = _float(item.get("Wait", "0"))
                previous = known.get(uid)
                caller = Caller(
                    uniqueid=uid,
                    linkedid=previous.linkedid if previous else "",
                    caller_id=item.get("CallerIDNum", ""),
                    caller_name=item.get("CallerIDName", ""),
                    position=_int(item.get("Position", "0")),
                    joined_at=previous.joined_at if previous else at - dt.timedelta(seconds=wait),
                    context=previous.context if previous else CallerContext(),
                )
                queue.callers[uid] = caller
                if previous is None or not caller.context.known:
                    change.joined.append((queue_name, uid))
        self.queues = fresh
        return change


def _agent_from(headers: Mapping[str, str]) -> Agent:
    interface = headers.get("Interface") or headers.get("Location") or headers.get("StateInterface")
    return Agent(
        interface=interface or "",
        name=headers.get("MemberName") or headers.get("Name") or interface or "",
        state=DEVICE_STATES.get(headers.get("Status", "0"), "unknown"),
        paused=headers.get("Paused", "0") == "1",
        paused_reason=headers.get("PausedReason", ""),
        calls_taken=_int(headers.get("CallsTaken", "0")),
        in_call=headers.get("InCall", "0") == "1",
    )


def _renumber(queue: Queue) -> None:
    for position, caller in enumerate(sorted(queue.callers.values(), key=_by_position), 1):
        caller.position = position


def _join(
    queue: Queue, h: Mapping[str, str], v: Mapping[str, str], at: dt.datetime, change: BoardChange
) -> None:
    uid = h.get("Uniqueid", "")
    existing = queue.callers.get(uid)
    caller = Caller(
        uniqueid=uid,
        linkedid=h.get("Linkedid", ""),
        caller_id=h.get("CallerIDNum", ""),
        caller_name=h.get("CallerIDName", ""),
        position=_int(h.get("Position", "0"), len(queue.callers) + 1),
        joined_at=existing.joined_at if existing else at,
        context=CallerContext.from_variables(v).merged(
            existing.context if existing else CallerContext()
        ),
    )
    queue.callers[uid] = caller
    change.queues.add(queue.name)
    change.offered.append((queue.name, uid, at))
    if not caller.context.known or not caller.context.sla_due:
        change.joined.append((queue.name, uid))


def _leave(
    queue: Queue, h: Mapping[str, str], _v: Mapping[str, str], _at: dt.datetime, change: BoardChange
) -> None:
    if queue.callers.pop(h.get("Uniqueid", ""), None) is not None:
        _renumber(queue)
    change.queues.add(queue.name)


def _record_outcome(
    queue: Queue, h: Mapping[str, str], at: dt.datetime, change: BoardChange, *, answered: bool
) -> None:
    """The caller's wait: Asterisk's HoldTime, else measured from the join we saw."""
    uid = h.get("Uniqueid", "")
    caller = queue.callers.get(uid)
    wait = _float(h.get("HoldTime", ""), -1.0)
    if wait < 0:
        wait = (at - caller.joined_at).total_seconds() if caller else 0.0
    change.outcomes.append(
        QueueOutcome(queue.name, uid, answered=answered, wait_seconds=wait, at=at)
    )


def _abandon(
    queue: Queue, h: Mapping[str, str], v: Mapping[str, str], at: dt.datetime, change: BoardChange
) -> None:
    _record_outcome(queue, h, at, change, answered=False)
    _leave(queue, h, v, at, change)


def _called(
    queue: Queue, h: Mapping[str, str], _v: Mapping[str, str], _at: dt.datetime, change: BoardChange
) -> None:
    caller = queue.callers.get(h.get("Uniqueid", ""))
    if caller is not None:
        caller.ringing = h.get("MemberName") or h.get("Interface", "")
    agent = queue.agents.get(h.get("Interface", ""))
    if agent is not None:
        agent.state = "ringing"
    change.queues.add(queue.name)


def _no_answer(
    queue: Queue, h: Mapping[str, str], _v: Mapping[str, str], _at: dt.datetime, change: BoardChange
) -> None:
    caller = queue.callers.get(h.get("Uniqueid", ""))
    if caller is not None:
        caller.ringing = ""
    change.queues.add(queue.name)


def _connect(
    queue: Queue, h: Mapping[str, str], v: Mapping[str, str], at: dt.datetime, change: BoardChange
) -> None:
    _record_outcome(queue, h, at, change, answered=True)
    agent = queue.agents.get(h.get("Interface", ""))
    if agent is not None:
        agent.state = "in call"
        agent.in_call = True
    _leave(queue, h, v, at, change)


def _complete(
    queue: Queue, h: Mapping[str, str], _v: Mapping[str, str], _at: dt.datetime, change: BoardChange
) -> None:
    agent = queue.agents.get(h.get("Interface", ""))
    if agent is not None:
        agent.in_call = False
        agent.calls_taken += 1
    change.queues.add(queue.name)


def _member(
    queue: Queue, h: Mapping[str, str], _v: Mapping[str, str], _at: dt.datetime, change: BoardChange
) -> None:
    agent = _agent_from(h)
    queue.agents[agent.interface] = agent
    change.queues.add(queue.name)


def _pause(
    queue: Queue, h: Mapping[str, str], _v: Mapping[str, str], _at: dt.datetime, change: BoardChange
) -> None:
    agent = queue.agents.get(h.get("Interface", ""))
    if agent is None:
        agent = _agent_from(h)
        queue.agents[agent.interface] = agent
    agent.paused = h.get("Paused", "0") == "1"
    agent.paused_reason = h.get("PausedReason", "") if agent.paused else ""
    change.queues.add(queue.name)


def _removed(
    queue: Queue, h: Mapping[str, str], _v: Mapping[str, str], _at: dt.datetime, change: BoardChange
) -> None:
    queue.agents.pop(h.get("Interface", ""), None)
    change.queues.add(queue.name)


_HANDLERS: dict[
    str, Callable[[Queue, Mapping[str, str], Mapping[str, str], dt.datetime, BoardChange], None]
] = {
    Event.QUEUE_CALLER_JOIN: _join,
    Event.QUEUE_CALLER_LEAVE: _leave,
    Event.QUEUE_CALLER_ABANDON: _abandon,
    Event.AGENT_CALLED: _called,
    Event.AGENT_RING_NO_ANSWER: _no_answer,
    Event.AGENT_CONNECT: _connect,
    Event.AGENT_COMPLETE: _complete,
    Event.QUEUE_MEMBER_STATUS: _member,
    Event.QUEUE_MEMBER_ADDED: _member,
    Event.QUEUE_MEMBER_PAUSE: _pause,
    Event.QUEUE_MEMBER_REMOVED: _removed,
}


def day_figures(
    offered: int,
    answered_waits: Iterable[float],
    abandoned_waits: Iterable[float],
    service_level_seconds: float,
) -> dict[str, Any]:
    """A day's figures for one queue from its outcomes (pure).

    Service level is the share of answered calls answered within the threshold
    (Asterisk's ServicelevelPerf convention); None before the first answer.
    """
    answered = list(answered_waits)
    abandoned = list(abandoned_waits)
    waits = answered + abandoned
    within = sum(1 for w in answered if w <= service_level_seconds)
    return {
        "offered": offered,
        "answered": len(answered),
        "abandoned": len(abandoned),
        "average_wait": round(sum(waits) / len(waits), 1) if waits else 0.0,
        "longest_wait": round(max(waits), 1) if waits else 0.0,
        "service_level": round(within / len(answered), 3) if answered else None,
        "service_level_seconds": service_level_seconds,
    }
