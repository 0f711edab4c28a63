"""The tickets in the JSON API: the list, one ticket with everything it holds,
acknowledge and resolve, and the caller's recorded descriptions.

A recording is served only when it is named in the ticket's ``scenario`` and
lies inside ``IVR_RECORDING_DIR`` (after following links) as a WAV file: the
URL carries the ticket number and the recording's index, never a path.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from ivr.domain.codec import to_json
from ivr.domain.records import Ticket
from ivr.domain.ticket_events import Verdict
from ivr.store.sla import SlaStore
from ivr.web.context import CLOCK, DIRECTORY, RECORDING_DIR, REDIS, TICKETS
from ivr.web.replies import json_reply, limit_of
from ivr.web.security import Access, access, current_account

log = logging.getLogger("ivr.web")


def _number(request: web.Request) -> str:
    number = request.match_info["number"]
    if not number.isdigit() or len(number) > 12:
        raise web.HTTPBadRequest(text="a ticket number is digits")
    return number


def ticket_json(ticket: Ticket, names: dict[str, str]) -> dict[str, Any]:
    """A ticket as the API shows it: every field, and its reseller's name."""
    return to_json(ticket) | {"reseller_name": names.get(ticket.reseller_account, "")}


def scenario_files(scenario: str) -> list[str]:
    """The recordings a ticket's ``scenario`` names, one per call, in order."""
    return [line.strip() for line in scenario.splitlines() if line.strip()]


def recording_file(scenario: str, index: int, root: str) -> Path | None:
    """The file of the ticket's ``index``-th recording if it is a WAV file inside
    ``root`` (links followed first); None otherwise. Touches the disk: run in a thread."""
    files = scenario_files(scenario)
    if not root or not 0 <= index < len(files):
        return None
    base = Path(root).resolve()
    named = Path(files[index])
    resolved = (named if named.is_absolute() else base / named).resolve()
    if not resolved.is_relative_to(base) or resolved.suffix.lower() != ".wav":
        return None
    return resolved if resolved.is_file() else None


def _recordings(ticket: Ticket, root: str) -> list[dict[str, Any]]:
    """Each recording of a ticket: its file name and, when it can be played, its URL."""
    found = []
    for index, name in enumerate(scenario_files(ticket.scenario)):
        playable = recording_file(ticket.scenario, index, root) is not None
        found.append({
            "index": index,
            "file": Path(name).name,
            "url": f"/api/tickets/{ticket.number}/recordings/{index}" if playable else "",
        })  # fmt: skip
    return found


@access(Access.SUPERVISOR)
async def tickets(request: web.Request) -> web.StreamResponse:
    """The newest tickets first (``?limit=``, at most 500), with their resellers' names."""
    found = await request.app[TICKETS].recent(limit_of(request))
    names = await request.app[DIRECTORY].names(t.reseller_account for t in found)
    return json_reply({"tickets": [ticket_json(t, names) for t in found]})


@access(Access.SUPERVISOR)
async def ticket(request: web.Request) -> web.StreamResponse:
    """One ticket with everything it holds: fields, reseller's name, recordings, SLA
    alerts, paging attempts and audit trail."""
    number = _number(request)
    store = request.app[TICKETS]
    found = await store.get(number)
    if found is None:
        raise web.HTTPNotFound(text=f"no ticket {number}")
    names = await request.app[DIRECTORY].names([found.reseller_account])
    alerts = await SlaStore(request.app[REDIS]).alerts(found.number)
    recordings = await asyncio.to_thread(_recordings, found, request.app[RECORDING_DIR])
    return json_reply({
        "ticket": ticket_json(found, names),
        "pages": await store.paging_log(found.number),
        "audit": await store.audit(found.number),
        "sla_alerts": [a.as_json() for a in alerts],
        "recordings": recordings,
    })  # fmt: skip


@access(Access.SUPERVISOR)
async def recording(request: web.Request) -> web.StreamResponse:
    """One of the ticket's recorded descriptions as WAV (signed-in users only)."""
    number = _number(request)
    index_text = request.match_info["index"]
    if not index_text.isdigit() or len(index_text) > 3:
        raise web.HTTPBadRequest(text="a recording is chosen by its index")
    found = await request.app[TICKETS].get(number)
    if found is None:
        raise web.HTTPNotFound(text=f"no ticket {number}")
    root = request.app[RECORDING_DIR]
    path = await asyncio.to_thread(recording_file, found.scenario, int(index_text), root)
    if path is None:
        raise web.HTTPNotFound(text="no such recording")
    return web.FileResponse(path, headers={"Content-Type": "audio/wav"})


async def _change(request: web.Request, verb: str) -> web.StreamResponse:
    number = _number(request)
    note = ""
    if request.can_read_body:
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text='the body is JSON: {"note": "..."}') from None
        note = str(body.get("note", ""))[:2000] if isinstance(body, dict) else ""
    store = request.app[TICKETS]
    by = current_account(request).name
    now = request.app[CLOCK]()
    if verb == "ack":
        result = await store.acknowledge(number, by, now)
    else:
        result = await store.resolve(number, by, now, note)
    if result.verdict is Verdict.NOT_FOUND or result.ticket is None:
        raise web.HTTPNotFound(text=f"no ticket {number}")
    if result.verdict is Verdict.REFUSED:
        raise web.HTTPConflict(text=f"ticket {number} is {result.ticket.status.value}")
    log.info("web: ticket %s %s by %s (%s)", number, verb, by, result.verdict.value)
    names = await request.app[DIRECTORY].names([result.ticket.reseller_account])
    return json_reply(
        {"verdict": result.verdict.value, "ticket": ticket_json(result.ticket, names)}
    )


@access(Access.ADMIN)
async def ticket_ack(request: web.Request) -> web.StreamResponse:
    """Acknowledge a ticket as the signed-in administrator (stops its SLA alerts)."""
    return await _change(request, "ack")


@access(Access.ADMIN)
async def ticket_resolve(request: web.Request) -> web.StreamResponse:
    """Resolve a ticket (optional JSON ``{"note": ...}``); re-paging stops."""
    return await _change(request, "resolve")
