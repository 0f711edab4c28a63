"""What a test call is, and what of it is shown: pure rules of the call tester.

The request (caller, time, keys as ``ivr call --dtmf`` takes them), the keys
copied into the scratch database, the transcript with the PIN hidden and where
the call ends. The engine that runs the call is ``ivr.tester.engine``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ivr.agi.simulator import SimulatedCall, Step
from ivr.domain.ticket_outcome import said_of_call
from ivr.domain.variables import Var
from ivr.flows.prompts import Prompt
from ivr.store import keys

MAX_ANSWERS = 40
MAX_ANSWER_KEYS = 32
DEFAULT_DIALED = "2145565917"
PIN_PROMPTS = frozenset({Prompt.ENTER_PIN.value, Prompt.ENTER_PIN_OR_STAR.value})
TICKET_PROMPTS = frozenset({
    Prompt.TICKET_CREATED.value, Prompt.EMERGENCY_TICKET_CREATED.value,
    Prompt.WARRANTY_TICKET_CREATED.value,
})  # fmt: skip
HIDDEN = "(PIN hidden)"
_ANSWER_RE = re.compile(r"^[0-9*#]*$")
_CALLER_RE = re.compile(r"^\+?[0-9]{1,20}$")

# Exactly what a call reads and never what it writes for later: the directory,
# the registry, tickets (option 3 reads them, option 1 escalates them), the open
# emergency and helpdesk tickets per Host ID (a repeat emergency call joins one, as
# on the real line), calendar and on-call keys.
COPIED_KEYS = frozenset({
    keys.RESELLERS, keys.SYSTEMS, keys.TICKETS, keys.TICKET_SEQUENCE,
    keys.CALENDAR_CLOSURES, keys.CALENDAR_OPENINGS,
    keys.ONCALL_ROTATION, keys.ONCALL_OVERRIDES,
})  # fmt: skip
_OPEN_EMERGENCY = keys.open_emergency("", "").removesuffix(":")  # the prefix, "ivr:emergency:"
_COPIED_PATTERN = re.compile(
    "^(?:"
    + "|".join(
        re.escape(prefix) + tail
        for prefix, tail in (
            (keys.reseller(""), r"[^:]+"),
            (keys.phone(""), r"[^:]+"),
            (keys.system(""), r"[^:]+"),
            (keys.ticket(""), r"[0-9]+"),
            (keys.HELPDESK_OPEN, r"[0-9]+:[0-9]+"),
            (_OPEN_EMERGENCY, r"[0-9]+:[0-9]+"),
        )
    )
    + ")$"
)


class TesterBusy(Exception):
    """Another test call holds the scratch database."""


class TesterUnavailable(Exception):
    """The tester cannot run safely here (e.g. the scratch database is the production one)."""


def copied(key: str) -> bool:
    """Whether a production key is copied into the scratch database before a test call."""
    return key in COPIED_KEYS or _COPIED_PATTERN.match(key) is not None


@dataclass(frozen=True, slots=True)
class TestCall:
    """What the administrator asked for: who calls, when, and the keys pressed."""

    __test__ = False  # not a pytest test class

    caller_id: str
    at: dt.datetime
    answers: tuple[str | None, ...]
    dialed: str = DEFAULT_DIALED


def tester_time(text: str, tz: ZoneInfo) -> dt.datetime:
    """A ``datetime-local`` value (``2026-11-25T22:00``) in the support centre's zone,
    or an ISO time with its offset. Raises ValueError."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("at: expected a date and time such as 2026-11-25T22:00") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=tz)


def parse_test_call(body: object, tz: ZoneInfo) -> TestCall:
    """The request body (``caller``, ``at``, ``dtmf`` as ``ivr call --dtmf`` takes it:
    answers separated by one space, two spaces for a timeout). Raises ValueError."""
    if not isinstance(body, Mapping):
        raise ValueError("expected a JSON object")
    caller = str(body.get("caller", "")).strip()
    if not _CALLER_RE.match(caller):
        raise ValueError("caller: expected a calling number of up to 20 digits")
    at = tester_time(str(body.get("at", "")), tz)
    dtmf = str(body.get("dtmf", ""))
    answers = SimulatedCall.parse_dtmf(dtmf)
    if len(answers) > MAX_ANSWERS:
        raise ValueError(f"dtmf: at most {MAX_ANSWERS} answers")
    for answer in answers:
        if answer is not None and (len(answer) > MAX_ANSWER_KEYS or not _ANSWER_RE.match(answer)):
            raise ValueError("dtmf: keys are 0-9, * and #, answers separated by spaces")
    return TestCall(caller, at, tuple(answers))


def transcript(steps: Sequence[Step], words: Mapping[str, str]) -> list[dict[str, str]]:
    """What the caller heard and did, step by step; keys pressed at a PIN prompt hidden."""
    out: list[dict[str, str]] = []
    secret = False
    for step in steps:
        entry = {"kind": step.kind, "text": step.text}
        if step.kind == "play":
            prompt = step.text.rsplit("/", 1)[-1]
            entry |= {"prompt": prompt, "words": words.get(prompt, "")}
            secret = prompt in PIN_PROMPTS
        elif step.kind == "input":
            if secret and not step.text.startswith("(no key"):
                entry["text"] = HIDDEN
            secret = False
        out.append(entry)
    return out


def ticket_said(variables: Mapping[str, str], journaled: Collection[str] = ()) -> str:
    """What the call did with its ticket, in the real line's words ("" when it has none):
    ``joined ticket 10042 (repeat call)``, never "opened", for a repeat emergency call."""
    number = variables.get(Var.TICKET.value, "")
    if not number:
        return ""
    if number in journaled:
        return f"ticket {number} kept in the journal (Redis failed)"
    return said_of_call(variables)


def call_end(variables: Mapping[str, str], journaled: Collection[str] = ()) -> dict[str, str]:
    """Where the call ends, from the variables the dialplan would act on; ``journaled``:
    the ticket numbers the call's journal took because Redis failed."""
    names = {
        "route": Var.ROUTE, "queue": Var.QUEUE, "priority": Var.QUEUE_PRIORITY,
        "ticket": Var.TICKET, "tier": Var.TIER, "reseller": Var.RESELLER,
        "host_id": Var.HOST_ID, "oncall_dial": Var.ONCALL_DIAL, "sla_due": Var.SLA_DUE,
    }  # fmt: skip
    found = {name: variables.get(var.value, "") for name, var in names.items()}
    found["ticket_outcome"] = ticket_said(variables, journaled)
    if not found["route"]:
        found["route"] = "queue (dialplan fallback: the service set no route)"
    return found


def with_ticket_note(steps: list[dict[str, str]], said: str, number: str) -> list[dict[str, str]]:
    """The transcript with a ``note`` step saying what became of the ticket, right after
    the caller heard its number (at the end if they never did)."""
    if not said:
        return steps
    note = {"kind": "note", "text": said}
    heard = False
    for index, step in enumerate(steps):
        if step["kind"] == "play":
            heard = step.get("prompt", "") in TICKET_PROMPTS
        elif heard and step["kind"] == "say" and step["text"] == f"digits {number}":
            return [*steps[: index + 1], note, *steps[index + 1 :]]
    return [*steps, note]


def redis_failure_note(journaled: Collection[str]) -> str:
    """What the test call says when Redis failed while its ticket was being opened."""
    numbers = ", ".join(sorted(journaled))
    return (
        f"Redis failed while the ticket was being opened: the caller was given number "
        f"{numbers} from the journal, as on the real line, where the ticket would wait in "
        "the service's journal until Redis returns. This test call used a journal of its "
        "own, discarded with it: no ticket will reach production or the helpdesk."
    )


def failure_note(ends: Mapping[str, str], first_error: str) -> str:
    """What the test call says when something (Redis, most likely) failed before a
    ticket was at stake: where the caller went, and the first error line."""
    where = f"the {ends['queue']} queue" if ends["queue"] else f"route {ends['route']}"
    detail = first_error.split(": ", 1)[-1]  # without "ERROR logger: "
    return (
        f"The call failed part-way ({detail}): the caller was sent to {where}, "
        "as on the real line. Nothing was kept."
    )
