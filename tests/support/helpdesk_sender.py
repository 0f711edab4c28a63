"""The reference helpdesk sender: signed ticket events to ``POST /api/helpdesk/events``.

The tests post their events with it, and an integrator can run it (from a checkout,
with the project's Python) to try the endpoint::

    IVR_HELPDESK_SECRET=... python -m tests.support.helpdesk_sender \\
        http://127.0.0.1:8080/api/helpdesk/events event.json --key hd-77001-1

It prints the answer's status and body. The file holds one event (the JSON body
as it is sent); ``-`` reads it from stdin. Without ``--key`` the key is derived
from the body (its SHA-256), so sending the same file twice is a replay.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import aiohttp

from ivr.domain.helpdesk import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign
from ivr.domain.helpdesk_sync import Rejected, parse_event
from ivr.store.helpdesk_sync import HelpdeskSync
from ivr.store.stores import Stores

SECRET = "test-helpdesk-secret-0123456789"
PATH = "/api/helpdesk/events"


def helpdesk_ticket(
    number: str = "77001",
    *,
    reseller: str = "1001",
    host_id: str = "234567",
    status: str = "open",
    created_at: str = "2026-11-20T09:15:00-06:00",
    updated_at: str = "2026-11-20T09:15:00-06:00",
    **more: object,
) -> dict[str, object]:
    """A helpdesk ticket as the contract describes it (demo reseller 1001's Baker Law Offices)."""
    return {
        "number": number,
        "reseller_account": reseller,
        "host_id": host_id,
        "end_customer": "Baker Law Offices",
        "system_type": "UCX250",
        "software_release": "6.9.0",
        "call_scenario": "Calls drop after 30 seconds on every trunk.",
        "status": status,
        "title": "Calls dropping",
        "created_at": created_at,
        "updated_at": updated_at,
        **more,
    }


def event_body(event: str = "created", **ticket: Any) -> bytes:
    """The exact bytes of one event (what is signed and sent)."""
    return json.dumps({"event": event, "ticket": helpdesk_ticket(**ticket)}).encode()


def signed_headers(body: bytes, key: str, secret: str = SECRET) -> dict[str, str]:
    """The headers the helpdesk sends with a body."""
    return {
        "Content-Type": "application/json",
        IDEMPOTENCY_HEADER: key,
        SIGNATURE_HEADER: sign(body, secret),
    }


async def post_event(
    url: str,
    body: bytes,
    key: str | None = None,
    *,
    secret: str = SECRET,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """POST one body, signed unless ``headers`` replace the signed ones; (status, JSON)."""
    sent = headers if headers is not None else signed_headers(body, key or _key(body), secret)
    async with aiohttp.ClientSession() as client, client.post(url, data=body, headers=sent) as r:
        return r.status, await r.json(content_type=None)


async def take_in(stores: Stores, event: str = "created", **ticket: Any) -> str:
    """Put one helpdesk ticket in as the endpoint would, without HTTP; its number."""
    sync = HelpdeskSync(stores.redis, stores.calendars)
    parsed = parse_event({"event": event, "ticket": helpdesk_ticket(**ticket)})
    [result] = await sync.apply([parsed], parsed.ticket.updated_at)
    if isinstance(result, Rejected):
        raise AssertionError(result.reason)
    return result.number


def _key(body: bytes) -> str:
    return "hd-" + hashlib.sha256(body).hexdigest()[:32]


def main(argv: list[str] | None = None) -> int:
    """Send one signed event and print the answer."""
    parser = argparse.ArgumentParser(prog="python -m tests.support.helpdesk_sender")
    parser.add_argument("url", help=f"the phone line's endpoint, ending in {PATH}")
    parser.add_argument("file", help="the event's JSON body; - for stdin")
    parser.add_argument("--key", help="Idempotency-Key (default: from the body's SHA-256)")
    args = parser.parse_args(argv)
    secret = os.environ.get("IVR_HELPDESK_SECRET", "")
    if not secret:
        print("set IVR_HELPDESK_SECRET to the phone line's secret", file=sys.stderr)  # noqa: T201
        return 2
    raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    status, answer = asyncio.run(post_event(args.url, raw, args.key, secret=secret))
    print(status, json.dumps(answer))  # noqa: T201
    return 0 if status < 300 else 1


if __name__ == "__main__":
    raise SystemExit(main())
