"""Where an on-call decision really ends: the chain, or the general queue when nobody is on call.

``route_call`` says who should answer (a Premium Plus call after hours is the
on-call engineer's); whether anybody can be dialled depends on the rotation at
that moment. This one rule is what the call flow does (and so what the call
tester shows) and what ``ivr route`` and ``ivr oncall show`` print, so the three
always give the same answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ivr.domain.oncall import ChainStep
from ivr.domain.records import Route
from ivr.domain.routing import Decision, QueueNames
from ivr.domain.variables import MAX_ONCALL_STEPS

NOBODY_ON_CALL = "no on-call engineer configured: the general queue instead"


@dataclass(frozen=True, slots=True)
class AfterHours:
    """The decision to act on, the chain to dial, and why an on-call call was sent elsewhere."""

    decision: Decision
    chain: tuple[ChainStep, ...] = ()
    reason: str = ""

    @property
    def nobody_on_call(self) -> bool:
        """On-call was due but there is nobody to dial: the caller must be told so."""
        return bool(self.reason)

    def summary(self) -> str:
        """One line for people: the chain dialled, why it is not, or "" for any other route."""
        if self.reason:
            return self.reason
        if self.decision.route is Route.ONCALL:
            return ", ".join(f"{s.engineer.name} ({s.role.value})" for s in self.chain)
        return ""


def settle_oncall(
    decision: Decision,
    chain: Sequence[ChainStep],
    queues: QueueNames,
    max_steps: int = MAX_ONCALL_STEPS,
) -> AfterHours:
    """An on-call decision with its chain (at most ``max_steps``); with an empty chain the
    general queue at the call's priority. Any other decision is returned as it is."""
    if decision.route is not Route.ONCALL:
        return AfterHours(decision)
    if chain:
        return AfterHours(decision, tuple(chain)[:max_steps])
    return AfterHours(Decision(Route.QUEUE, queues.general, decision.priority), (), NOBODY_ON_CALL)
