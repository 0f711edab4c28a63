"""The SLA watch: alerts on open tickets as their SLA runs out, and records breaches.

A background task in ``ivr serve``. Tickets enter the ``SLA_WATCH`` index when
they are created, scored by the time of their next mark; each round looks only
at the tickets whose mark is reached. A mark reached with the ticket still
``open`` is recorded on the ticket, published on the live channel and, for
emergencies, paged through AMI ``Originate``: the ticket's on-call chain step by
step (first mark the primary, next the secondary, ...) or, for a ticket that never
went on-call, the support manager. Acknowledged or resolved tickets leave the
watch. One worker runs the watch at a time (a renewed lease); every mark is
claimed atomically, so it is paged once even across restarts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ivr.ami.originate import OriginateRequest, Originator
from ivr.domain.oncall import chain_entry, chain_length
from ivr.domain.records import Ticket, TicketStatus
from ivr.domain.sla import SlaMark, lateness, marks_due, sla_marks
from ivr.domain.variables import Var
from ivr.runtime.tasks import Retry, retry_forever
from ivr.store import keys
from ivr.store.calendar import CalendarStore
from ivr.store.leader import Lease
from ivr.store.sla import Claim, SlaAlert, SlaStore
from ivr.store.tickets import TicketStore

log = logging.getLogger("ivr.sla")

# On an SLA page the engineer's channel runs oncall-accept with this as the round,
# so the ticket's page log tells SLA pages from re-pages.
SLA_PAGE_ROUND = "sla"
MANAGER_STEP = "manager"


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """When to alert and whom to page."""

    shares: tuple[float, ...] = (0.5, 0.8)
    manager_dial: str = ""
    context: str = "ivr-oncall-page"
    page_timeout_seconds: int = 30
    batch: int = 500  # tickets looked at per round at most; the rest wait a round
    recheck: dt.timedelta = dt.timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class PageTarget:
    """Who an SLA page goes to."""

    dial: str
    step: str
    name: str
    timeout_seconds: int


def page_target(chain_json: str, mark_index: int, policy: SlaPolicy) -> PageTarget | None:
    """The chain step for the ticket's n-th mark (capped at the last), else the manager."""
    steps = chain_length(chain_json)
    if steps:
        step = str(min(mark_index + 1, steps))
        entry = chain_entry(chain_json, step)
        if entry.get("dial"):
            timeout = int(entry.get("timeout", "") or policy.page_timeout_seconds)
            return PageTarget(entry["dial"], step, entry.get("name", ""), timeout)
    if policy.manager_dial:
        return PageTarget(
            policy.manager_dial, MANAGER_STEP, "support manager", policy.page_timeout_seconds
        )
    return None


def live_message(alert: SlaAlert, ticket: Ticket) -> dict[str, object]:
    """The ``sla_alert`` object published on the live channel."""
    return alert.as_json() | {
        "kind": "sla_alert",
        "breach": alert.label == "breach",
        "tier": ticket.tier.value,
        "emergency": ticket.emergency,
        "title": ticket.title,
        "reseller": ticket.reseller_account,
        "host_id": ticket.host_id,
        "end_customer": ticket.end_customer,
    }


class SlaWatcher:
    """Raises SLA alerts and records breaches; one instance per worker, one runs at a time."""

    def __init__(
        self,
        redis: Redis,
        tickets: TicketStore,
        calendars: CalendarStore,
        originator: Originator | None,
        policy: SlaPolicy,
        clock: Callable[[], dt.datetime],
        lease: Lease,
    ) -> None:
        self._redis = redis
        self._store = SlaStore(redis)
        self._tickets = tickets
        self._calendars = calendars
        self._originator = originator
        self._policy = policy
        self._clock = clock
        self._lease = lease

    async def tick(self) -> int | None:
        """One round: the alerts raised, or None when another worker runs the watch."""
        if not await self._lease.hold():
            return None
        now = self._clock()
        raised = 0
        for number in await self._store.due(now, self._policy.batch):
            try:
                raised += await self._check(number, now)
            except (KeyError, ValueError) as exc:
                # A ticket that cannot be read cannot be watched; the rest can.
                log.error("ticket %s: unreadable, no longer SLA-watched: %r", number, exc)
                await self._store.reschedule(number, None)
        return raised

    async def _check(self, number: str, now: dt.datetime) -> int:
        ticket = await self._tickets.get(number)
        # A best-effort ticket (warranty) has no SLA: never alerted, never paged.
        if ticket is None or ticket.status is not TicketStatus.OPEN or ticket.sla_due is None:
            await self._store.reschedule(number, None)
            return 0
        # From the clock's start: its creation, or an escalation that restarted it.
        due = ticket.sla_due
        calendar = await self._calendars.calendar(ticket.sla_start)
        marks = sla_marks(calendar, ticket.tier, ticket.sla_start, due, self._policy.shares)
        plan = marks_due(marks, await self._store.raised(number), now)
        for mark in plan.passed_over:
            if await self._store.claim(self._alert(ticket, due, mark, now, passed_over=True)) in (
                Claim.NOT_OPEN,
                Claim.MISSING,
            ):
                await self._store.reschedule(number, None)
                return 0
        raised = 0
        if plan.raise_now is not None:
            alert = self._alert(ticket, due, plan.raise_now, now, passed_over=False)
            claim = await self._store.claim(alert)
            if claim in (Claim.NOT_OPEN, Claim.MISSING):
                await self._store.reschedule(number, None)
                return 0
            if claim == Claim.CLAIMED:
                await self._raise(ticket, alert, marks.index(plan.raise_now))
                raised = 1
        # Past its last mark a still-open ticket stays watched (the live page lists
        # it as late) and is looked at now and then to notice its acknowledgement.
        await self._store.reschedule(number, plan.next_at or now + self._policy.recheck)
        return raised

    def _alert(
        self,
        ticket: Ticket,
        due: dt.datetime,
        mark: SlaMark,
        now: dt.datetime,
        *,
        passed_over: bool,
    ) -> SlaAlert:
        late = lateness(due, None, now) if mark.breach else dt.timedelta(0)
        return SlaAlert(
            ticket=ticket.number,
            label=mark.label,
            share=mark.share,
            at=now,
            mark_at=mark.at,
            due=due,
            late_seconds=late.total_seconds(),
            passed_over=passed_over,
            paged="",
        )

    async def _raise(self, ticket: Ticket, alert: SlaAlert, mark_index: int) -> None:
        log.warning(
            "ticket %s SLA %s (%s%s, due %s)",
            ticket.number,
            alert.label,
            ticket.tier.value,
            ", emergency" if ticket.emergency else "",
            alert.due.isoformat(),
        )
        if ticket.emergency:
            paged = await self._page(ticket, alert, mark_index)
            alert = dataclasses.replace(alert, paged=paged)
            await self._store.note_paged(alert, paged)
        message = json.dumps(live_message(alert, ticket), sort_keys=True)
        await self._redis.publish(keys.LIVE, message)

    async def _page(self, ticket: Ticket, alert: SlaAlert, mark_index: int) -> str:
        chain_json = await self._tickets.oncall_chain(ticket.number)
        target = page_target(chain_json, mark_index, self._policy)
        if target is None:
            log.error(
                "ticket %s SLA %s: nobody to page (no on-call chain, IVR_SUPPORT_MANAGER_DIAL "
                "not set)",
                ticket.number,
                alert.label,
            )
            return "nobody to page"
        if self._originator is None:
            log.error(
                "ticket %s SLA %s: AMI not configured, %s not paged",
                ticket.number,
                alert.label,
                target.name,
            )
            outcome = "not paged: AMI not configured"
        else:
            ok = await self._originator.originate(
                OriginateRequest(
                    channel=target.dial,
                    context=self._policy.context,
                    exten="s",
                    timeout_seconds=target.timeout_seconds,
                    variables={
                        Var.TICKET: ticket.number,
                        Var.ONCALL_STEP: target.step,
                        Var.PAGE_ROUND: SLA_PAGE_ROUND,
                    },
                )
            )
            outcome = "paged" if ok else "originate failed"
        await self._tickets.log_paging(
            ticket.number,
            {"at": alert.at.isoformat(), "round": SLA_PAGE_ROUND, "step": target.step,
             "engineer": target.name, "outcome": outcome, "via": f"sla {alert.label}"},
        )  # fmt: skip
        return f"{target.name}: {outcome}"

    async def run(self, interval: float) -> None:
        """Tick forever (cancel to stop); a failed round is logged and retried."""
        try:
            await retry_forever(
                self.tick, name="SLA watch", retry=Retry(every=interval, first=interval), logger=log
            )
        finally:
            # A clean stop hands the watch over at once instead of after the expiry.
            with contextlib.suppress(RedisError, OSError):
                await self._lease.release()
