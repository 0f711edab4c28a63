"""``POST /api/helpdesk/events``: the helpdesk's ticket events, taken in.

Authenticated by the body's HMAC signature (``Access.HELPDESK``: checked in
``ivr.web.security`` before this runs), idempotent by ``Idempotency-Key``; every
refusal says why, and writes nothing. The rules are ``ivr.domain.helpdesk_sync``;
the writes ``ivr.store.helpdesk_sync``.
"""

from __future__ import annotations

import logging

from aiohttp import web

from ivr.domain.helpdesk import IDEMPOTENCY_HEADER
from ivr.domain.helpdesk_sync import (
    Rejected,
    SyncOutcome,
    check_idempotency_key,
    event_digest,
    parse_body,
)
from ivr.store.helpdesk_sync import HelpdeskSync
from ivr.web.context import CLOCK
from ivr.web.security import Access, access, log_refusal

log = logging.getLogger("ivr.web")

HELPDESK_SYNC = web.AppKey("helpdesk_sync", HelpdeskSync)


@access(Access.HELPDESK)
async def events(request: web.Request) -> web.StreamResponse:
    """Take one signed helpdesk event: 201 created, 200 otherwise; 400/409/422 with a reason."""
    body = await request.read()  # capped and signature-checked by the access check
    try:
        key = check_idempotency_key(request.headers.get(IDEMPOTENCY_HEADER, ""))
        event = parse_body(body)
        digest = event_digest(body)
        applied = await request.app[HELPDESK_SYNC].receive(event, key, digest, request.app[CLOCK]())
    except Rejected as exc:
        log_refusal(request, str(int(exc.problem)),
                    f"web: helpdesk event refused ({int(exc.problem)}): {exc.reason}")  # fmt: skip
        return web.json_response({"error": exc.reason}, status=int(exc.problem))
    log.info("web: helpdesk event %s for ticket %s: %s%s", event.kind.value, applied.number,
             applied.outcome.value, " (replayed)" if applied.replayed else "")  # fmt: skip
    created = applied.outcome is SyncOutcome.CREATED and not applied.replayed
    return web.json_response(applied.as_json(), status=201 if created else 200)
