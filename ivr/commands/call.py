"""``ivr call``: a simulated call against a running FastAGI service, printed as a dialogue."""

from __future__ import annotations

import argparse
import json
import re
import urllib.parse
from collections.abc import Mapping
from typing import TextIO

from ivr.agi.simulator import CallResult, FakeAsterisk, SimulatedCall, Step
from ivr.audio.catalogue import prompt_words
from ivr.commands.common import fail
from ivr.config import Settings
from ivr.domain.ticket_outcome import said_of_call
from ivr.domain.times import parse_local_time
from ivr.domain.variables import Var
from ivr.flows.prompts import sound_exists

# The keys of one prompt's answer: digits, * and # (none: the caller stays silent).
_KEYS = re.compile(r"[0-9*#]*")
IGNORED = "ignored"  # IVR_CALL_TIME when the server runs the call now, not at --at


async def run(args: argparse.Namespace, settings: Settings, _stdin: TextIO) -> int:
    """Place the call; print the dialogue (or ``--json``)."""
    host = args.agi_host or ("127.0.0.1" if settings.agi_host == "0.0.0.0" else settings.agi_host)  # noqa: S104
    port = args.agi_port if args.agi_port is not None else settings.agi_port
    script = args.route
    problem = dtmf_problem(args.dtmf)
    if problem:
        return fail(f"--dtmf: {problem}", 2)
    if args.at:
        try:  # without an offset: the centre's local time, as ``ivr route`` takes it
            at = parse_local_time(args.at, settings.timezone).isoformat()
        except ValueError as exc:
            return fail(f"--at: {exc}", 2)
        script += ("&" if "?" in script else "?") + urllib.parse.urlencode({"at": at})
    call = SimulatedCall(
        caller_id=args.caller,
        dialed=args.to,
        script=script,
        answers=SimulatedCall.parse_dtmf(args.dtmf),
        hangup_at=args.hangup_at,
        sound_exists=sound_exists(settings.sounds_prefix),
        strict=False,
    )
    server = f"agi://{host}:{port}/{args.route}"
    if not args.json:
        print(f"Calling {server} from {args.caller} to {args.to}", flush=True)
    try:
        result = await FakeAsterisk(host, port).place(call)
    except OSError as exc:
        return fail(f"cannot reach the FastAGI server at {host}:{port}: {exc}")
    if args.json:
        print(json.dumps({"server": server} | call_json(result, prompt_words()), indent=2))
    else:
        _print_call(result)
    return _time_used(args.at, result, server)


def dtmf_problem(spec: str) -> str | None:
    """What is wrong with a ``--dtmf`` value, in words; None when it is good."""
    for answer in spec.split(" "):
        if not _KEYS.fullmatch(answer):
            bad = next(char for char in answer if not _KEYS.fullmatch(char))
            return (
                f"{answer!r} is not a key press ({bad!r} is no key): give each prompt's "
                'keys as digits, * and #, the prompts apart by one space, e.g. "1 1001# 2468#"'
            )
    return None


def _time_used(at: str | None, result: CallResult, server: str) -> int:
    """With ``--at``: 0 when the server ran the call at that time, else say so and 1."""
    if not at:
        return 0
    used = result.variables.get(Var.CALL_TIME.value)
    if used == IGNORED:
        return fail(
            f"{server} does not allow a call time (start it with IVR_ALLOW_CALL_TIME=true): "
            f"the call ran now, not at {at}"
        )
    if not used:
        return fail(f"{server} did not say which time it used: the call may have run now")
    return 0


def call_json(result: CallResult, words: Mapping[str, str] | None = None) -> dict[str, object]:
    """The ``ivr call --json`` object."""
    variables = {k: v for k, v in result.variables.items() if k.startswith("IVR_")}
    return {
        "route": variables.get(Var.ROUTE.value, ""),
        "fastagi_route": result.route,
        "variables": variables,
        "ticket": variables.get(Var.TICKET.value) or None,
        "ticket_outcome": said_of_call(variables) or None,
        "hung_up_by": result.hung_up_by or None,
        "transcript": [_line(step, words or {}) for step in result.steps],
        "problems": result.violations,
    }


def _line(step: Step, words: Mapping[str, str]) -> str:
    """One transcript line, with the prompt's words when the catalogue has them."""
    said = words.get(step.text.rsplit("/", 1)[-1]) if step.kind == "play" else None
    return f'{step}  "{said}"' if said else str(step).rstrip()


def _print_call(result: CallResult) -> None:
    words = prompt_words()
    for step in result.steps:
        print(_line(step, words))
    route = result.variables.get(Var.ROUTE.value, "(none: the dialplan falls back to the queue)")
    print(f"-> route: {route}")
    if said := said_of_call(result.variables):
        print(f"-> {said}")
    used = result.variables.get(Var.CALL_TIME.value)
    if used and used != IGNORED:
        print(f"-> ran at: {used}")
    for problem in result.violations:
        print(f"!! {problem}")
