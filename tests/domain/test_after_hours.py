"""An on-call decision settled against the chain on call: a pure rule, no I/O."""

from __future__ import annotations

import datetime as dt

from ivr.config import Queues
from ivr.domain.after_hours import NOBODY_ON_CALL, settle_oncall
from ivr.domain.oncall import ChainRole, ChainStep, Engineer
from ivr.domain.records import Route
from ivr.domain.routing import Decision

QUEUES = Queues()
ONCALL = Decision(Route.ONCALL, QUEUES.premium_plus, 35)
STEPS = tuple(
    ChainStep(role, Engineer(f"E{i}", f"PJSIP/20{i}"), 30)
    for i, role in enumerate(
        (ChainRole.PRIMARY, ChainRole.SECONDARY, ChainRole.MANAGER, ChainRole.MANAGER)
    )
)


def test_nobody_on_call_is_the_general_queue_at_the_calls_priority() -> None:
    """An empty chain: the general queue, the same priority, and the reason to tell."""
    settled = settle_oncall(ONCALL, (), QUEUES)
    assert settled.decision == Decision(Route.QUEUE, QUEUES.general, 35)
    assert settled.chain == ()
    assert settled.nobody_on_call
    assert settled.summary() == NOBODY_ON_CALL


def test_a_chain_keeps_the_oncall_decision_up_to_the_step_limit() -> None:
    """With engineers on call the decision stands and the chain is cut to the dialplan's steps."""
    settled = settle_oncall(ONCALL, STEPS, QUEUES, max_steps=3)
    assert settled.decision is ONCALL
    assert settled.chain == STEPS[:3]
    assert not settled.nobody_on_call
    assert settled.summary() == "E0 (primary), E1 (secondary), E2 (manager)"


def test_other_decisions_pass_through_untouched() -> None:
    """Queue, closed and renewals decisions do not look at the chain."""
    closed = Decision(Route.CLOSED, next_opening=dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC))
    for decision in (Decision(Route.QUEUE, QUEUES.standard, 10), closed):
        settled = settle_oncall(decision, STEPS, QUEUES)
        assert (settled.decision, settled.chain, settled.summary()) == (decision, (), "")
