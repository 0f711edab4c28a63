"""The administrators' call tester in the browser: a keypad page and its API.

The page's script posts the caller, the time and the keys to ``/api/tester/call``
(with the CSRF token) and shows the answer; the call itself runs in
``ivr.tester.engine`` against a scratch database, never the production data.
"""

from __future__ import annotations

import datetime as dt
import logging
from html import escape

from aiohttp import web
from redis.exceptions import RedisError

from ivr.tester.engine import CallTester
from ivr.tester.rules import TesterBusy, TesterUnavailable, parse_test_call
from ivr.web.context import CLOCK, TIMEZONE
from ivr.web.html import header, page
from ivr.web.security import Access, access, current_account, current_session

log = logging.getLogger("ivr.web")

# Set by whoever builds the app with a tester (``ivr serve``, ``ivr web``).
TESTER: web.AppKey[CallTester] = web.AppKey("tester")
KEYPAD = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#")


def tester_page(name: str, role: str, csrf: str, at: dt.datetime) -> str:
    """The keypad page (the script does the rest)."""
    keys = "".join(
        f'<button type="button" class="key" data-key="{escape(k)}">{escape(k)}</button>'
        for k in KEYPAD
    )
    return page(
        "Call tester - partner support line",
        header("Call tester", name, role, csrf)
        + f"""
<main class="tester">
<p class="muted">A simulated call through the real support line at the time you choose.
Nothing it does is kept: no ticket, no lockout, no page, no call record.</p>
<form id="tester-form">
<input type="hidden" name="csrf" value="{escape(csrf)}">
<label>Time of the call
<input type="datetime-local" name="at" value="{at.strftime("%Y-%m-%dT%H:%M")}" required></label>
<label>Calling number <input name="caller" value="2145550100" inputmode="tel" required></label>
<label>Keys pressed, one answer per prompt (two spaces: no answer)
<input name="dtmf" id="dtmf" class="dtmf" autocomplete="off" spellcheck="false"></label>
<div class="keypad" role="group" aria-label="Keypad">{keys}
<button type="button" id="key-next">Next prompt</button>
<button type="button" id="key-timeout">No answer</button>
<button type="button" id="key-clear">Clear</button>
</div>
<button type="submit" id="place-call">Place the call</button>
</form>
<p id="tester-error" class="error" role="alert" hidden></p>
<section id="tester-result" hidden>
<h2>Where the call ends</h2>
<p id="call-end" class="call-end"></p>
<table class="call-end-table"><tbody id="call-end-rows"></tbody></table>
<h2>What the caller hears</h2>
<ol id="call-steps" class="steps"></ol>
<ul id="call-problems" class="error"></ul>
</section>
</main>""",
        script="/static/tester.js",
    )


@access(Access.ADMIN)
async def tester(request: web.Request) -> web.StreamResponse:
    """The call tester's keypad page."""
    account = current_account(request)
    session = current_session(request)
    at = request.app[CLOCK]().astimezone(request.app[TIMEZONE])
    return web.Response(
        text=tester_page(account.name, account.role.value, session.csrf if session else "", at),
        content_type="text/html",
    )


@access(Access.ADMIN)
async def call(request: web.Request) -> web.StreamResponse:
    """Place a test call: JSON ``{"caller", "at", "dtmf"}``; what was heard and where it ends."""
    tester_ = request.app.get(TESTER)
    if tester_ is None:
        raise web.HTTPServiceUnavailable(text="the call tester is not enabled in this process")
    try:
        wanted = parse_test_call(await request.json(), request.app[TIMEZONE])
    except ValueError as exc:  # JSONDecodeError is one
        # The message names the field, never echoes what was typed (it may hold a PIN).
        raise web.HTTPBadRequest(text=f"bad test call: {exc}") from None
    try:
        result = await tester_.place(wanted)
    except TesterBusy as exc:
        raise web.HTTPTooManyRequests(text=str(exc), headers={"Retry-After": "2"}) from None
    except TesterUnavailable as exc:
        raise web.HTTPServiceUnavailable(text=str(exc)) from None
    except (RedisError, OSError) as exc:
        log.error("web: test call failed: %s", exc)
        raise web.HTTPServiceUnavailable(text="the test call could not run (Redis)") from None
    log.info("web: test call placed by %s", current_account(request).name)
    return web.json_response(result)
