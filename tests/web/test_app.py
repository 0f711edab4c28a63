"""The supervisors' web app over real HTTP, with a real Redis: access, sign-in, API, live."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from ivr.config import Settings
from ivr.domain.queues import Queue
from ivr.store import keys, pin_load
from ivr.store.live import LiveStore
from ivr.store.stores import Stores
from ivr.web.app import ROUTES, watch_ami
from ivr.web.relay import Relay
from ivr.web.security import SECURITY_HEADERS, SESSION_COOKIE, Access, access_of
from tests.support.harness import OPEN_HOURS
from tests.support.web_harness import (
    ADMIN,
    SUPERVISOR,
    Web,
    browser,
    csrf_of,
    running_dashboard,
    sign_in,
)

PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/static/app.css"), ("GET", "/healthz"),
          ("GET", "/metrics")}  # fmt: skip
ADMIN_ONLY = {("GET", "/api/users"), ("POST", "/api/users"), ("DELETE", "/api/users/{name}"),
              ("GET", "/tester"), ("GET", "/static/tester.js"),
              ("POST", "/api/tester/call"), ("POST", "/api/tickets/{number}/ack"),
              ("POST", "/api/tickets/{number}/resolve")}  # fmt: skip
# No account at all: the body's signature (tests/web/test_helpdesk_events.py walks it).
SIGNED = {("POST", "/api/helpdesk/events")}


@pytest.fixture
async def web(redis: Redis, settings: Settings) -> AsyncIterator[Web]:
    """The dashboard on a free port."""
    async with running_dashboard(redis, settings) as running:
        yield running


def _path(template: str) -> str:
    return template.replace("{number}", "10001").replace("{name}", "nobody").replace("{index}", "0")


def test_every_route_declares_its_access() -> None:
    """Each handler says who may use it; only sign-in, health and metrics are open, and only
    the helpdesk's events are taken on a signature instead of an account."""
    declared = {(r.method, r.path): access_of(r.handler) for r in ROUTES}
    assert None not in declared.values()
    assert {k for k, v in declared.items() if v is Access.PUBLIC} == PUBLIC
    assert {k for k, v in declared.items() if v is Access.ADMIN} == ADMIN_ONLY
    assert {k for k, v in declared.items() if v is Access.HELPDESK} == SIGNED


async def test_walk_routes_without_sign_in(web: Web) -> None:
    """Every non-public route refuses an anonymous request: 401 for the API, sign-in for pages."""
    async with aiohttp.ClientSession() as client:
        for route in ROUTES:
            method, path = route.method, route.path
            if (method, path) in PUBLIC | SIGNED:
                continue
            async with client.request(method, web.base + _path(path),
                                      allow_redirects=False) as response:  # fmt: skip
                if path.startswith("/api/"):
                    assert response.status == 401, (method, path)
                    assert "WWW-Authenticate" in response.headers
                else:
                    assert response.status == 302, (method, path)
                    assert response.headers["Location"] == "/login"


async def test_walk_routes_as_supervisor_and_admin(web: Web) -> None:
    """A supervisor's token opens every route but the administrators'; an admin's opens all."""
    supervisor = await web.accounts.new_token(SUPERVISOR[0])
    admin = await web.accounts.new_token(ADMIN[0])
    async with aiohttp.ClientSession() as client:
        for route in ROUTES:
            method, path = route.method, route.path
            if (method, path) in PUBLIC | SIGNED or path == "/api/live":
                continue
            for token, allowed in ((supervisor, (method, path) not in ADMIN_ONLY), (admin, True)):
                headers = {"Authorization": f"Bearer {token}"}
                async with client.request(method, web.base + _path(path), headers=headers,
                                          allow_redirects=False) as response:  # fmt: skip
                    if allowed:
                        assert response.status not in (401, 403), (method, path, token)
                    else:
                        assert response.status == 403, (method, path)


async def test_wrong_token_is_refused(web: Web) -> None:
    """A made-up bearer token is a 401, never a session fallback."""
    async with (
        aiohttp.ClientSession() as client,
        client.get(
            f"{web.base}/api/queues", headers={"Authorization": "Bearer " + "x" * 43}
        ) as response,
    ):
        assert response.status == 401


async def test_sign_in_gives_a_fresh_strict_session_and_sign_out_ends_it(web: Web) -> None:
    """No fixation: a planted cookie is replaced; the cookie is HttpOnly and SameSite=Strict."""
    async with browser() as client:
        planted = "planted-session-id-0123456789abcdef"
        client.cookie_jar.update_cookies({SESSION_COOKIE: planted})
        async with client.get(f"{web.base}/login") as page:
            html = await page.text()
        from tests.support.web_harness import login_token  # noqa: PLC0415

        async with client.post(f"{web.base}/login", allow_redirects=False, data={
            "name": SUPERVISOR[0], "password": SUPERVISOR[1], "csrf": login_token(html),
        }) as response:  # fmt: skip
            assert response.status == 303
            cookie = response.cookies[SESSION_COOKIE]
            assert cookie.value != planted
            assert cookie["httponly"]
            assert cookie["samesite"] == "Strict"
            session = cookie.value
        async with client.get(f"{web.base}/api/me") as response:
            assert await response.json() == {"name": "sam", "role": "supervisor"}
        csrf = await csrf_of(client, web.base)
        async with client.post(f"{web.base}/logout", data={"csrf": csrf},
                               allow_redirects=False) as response:  # fmt: skip
            assert response.status == 303
    async with browser() as replay:
        replay.cookie_jar.update_cookies({SESSION_COOKIE: session})
        async with replay.get(f"{web.base}/api/me") as response:
            assert response.status == 401


async def test_sign_in_is_throttled_per_account(web: Web) -> None:
    """Five wrong passwords lock the account's sign-in, even for the right password next."""
    async with browser() as client:
        for _ in range(5):
            assert await sign_in(client, web.base, ADMIN[0], "wrong-password-guess") == 401
        assert await sign_in(client, web.base, ADMIN[0], ADMIN[1]) == 429


async def test_sign_in_is_throttled_per_address(web: Web) -> None:
    """Guessing across many account names from one address is stopped too."""
    async with browser() as client:
        for index in range(20):
            assert await sign_in(client, web.base, f"user{index}", "wrong-password-guess") == 401
        assert await sign_in(client, web.base, SUPERVISOR[0], SUPERVISOR[1]) == 429


async def test_login_form_needs_its_csrf_token(web: Web) -> None:
    """A sign-in posted from another site (no double-submit token) is refused."""
    async with (
        aiohttp.ClientSession() as client,
        client.post(f"{web.base}/login", data={"name": ADMIN[0], "password": ADMIN[1]}) as response,
    ):
        assert response.status == 403


async def test_unsafe_requests_need_the_csrf_token(web: Web) -> None:
    """A signed-in browser's POST without the session's CSRF token is refused; with it, done."""
    body = {"name": "newbie", "role": "supervisor", "password": "a-long-enough-password"}
    async with browser() as client:
        assert await sign_in(client, web.base, ADMIN[0], ADMIN[1]) == 200
        async with client.post(f"{web.base}/api/users", json=body) as response:
            assert response.status == 403
        csrf = await csrf_of(client, web.base)
        async with client.post(f"{web.base}/api/users", json=body,
                               headers={"X-CSRF-Token": csrf}) as response:  # fmt: skip
            assert response.status == 201
            assert await response.json() == {"name": "newbie", "role": "supervisor"}


async def test_security_headers_on_pages_api_and_errors(web: Web) -> None:
    """CSP with frame-ancestors, nosniff and no-store on every kind of answer."""
    token = await web.accounts.new_token(SUPERVISOR[0])
    async with aiohttp.ClientSession() as client:
        for path, headers in (("/login", {}), ("/api/queues", {"Authorization": f"Bearer {token}"}),
                              ("/api/queues", {}), ("/no-such-page", {})):  # fmt: skip
            async with client.get(web.base + path, headers=headers,
                                  allow_redirects=False) as response:  # fmt: skip
                for name, value in SECURITY_HEADERS.items():
                    assert response.headers.get(name) == value, (path, name)
                assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


async def test_large_requests_are_refused(web: Web) -> None:
    """A body over 64 KiB is refused before it is read."""
    token = await web.accounts.new_token(ADMIN[0])
    async with aiohttp.ClientSession() as client, client.post(
        f"{web.base}/api/users", headers={"Authorization": f"Bearer {token}"},
        json={"name": "x", "role": "admin", "password": "p" * 200_000},
    ) as response:  # fmt: skip
        assert response.status == 413


async def test_no_secret_in_any_json_answer(web: Web) -> None:
    """Accounts are listed without hashes; no answer carries a password, hash or token."""
    token = await web.accounts.new_token(ADMIN[0])
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as client:
        for path in ("/api/users", "/api/me", "/api/queues", "/api/tickets", "/api/callbacks",
                     "/healthz"):  # fmt: skip
            async with client.get(web.base + path, headers=headers) as response:
                text = await response.text()
                assert response.status == 200, path
                for secret in (SUPERVISOR[1], ADMIN[1], token, "argon2", "password_hash"):
                    assert secret not in text, (path, secret)


async def test_health_and_metrics(web: Web, redis: Redis, settings: Settings) -> None:
    """Health says Redis is fine and AMI is not configured; metrics carry the queue depth."""
    await LiveStore(redis, settings.timezone).write([Queue("support-premium")])
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{web.base}/healthz") as response:
            assert await response.json() == {"status": "ok", "redis": "ok",
                                             "ami": "not configured"}  # fmt: skip
        async with client.get(f"{web.base}/metrics") as response:
            text = await response.text()
    assert 'ivr_queue_callers{queue="support-premium"} 0.0' in text
    assert "ivr_ami_up 0.0" in text


async def test_metrics_count_pin_checks_on_a_busy_box(web: Web, redis: Redis) -> None:
    """Callers told "one moment" and callers shed to the general queue, every worker's."""
    for event in (pin_load.PinLoad.SHED, pin_load.PinLoad.SHED, pin_load.PinLoad.ONE_MOMENT):
        await pin_load.count(redis, event)
    async with aiohttp.ClientSession() as client, client.get(f"{web.base}/metrics") as response:
        text = await response.text()
    assert "ivr_pin_shed_total 2.0" in text
    assert "ivr_pin_one_moment_total 1.0" in text


async def test_live_stream_sends_the_board_then_changes(
    web: Web, redis: Redis, settings: Settings
) -> None:
    """The live stream opens with the whole board and then relays every published change."""
    token = await web.accounts.new_token(SUPERVISOR[0])
    async with (
        aiohttp.ClientSession() as client,
        client.get(
            f"{web.base}/api/live", headers={"Authorization": f"Bearer {token}"}
        ) as response,
    ):
        assert response.headers["Content-Type"] == "text/event-stream"
        first = await _next_event(response)
        assert first["kind"] == "board"
        assert first["board"]["server_time"] == OPEN_HOURS.isoformat()
        await _wait_subscribed(web, redis)
        await LiveStore(redis, settings.timezone).write([Queue("support-standard")])
        change = await _next_event(response)
        assert change["kind"] == "queue"
        assert change["queue"]["name"] == "support-standard"


async def _wait_subscribed(web: Web, redis: Redis) -> None:
    async with asyncio.timeout(5):
        while not (await redis.pubsub_numsub("ivr:live"))[0][1]:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def _next_event(response: aiohttp.ClientResponse) -> dict[str, Any]:
    async with asyncio.timeout(5):
        while True:
            line = (await response.content.readline()).decode()
            if line.startswith("data: "):
                data: dict[str, Any] = json.loads(line.removeprefix("data: "))
                return data


async def test_browsers_learn_when_the_consumer_dies(redis: Redis, settings: Settings) -> None:
    """No message comes from a dead consumer: its heartbeat expires and the web says stale."""
    live = LiveStore(redis, settings.timezone)
    relay = Relay(redis)
    listener = relay.add()
    await live.set_ami_status(True, OPEN_HOURS)
    task = asyncio.create_task(watch_ami(live, relay, every=0.05))
    try:
        await asyncio.sleep(0.2)
        assert listener.queue.empty()  # nothing changed yet
        await redis.delete(keys.AMI_HEARTBEAT)  # the consumer stopped beating
        async with asyncio.timeout(5):
            data = await listener.queue.get()
    finally:
        task.cancel()
    message = json.loads(data.decode().split("data: ", 1)[1])
    assert message == {"kind": "ami", "ami": {"state": "down", "since": OPEN_HOURS.isoformat(),
                                              "detail": "no heartbeat"}}  # fmt: skip


async def test_tickets_acknowledged_and_resolved_through_the_api(web: Web, stores: Stores) -> None:
    """An admin acknowledges then resolves a ticket; the audit trail names them; no PIN shows."""
    ticket = await stores.tickets.create(_ticket())
    token = await web.accounts.new_token(ADMIN[0])
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{web.base}/api/tickets/{ticket.number}"
    async with aiohttp.ClientSession(headers=headers) as client:
        async with client.post(f"{base}/ack") as response:
            body = await response.json()
            assert (response.status, body["verdict"]) == (200, "changed")
            assert body["ticket"]["status"] == "acknowledged"
            assert body["ticket"]["acknowledged_by"] == "ada"
        async with client.post(f"{base}/ack") as response:
            assert (await response.json())["verdict"] == "unchanged"
        async with client.post(f"{base}/resolve", json={"note": "replaced the PSU"}) as response:
            assert (await response.json())["ticket"]["status"] == "resolved"
        async with client.post(f"{base}/ack") as response:
            assert response.status == 409  # a resolved ticket cannot be acknowledged again
        async with client.post(f"{web.base}/api/tickets/99999/ack") as response:
            assert response.status == 404
        async with client.get(base) as response:
            text = await response.text()
            shown = json.loads(text)
    assert [(e["event"], e["by"]) for e in shown["audit"]][-2:] == [
        ("acknowledged", "ada"), ("resolved", "ada"),
    ]  # fmt: skip
    for pin in ("2468", "1357"):  # the demo resellers' PINs
        assert pin not in text


def _ticket() -> Any:
    from ivr.domain.records import (  # noqa: PLC0415
        EMERGENCY_TITLE,
        NewTicket,
        Tier,
    )

    return NewTicket(
        created=OPEN_HOURS, reseller_account="1001", host_id="234567", end_customer="Contoso",
        system_type="UCX450", software_release="7.1", tier=Tier.PREMIUM, emergency=True,
        title=EMERGENCY_TITLE, sla_due=OPEN_HOURS, call_id="1795570949.20",
    )  # fmt: skip
