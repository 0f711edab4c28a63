"""Route ``support-line``: the call flow of the vendor's support number.

Greeting and menu, reseller authentication, Host ID, coverage, the ticket and the
routing decision, as DESIGN.md "The call" describes. The flow speaks only to the
``Channel`` interface and the stores; it ends by setting the ``IVR_*`` variables
and returning, and the dialplan acts on them. Whatever goes wrong, the caller
is sent to the general queue, and the call record is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from redis.exceptions import RedisError

from ivr.domain.after_hours import AfterHours, settle_oncall
from ivr.domain.oncall import ChainStep, chain_json
from ivr.domain.records import (
    EMERGENCY_TITLE,
    NORMAL_TITLE,
    CallRecord,
    NewTicket,
    Route,
    System,
    Ticket,
    TicketKind,
    TicketStatus,
    Tier,
    normalize_phone,
)
from ivr.domain.routing import Decision, QueueNames, general_queue, route_call, route_ticket
from ivr.domain.ticket_outcome import TicketOutcome, outcome_text, ticket_outcome
from ivr.domain.times import parse_aware_time
from ivr.domain.variables import ONCALL_DIALS, ONCALL_TIMEOUTS, Var
from ivr.flows import warranty
from ivr.flows.channel import CallHungUp, Channel, ChannelFailure
from ivr.flows.escalation import (
    ask_ticket_in_hand,
    escalate_or_create,
    opened_on,
    say_response_due,
)
from ivr.flows.pin_check import PinCheck, PinCheckShed
from ivr.flows.prompts import Prompt
from ivr.runtime.log_throttle import LogThrottle, suffix
from ivr.store import pin_load
from ivr.store.stores import Stores

log = logging.getLogger("ivr.flows.support_line")

MENU_TIMEOUT = 5.0
ENTRY_TIMEOUT = 7.0
MAX_MENU_FAILURES = 3
MAX_MENU_REPEATS = 10
MAX_PIN_TRIES = 3
MAX_HOST_ID_FAILURES = 3
MAX_HOST_ID_ENTRIES = 6
MAX_HOST_ID_SILENCES = 3
MAX_TICKET_TRIES = 3
RECORD_SECONDS = 120
RECORD_SILENCE_SECONDS = 5
ANONYMOUS = "anonymous"
MENU_CHOICES = frozenset({"1", "2", "3", warranty.MENU_OPTION})

_STATUS_PROMPT = {
    TicketStatus.OPEN: Prompt.STATUS_OPEN,
    TicketStatus.ACKNOWLEDGED: Prompt.STATUS_ACKNOWLEDGED,
    TicketStatus.RESOLVED: Prompt.STATUS_RESOLVED,
}
_CLOSED_PROMPT = {Tier.STANDARD: Prompt.CLOSED_STANDARD, Tier.PREMIUM: Prompt.CLOSED_PREMIUM}


class SentToGeneralQueue(Exception):
    """The caller could not get further (menu, PIN, Host ID): the general queue."""


@dataclass(slots=True)
class Handover:
    """What the dialplan is told when the flow returns: the decision and what it acts on."""

    decision: Decision
    ticket: Ticket | None = None
    system: System | None = None
    reseller: str = ""
    oncall: Sequence[ChainStep] = ()
    outcome: TicketOutcome = TicketOutcome.OPENED

    def variables(self) -> dict[Var, str]:
        """The ``IVR_*`` values, built only from validated data."""
        values = {
            Var.ROUTE: self.decision.route.value,
            Var.QUEUE: self.decision.queue,
            Var.QUEUE_PRIORITY: str(self.decision.priority) if self.decision.queue else "",
            Var.RESELLER: self.reseller,
        }
        if self.system is not None:
            values[Var.HOST_ID] = self.system.host_id
            values[Var.TIER] = self.system.tier.value
        if self.decision.route is Route.ONCALL:
            values[Var.ONCALL_STEPS] = str(len(self.oncall))
            for step, dial, timeout in zip(
                self.oncall, ONCALL_DIALS, ONCALL_TIMEOUTS, strict=False
            ):
                values[dial] = step.engineer.dial
                values[timeout] = str(step.timeout_seconds)
            if self.oncall:
                values[Var.ONCALL_DIAL] = self.oncall[0].engineer.dial
        if self.ticket is not None:
            values[Var.TICKET] = self.ticket.number
            values[Var.EMERGENCY] = "1" if self.ticket.emergency else "0"
            if self.outcome is not TicketOutcome.OPENED:
                values[Var.TICKET_JOINED] = self.outcome.value
            if self.ticket.sla_due is not None:  # a warranty ticket has none
                values[Var.SLA_DUE] = self.ticket.sla_due.isoformat(timespec="seconds")
        return {name: value for name, value in values.items() if value}


class SupportLine:
    """The ``support-line`` route handler."""

    def __init__(
        self,
        stores: Stores,
        queues: QueueNames,
        clock: Callable[[], dt.datetime],
        *,
        allow_call_time: bool = False,
    ) -> None:
        self._stores = stores
        self._queues = queues
        self._clock = clock
        self._allow_call_time = allow_call_time
        # Shed callers come in bursts: one log line per interval says how many.
        self._overload_log = LogThrottle()

    async def __call__(self, channel: Channel, query: Mapping[str, str]) -> None:
        """Run one call; never raises for the caller's or the store's faults."""
        clock = self._clock_for(query, channel.call_id)
        record = CallRecord(
            call_id=channel.call_id,
            started=clock(),
            caller_id=normalize_phone(channel.caller_id) or ANONYMOUS,
            route_name="support-line",
        )
        call = _Call(self._stores, self._queues, channel, record, clock, self._overload_log)
        try:
            if "at" in query:  # ``ivr call --at`` tells the user which time was used
                used = record.started.isoformat() if clock is not self._clock else "ignored"
                await channel.set_variable(Var.CALL_TIME, used)
            handover = await call.run()
            await call.finish(handover)
        except CallHungUp:
            record.outcome = "hangup"
            log.info("call=%s caller hung up after %s", record.call_id, record.steps or ["start"])
        except (ChannelFailure, RedisError, OSError) as exc:
            # The flow's boundary: log once, then the safe route, if the call still lives.
            record.outcome = "error"
            log.error("call=%s failed: %s: %s", record.call_id, type(exc).__name__, exc)
            await call.rescue()
        finally:
            record.ended = clock()
            try:
                await self._stores.calls.save(record)
            except (RedisError, OSError) as exc:
                log.error("call=%s call record not saved: %s", record.call_id, exc)

    def _clock_for(self, query: Mapping[str, str], call_id: str) -> Callable[[], dt.datetime]:
        """The service's clock, or the call's own ``at=`` time where that is allowed."""
        at = query.get("at")
        if at is None or not self._allow_call_time:
            return self._clock
        try:
            fixed = parse_aware_time(at)
        except ValueError:
            log.warning("call=%s ignoring a malformed at= time", call_id)
            return self._clock
        return lambda: fixed


class _Call:
    """One call's state while the flow runs."""

    def __init__(
        self,
        stores: Stores,
        queues: QueueNames,
        channel: Channel,
        record: CallRecord,
        clock: Callable[[], dt.datetime],
        overload_log: LogThrottle,
    ) -> None:
        self.stores = stores
        self.queues = queues
        self.clock = clock
        self.overload_log = overload_log
        self.channel = channel
        self.record = record
        self.caller_number = record.caller_id
        self._locked = False

    async def run(self) -> Handover:
        await self.channel.answer()
        try:
            choice = await self.menu()
            account = await self.authenticate()
        except SentToGeneralQueue:
            return await self.to_general_queue()
        self.record.reseller_account = account
        if choice == "3":
            return await self.ticket_status(account)
        if choice == "1" and (
            in_hand := await ask_ticket_in_hand(self.channel, self.stores, account, self.record)
        ):
            return await self.open_ticket(account, in_hand.system, emergency=True,
                                          in_hand=in_hand.ticket)  # fmt: skip
        try:
            system = await self.ask_system(account)
        except SentToGeneralQueue:
            return await self.to_general_queue(account)
        if choice == warranty.MENU_OPTION:
            return await self.warranty_request(account, system)
        return await self.open_ticket(account, system, emergency=choice == "1")

    async def finish(self, handover: Handover) -> None:
        """Set the variables and note the decision; the dialplan does the rest."""
        self.record.decision = handover.decision.route.value
        if not self.record.outcome:
            self.record.outcome = handover.decision.route.value
        for name, value in handover.variables().items():
            await self.channel.set_variable(name, value)

    async def rescue(self) -> None:
        """After a failure: tell the caller and hand them to the general queue."""
        decision = general_queue(self.queues)
        self.record.decision = decision.route.value
        try:
            # The prompt itself may be what is missing; the queue still answers.
            with contextlib.suppress(ChannelFailure):
                await self.channel.play(Prompt.TRANSFER_GENERAL)
            await self.finish(Handover(decision, reseller=self.record.reseller_account))
        except CallHungUp:
            log.info(
                "call=%s hung up before the hand-over to the general queue", self.record.call_id
            )
        except ChannelFailure as exc:
            log.warning(
                "call=%s could not hand over to the general queue: %s", self.record.call_id, exc
            )

    async def to_general_queue(self, account: str = "") -> Handover:
        await self.channel.play(Prompt.TRANSFER_GENERAL)
        return Handover(general_queue(self.queues), reseller=account)

    # Step 1: greeting and menu.
    async def menu(self) -> str:
        await self.channel.play(Prompt.WELCOME)
        failures = repeats = 0
        while failures < MAX_MENU_FAILURES:
            keys = await self.channel.read_keys(Prompt.MAIN_MENU, 1, MENU_TIMEOUT)
            if keys.digits in MENU_CHOICES:
                self.record.menu_choice = keys.digits
                self.record.step(f"menu:{keys.digits}")
                return keys.digits
            if keys.digits == "*" and repeats < MAX_MENU_REPEATS:
                repeats += 1
                continue
            failures += 1
            if keys.digits:
                await self.channel.play(Prompt.INVALID_OPTION)
        self.record.step("menu:none")
        raise SentToGeneralQueue

    # Step 2: account number and PIN.
    async def authenticate(self) -> str:
        stores, channel = self.stores, self.channel
        known = None
        if self.caller_number != ANONYMOUS:
            known = await stores.directory.account_for_phone(self.caller_number)
        if known is not None:
            await channel.play(Prompt.WELCOME_BACK)
        for attempt in range(MAX_PIN_TRIES):
            if known is not None:
                pin_keys = await channel.read_keys(Prompt.ENTER_PIN_OR_STAR, 12, ENTRY_TIMEOUT)
                if pin_keys.digits.startswith("*"):
                    known = None  # a different account from a shared phone
            if known is None:
                account = (await channel.read_keys(Prompt.ENTER_ACCOUNT, 12, ENTRY_TIMEOUT)).digits
                pin_keys = await channel.read_keys(Prompt.ENTER_PIN, 12, ENTRY_TIMEOUT)
            else:
                account = known
            pin, entered = pin_keys.digits, asyncio.get_running_loop().time()
            if await self._verify(account, pin, entered):
                self.record.step("authenticated")
                return account
            if attempt < MAX_PIN_TRIES - 1 and not self._locked:
                await channel.play(Prompt.AUTH_FAILED)
            if self._locked:
                break
        self.record.step("auth:failed")
        await channel.play(Prompt.AUTH_UNAVAILABLE)
        raise SentToGeneralQueue

    async def _verify(self, account: str, pin: str, entered: float) -> bool:
        """Check account and PIN; count a failure; never says which part was wrong."""
        stores = self.stores
        lookup = await stores.lockout.lookup(account or "none", self.caller_number)
        if lookup.locked:
            self._locked = True
            log.info("call=%s authentication refused: locked", self.record.call_id)
            return False
        ok = await self._check_pin(lookup.pin_hash, pin, entered) if pin else False
        if ok and lookup.active:
            await stores.lockout.record_success(account)
            if (upgraded := await stores.pins.upgraded(lookup.pin_hash, pin)) is not None:
                await stores.directory.set_pin_hash(account, upgraded)
            return True
        if ok:  # a suspended reseller with the right PIN: not a guess, not counted
            self._locked = True
            return False
        if pin or account:
            self._locked = await stores.lockout.record_failure(
                account or "none", self.caller_number, self.clock(), known=lookup.exists
            )
            if self._locked:
                log.warning("call=%s lockout reached", self.record.call_id)
        return False

    async def _check_pin(self, stored: str | None, pin: str, entered: float) -> bool:
        """The PIN check without a long silence (ivr/flows/pin_check.py), counted from
        ``entered`` (loop time); a caller it would keep too long goes to the general queue
        (told so: ``to_general_queue`` plays transfer-general)."""
        check = PinCheck(self.channel, self.stores.pins)
        try:
            return (await check.run(stored, pin, entered)).matched
        except PinCheckShed as exc:
            self.record.step("auth:busy")
            await pin_load.count(self.stores.redis, pin_load.PinLoad.SHED)
            held = self.overload_log.admit("pin-shed", asyncio.get_running_loop().time())
            if held is not None:
                log.warning(
                    "call=%s PIN check shed (%s, limit %.1f s): to the general queue%s",
                    self.record.call_id, exc, self.stores.pins.queue_max_seconds, suffix(held),
                )  # fmt: skip
            raise SentToGeneralQueue from None
        finally:
            if check.spoke:
                await pin_load.count(self.stores.redis, pin_load.PinLoad.ONE_MOMENT)

    # Step 3: Host ID, read back, confirmed.
    async def ask_system(self, account: str) -> System:
        channel = self.channel
        failures = entries = silences = 0
        while (
            failures < MAX_HOST_ID_FAILURES
            and silences < MAX_HOST_ID_SILENCES
            and entries < MAX_HOST_ID_ENTRIES
        ):
            entries += 1
            keys = await channel.read_keys(Prompt.ENTER_HOST_ID, 16, ENTRY_TIMEOUT)
            if not keys.digits:
                # Nothing keyed (silence, or # alone) is not a wrong Host ID: ask again.
                silences += 1
                self.record.step("host_id:silence")
                await channel.play(Prompt.HOST_ID_NOT_HEARD)
                continue
            if not keys.digits.isdigit():
                failures += 1
                await channel.play(Prompt.HOST_ID_NOT_FOUND)
                continue
            await channel.play(Prompt.HOST_ID_YOU_ENTERED)
            await channel.say_digits(keys.digits)
            confirm = await channel.read_keys(Prompt.HOST_ID_CONFIRM, 1, MENU_TIMEOUT)
            if confirm.digits != "1":
                continue  # 2, another key or silence: enter it again
            system = await self.stores.directory.system(keys.digits)
            if system is not None and system.reseller_account == account:
                self.record.host_id = system.host_id
                self.record.step("host_id")
                return system
            failures += 1
            await channel.play(Prompt.HOST_ID_NOT_FOUND)
        # Counted apart in the report: a caller who stopped keying is not a wrong entry.
        silent = silences >= MAX_HOST_ID_SILENCES or not failures
        self.record.step("host_id:no_input" if silent else "host_id:failed")
        raise SentToGeneralQueue

    # Steps 4 to 6: coverage, ticket, routing.
    async def open_ticket(
        self, account: str, system: System, *, emergency: bool, in_hand: Ticket | None = None
    ) -> Handover:
        stores, channel = self.stores, self.channel
        now = self.clock()
        calendar = await stores.calendars.calendar(now)
        tz = calendar.tz
        covered = system.covered_on(opened_on(in_hand, now, tz))
        decision = route_call(system.tier, emergency, now, calendar, self.queues, covered=covered)
        if decision.route is Route.RENEWALS:
            self.record.step("coverage:expired")
            await channel.play(Prompt.CONTRACT_EXPIRED)
            await channel.say_date(system.support_expires)
            await channel.play(Prompt.CONTRACT_EXPIRED_TERMS)
            if await warranty.offer_instead(channel, system, now.astimezone(tz).date()):
                return await self.warranty_request(account, system)
            await channel.play(Prompt.TRANSFER_RENEWALS)
            return Handover(decision, system=system, reseller=account)
        self.record.step("coverage:active")
        await channel.play(Prompt.DESCRIBE_PROBLEM)
        recording = await channel.record(channel.call_id, RECORD_SECONDS, RECORD_SILENCE_SECONDS)
        now = self.clock()
        routed = await self._settle(route_call(system.tier, emergency, now, calendar, self.queues))
        decision, chain = routed.decision, routed.chain
        new = NewTicket(
            created=now,
            reseller_account=account,
            host_id=system.host_id,
            end_customer=system.end_customer,
            system_type=system.system_type,
            software_release=system.software_release,
            tier=system.tier,
            emergency=emergency,
            title=EMERGENCY_TITLE if emergency else NORMAL_TITLE,
            sla_due=calendar.sla_due(system.tier, now),
            call_id=channel.call_id,
            scenario=recording.path,
        )
        callback_at = decision.next_opening if decision.route is Route.CLOSED else None
        try:
            ticket = await escalate_or_create(
                stores.tickets, new, in_hand, callback_at,
                chain_json(chain) if decision.route is Route.ONCALL else None,
            )  # fmt: skip
        except RedisError as exc:
            if stores.journal is None:
                raise
            # Redis went away mid-call: the journal holds the ticket (fsync'd) until
            # it returns; the on-call accept needs Redis, so such a call is queued.
            ticket = await stores.journal.append(new, callback_at)
            log.error(
                "call=%s Redis unreachable opening the ticket (%s): journaled as %s",
                self.record.call_id, exc, ticket.number,
            )  # fmt: skip
            if decision.route is Route.ONCALL:
                decision, chain = general_queue(self.queues), ()
        outcome = ticket_outcome(ticket, new)
        if outcome is not TicketOutcome.OPENED:
            self.record.step(outcome.value)
        self.record.ticket = ticket.number
        self.record.step("ticket")
        log.info(
            "call=%s %s (%s, %s) route=%s",
            self.record.call_id,
            outcome_text(ticket.number, outcome),
            system.tier.value,
            "emergency" if emergency else "normal",
            decision.route.value,
        )
        created = Prompt.EMERGENCY_TICKET_CREATED if emergency else Prompt.TICKET_CREATED
        await channel.play(created)
        await channel.say_digits(ticket.number)
        await say_response_due(channel, ticket.sla_due, now, tz)
        await self._announce(decision, system.tier, tz, nobody_on_call=routed.nobody_on_call)
        return Handover(decision, ticket=ticket, system=system, reseller=account, oncall=chain,
                        outcome=outcome)  # fmt: skip

    # Option 4 (ivr/flows/warranty.py): cover is the hardware warranty.
    async def warranty_request(self, account: str, system: System) -> Handover:
        request = warranty.WarrantyRequest(
            self.stores, self.queues, self.channel, self.record, self.clock
        )
        outcome = await request.run(account, system)
        return Handover(outcome.decision, ticket=outcome.ticket, system=system, reseller=account)

    async def _settle(self, decision: Decision) -> AfterHours:
        """An on-call decision with the chain on call now, or the general queue if none."""
        now = self.clock()
        chain = await self.stores.oncall.chain(now) if decision.route is Route.ONCALL else ()
        routed = settle_oncall(decision, chain, self.queues)
        if routed.nobody_on_call:
            log.warning("call=%s after hours: %s", self.record.call_id, routed.reason)
        return routed

    async def _announce(
        self, decision: Decision, tier: Tier, tz: dt.tzinfo, *, nobody_on_call: bool = False
    ) -> None:
        channel = self.channel
        if nobody_on_call:
            # What happens, not what was meant to: no on-call engineer to ring.
            await channel.play(Prompt.ONCALL_UNAVAILABLE)
            await channel.play(Prompt.TRANSFER_GENERAL)
        elif decision.route is Route.QUEUE:
            await channel.play(Prompt.TRANSFER_QUEUE)
        elif decision.route is Route.ONCALL:
            await channel.play(Prompt.TRANSFER_ONCALL)
        elif decision.route is Route.CLOSED and decision.next_opening is not None:
            await channel.play(_CLOSED_PROMPT.get(tier, Prompt.CLOSED_STANDARD))
            await channel.play(Prompt.CALLBACK_SCHEDULED)
            await channel.say_datetime(decision.next_opening.astimezone(tz))
            await channel.play(Prompt.GOODBYE)

    # Step 7: the status of an existing ticket.
    async def ticket_status(self, account: str) -> Handover:
        stores, channel = self.stores, self.channel
        for _ in range(MAX_TICKET_TRIES):
            keys = await channel.read_keys(Prompt.ENTER_TICKET, 10, ENTRY_TIMEOUT)
            ticket = await stores.tickets.get(keys.digits) if keys.digits.isdigit() else None
            if ticket is None or ticket.reseller_account != account:
                await channel.play(Prompt.TICKET_NOT_FOUND)
                continue
            self.record.ticket = ticket.number
            self.record.step("ticket_status")
            await channel.play(Prompt.TICKET_STATUS_IS)
            await channel.say_digits(ticket.number)
            await channel.play(_STATUS_PROMPT[ticket.status])
            choice = await channel.read_keys(Prompt.TICKET_CONNECT, 1, MENU_TIMEOUT)
            system = await stores.directory.system(ticket.host_id)
            if choice.digits != "1":
                await channel.play(Prompt.GOODBYE)
                return Handover(
                    Decision(Route.HANGUP), ticket=ticket, system=system, reseller=account
                )
            now = self.clock()
            calendar = await stores.calendars.calendar(now)
            routed = await self._settle(route_ticket(ticket, now, calendar, self.queues))
            decision = routed.decision
            if ticket.kind is TicketKind.WARRANTY:
                await warranty.announce(channel, decision, calendar.tz)
            else:
                await self._announce(
                    decision, ticket.tier, calendar.tz, nobody_on_call=routed.nobody_on_call
                )
            return Handover(
                decision, ticket=ticket, system=system, reseller=account, oncall=routed.chain
            )
        return await self.to_general_queue(account)
