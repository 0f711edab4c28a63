"""``POST /api/helpdesk/events`` over real HTTP and Redis: signed, unsigned, replayed,
out of order, malformed, unknown, colliding; every refusal says why and stores nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, cast

import aiohttp
import pytest
from redis.asyncio import Redis

from ivr.config import Settings
from ivr.domain.helpdesk import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign
from ivr.domain.records import TicketSource, TicketStatus
from ivr.store import keys
from ivr.store.stores import Stores
from tests.support.helpdesk_sender import (
    PATH,
    SECRET,
    event_body,
    helpdesk_ticket,
    post_event,
    signed_headers,
)
from tests.support.tickets import new_ticket
from tests.support.web_harness import Web, running_dashboard


@pytest.fixture
async def web(redis: Redis, stores: Stores, settings: Settings) -> AsyncIterator[Web]:
    """The dashboard with the helpdesk secret set, over the demo data."""
    async with running_dashboard(redis, settings.with_overrides(helpdesk_secret=SECRET)) as up:
        yield up


async def snapshot(redis: Redis) -> dict[str, Any]:
    """Every key and its value: to show that a refused event wrote nothing."""
    out: dict[str, Any] = {}
    for key in sorted(cast(list[str], await redis.keys("*"))):
        kind = await redis.type(key)
        if kind == "hash":
            out[key] = await redis.hgetall(key)
        elif kind == "string":
            out[key] = await redis.get(key)
        elif kind == "list":
            out[key] = await redis.lrange(key, 0, -1)
        elif kind == "set":
            out[key] = sorted(await redis.smembers(key))
        elif kind == "zset":
            out[key] = await redis.zrange(key, 0, -1, withscores=True)
        else:
            out[key] = kind
    return out


async def test_a_signed_event_creates_the_ticket(web: Web, stores: Stores) -> None:
    """201 and the ticket as the helpdesk described it, with the system's tier."""
    status, answer = await post_event(web.base + PATH, event_body(), "hd-77001-1")
    assert (status, answer) == (201, {"result": "created", "ticket": "77001", "replayed": False})
    ticket = await stores.tickets.get("77001")
    assert ticket is not None
    assert (ticket.source, ticket.status, ticket.title) == (
        TicketSource.HELPDESK, TicketStatus.OPEN, "Calls dropping",
    )  # fmt: skip
    assert (ticket.tier.value, ticket.end_customer, ticket.emergency) == (
        "premium", "Baker Law Offices", False,
    )  # fmt: skip
    assert ticket.scenario == "Calls drop after 30 seconds on every trunk."
    assert [e["event"] for e in await stores.tickets.audit("77001")] == ["synced"]
    assert await stores.redis.xlen(keys.HELPDESK_OUTBOX) == 0  # never echoed back


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({IDEMPOTENCY_HEADER: "k1"}, "X-IVR-Signature is missing"),
        ({IDEMPOTENCY_HEADER: "k1", SIGNATURE_HEADER: "sha256=" + "0" * 64}, "does not match"),
        ({IDEMPOTENCY_HEADER: "k1", SIGNATURE_HEADER: sign(event_body(), "another-secret-0123")},
         "does not match"),
        ({IDEMPOTENCY_HEADER: "k1", SIGNATURE_HEADER: "sha256=\u00e9t\u00e9"}, "does not match"),
    ],
)  # fmt: skip
async def test_unsigned_or_forged_events_are_401_and_change_nothing(
    web: Web, redis: Redis, headers: dict[str, str], reason: str
) -> None:
    """No signature, a wrong one, another secret's, or junk: 401 with the reason; nothing kept."""
    before = await snapshot(redis)
    status, answer = await post_event(web.base + PATH, event_body(), headers=headers)
    assert status == 401
    assert reason in answer["error"]
    assert await snapshot(redis) == before


async def test_a_changed_body_fails_its_signature(web: Web, redis: Redis) -> None:
    """The signature of one body does not carry over to another (the title edited on the way)."""
    headers = signed_headers(event_body(), "k1")
    before = await snapshot(redis)
    status, _ = await post_event(web.base + PATH, event_body(title="Forged"), headers=headers)
    assert status == 401
    assert await snapshot(redis) == before


async def test_a_replay_is_answered_as_before_and_changes_nothing(
    web: Web, redis: Redis, stores: Stores
) -> None:
    """The same key and body again: the first answer, marked replayed; one audit entry."""
    url = web.base + PATH
    assert (await post_event(url, event_body(), "hd-1"))[0] == 201
    after_first = await snapshot(redis)
    status, answer = await post_event(url, event_body(), "hd-1")
    assert (status, answer) == (200, {"result": "created", "ticket": "77001", "replayed": True})
    assert await snapshot(redis) == after_first
    status, answer = await post_event(url, event_body(title="Other"), "hd-1")
    assert status == 409
    assert "already used for a different event" in answer["error"]
    assert await snapshot(redis) == after_first


async def test_a_replayed_body_under_a_new_key_is_stale(web: Web, stores: Stores) -> None:
    """A captured body sent again with a fresh key cannot regress the ticket: its version
    (``updated_at``) is not newer than the one held."""
    url = web.base + PATH
    first = event_body(updated_at="2026-11-20T09:15:00-06:00")
    second = event_body("updated", updated_at="2026-11-20T10:00:00-06:00", status="acknowledged",
                        acknowledged_by="Ana Ruiz")  # fmt: skip
    assert (await post_event(url, first, "a"))[0] == 201
    assert (await post_event(url, second, "b"))[1]["result"] == "updated"
    status, answer = await post_event(url, first, "replayed-under-a-new-key")
    assert (status, answer["result"]) == (200, "stale")
    ticket = await stores.tickets.get("77001")
    assert ticket is not None
    assert (ticket.status, ticket.acknowledged_by) == (TicketStatus.ACKNOWLEDGED, "Ana Ruiz")


async def test_out_of_order_events_never_regress_a_ticket(web: Web, stores: Stores) -> None:
    """Resolved (10:30) arrives before updated (10:00): the ticket stays resolved."""
    url = web.base + PATH
    resolved = event_body("resolved", status="resolved", updated_at="2026-11-20T10:30:00-06:00",
                          resolution_note="trunk replaced")  # fmt: skip
    updated = event_body("updated", title="Calls dropping on trunk 2",
                         updated_at="2026-11-20T10:00:00-06:00")  # fmt: skip
    assert (await post_event(url, event_body(), "1"))[0] == 201
    assert (await post_event(url, resolved, "3"))[1]["result"] == "updated"
    assert (await post_event(url, updated, "2"))[1]["result"] == "stale"
    ticket = await stores.tickets.get("77001")
    assert ticket is not None
    assert (ticket.status, ticket.title, ticket.resolution_note) == (
        TicketStatus.RESOLVED, "Calls dropping", "trunk replaced",
    )  # fmt: skip
    assert await stores.redis.zcard(keys.helpdesk_open("1001", "234567")) == 0


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"{not json", 400, "not JSON"),
        (b"\xff\xfe", 400, "not UTF-8"),
        (b"[1, 2]", 400, "JSON object"),
        (json.dumps({"event": "deleted", "ticket": helpdesk_ticket()}).encode(), 400,
         "event must be one of"),
        (event_body(number="77-001"), 400, "ticket.number must be 1 to 10 digits"),
        (event_body(number="12345678901"), 400, "ticket.number must be 1 to 10 digits"),
        (event_body(status="closed"), 400, "ticket.status must be one of"),
        (event_body(created_at="yesterday"), 400, "ticket.created_at must be an ISO 8601"),
        (event_body(updated_at="2026-11-20T09:15:00"), 400, "with its UTC offset"),
        (event_body(title="a\nb"), 400, "ticket.title holds control characters"),
        (event_body("resolved"), 400, "a resolved event needs ticket.status resolved"),
        (event_body(reseller="4001"), 422, "unknown reseller account 4001"),
        (event_body(host_id="100234"), 422, "unknown Host ID 100234"),
        (event_body(host_id="567890"), 422, "Host ID 567890 is not a system of reseller 1001"),
        (event_body(number="0010001"), 409, "numbers starting with 0 are the phone line's"),
    ],
)  # fmt: skip
async def test_bad_events_get_a_reason_and_store_nothing(
    web: Web, redis: Redis, body: bytes, status: int, reason: str
) -> None:
    """Malformed 400, unknown reseller or Host ID 422, reserved numbers 409: nothing kept."""
    before = await snapshot(redis)
    answer = await post_event(web.base + PATH, body, "k")
    assert answer[0] == status
    assert reason in answer[1]["error"]
    assert await snapshot(redis) == before


async def test_a_key_is_required_and_must_match_the_body(web: Web, redis: Redis) -> None:
    """No Idempotency-Key, or one other than the body's ``idempotency_key``: 400."""
    body = event_body()
    headers = signed_headers(body, "k")
    del headers[IDEMPOTENCY_HEADER]
    status, answer = await post_event(web.base + PATH, body, headers=headers)
    assert (status, answer["error"]) == (400, "the Idempotency-Key header is required")
    keyed = json.dumps({"idempotency_key": "a", "event": "created",
                        "ticket": helpdesk_ticket()}).encode()  # fmt: skip
    status, answer = await post_event(web.base + PATH, keyed, "b")
    assert (status, answer["error"]) == (400, "idempotency_key in the body differs from the header")
    assert await redis.exists(keys.ticket("77001")) == 0


async def test_a_number_the_phone_line_uses_is_409(web: Web, stores: Stores, redis: Redis) -> None:
    """One keypad namespace: the phone line's ticket 10001, and 10002 (handed out by its
    counter, not yet written), are refused; the phone line's ticket is untouched."""
    phone = await stores.tickets.create(new_ticket())
    await redis.incr(keys.TICKET_SEQUENCE)  # 10002 allocated by a call still recording
    before = await snapshot(redis)
    for number, why in ((phone.number, "names a ticket the phone line opened"),
                        ("10002", "in the phone line's own range")):  # fmt: skip
        status, answer = await post_event(web.base + PATH, event_body(number=number), number)
        assert status == 409
        assert why in answer["error"]
    assert await snapshot(redis) == before


async def test_the_phone_line_skips_numbers_the_helpdesk_holds(web: Web, stores: Stores) -> None:
    """The helpdesk holds 10001 and 10002 before any call: the first phone ticket is 10003."""
    for number in ("10001", "10002", "10004"):
        assert (await post_event(web.base + PATH, event_body(number=number), number))[0] == 201
    first = await stores.tickets.create(new_ticket())
    second = await stores.tickets.create(new_ticket(emergency=False))
    assert (first.number, second.number) == ("10003", "10005")


async def test_a_body_over_64_kib_is_413(web: Web, redis: Redis) -> None:
    """The cap holds whether the length is declared or streamed; the reason says it."""
    body = event_body(call_scenario="x" * (70 * 1024))
    before = await snapshot(redis)
    status, answer = await post_event(web.base + PATH, body, "big")
    assert status == 413
    assert "65536" in answer["error"]

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    async with aiohttp.ClientSession() as client, client.post(
        web.base + PATH, data=chunks(), headers=signed_headers(body, "big")
    ) as response:  # fmt: skip
        assert response.status == 413
        assert "65536" in (await response.json())["error"]
    assert await snapshot(redis) == before


async def test_without_a_secret_the_endpoint_is_off(
    redis: Redis, stores: Stores, settings: Settings
) -> None:
    """IVR_HELPDESK_SECRET unset: 503 saying so (nothing could be authenticated)."""
    async with running_dashboard(redis, settings) as web:
        status, answer = await post_event(web.base + PATH, event_body(), "k")
    assert status == 503
    assert "IVR_HELPDESK_SECRET is not set" in answer["error"]


async def test_an_account_is_no_substitute_for_the_signature(web: Web, redis: Redis) -> None:
    """An administrator's bearer token on an unsigned event: 401, nothing kept."""
    token = await web.accounts.new_token("ada")
    before = await snapshot(redis)
    headers = {IDEMPOTENCY_HEADER: "k", "Authorization": f"Bearer {token}"}
    status, answer = await post_event(web.base + PATH, event_body(), headers=headers)
    assert status == 401
    assert "X-IVR-Signature is missing" in answer["error"]
    assert await snapshot(redis) == before


async def test_a_retry_may_respace_the_same_event(web: Web, redis: Redis) -> None:
    """The same JSON with other spacing and key order, under the same key: a replay, not 409."""
    url = web.base + PATH
    assert (await post_event(url, event_body(), "hd-1"))[0] == 201
    respaced = json.dumps(json.loads(event_body()), indent=2, sort_keys=True).encode() + b"\n"
    status, answer = await post_event(url, respaced, "hd-1")
    assert (status, answer["replayed"]) == (200, True)


async def test_a_flood_of_forgeries_is_one_log_line(
    web: Web, caplog: pytest.LogCaptureFixture
) -> None:
    """Fifty forged events in a row: fifty 401s, one WARNING (the next would count the rest)."""
    headers = {IDEMPOTENCY_HEADER: "k", SIGNATURE_HEADER: "sha256=" + "0" * 64}
    for _ in range(50):
        assert (await post_event(web.base + PATH, event_body(), headers=headers))[0] == 401
    lines = [r for r in caplog.records if "helpdesk event refused" in r.getMessage()]
    assert len(lines) == 1
    assert SECRET not in caplog.text
