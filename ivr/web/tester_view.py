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
    """The tester: the call's inputs and keypad in one panel, the result beside it."""
    keys = "".join(
        f'<button type="button" class="key" data-key="{escape(k)}" '
        f'aria-label="key {escape(k)}">{escape(k)}</button>'
        for k in KEYPAD
    )
    zone = f"{at.tzinfo}, {at.tzname()}" if at.tzinfo else "the centre's zone"
    return page(
        "Call tester - partner support console",
        header("/tester", name, role, csrf)
        + f"""
<main id="main" class="page">
<div class="page-head"><h1>Call tester</h1>
<p class="lead">A simulated call through the real support line at the time you choose.
Nothing it does is kept: no ticket, no lockout, no page, no call record.</p></div>
<div class="tester-grid">
<form id="tester-form" class="card panel-form" aria-labelledby="call-title">
<h2 id="call-title">The call</h2>
<input type="hidden" name="csrf" value="{escape(csrf)}">
<div class="field"><label for="at">Time of the call
<span class="hint">({escape(zone)})</span></label>
<input type="datetime-local" id="at" name="at" value="{at.strftime("%Y-%m-%dT%H:%M")}"
 required></div>
<div class="field"><label for="caller">Calling number</label>
<input id="caller" name="caller" value="2145550100" inputmode="tel" autocomplete="off"
 required></div>
<div class="field"><label for="dtmf">Keys pressed <span class="hint">one answer per prompt,
separated by a space; two spaces: no answer</span></label>
<input name="dtmf" id="dtmf" class="dtmf" autocomplete="off" spellcheck="false"
 placeholder="1 1001# 2468# 123456# 1 #"></div>
<div class="keypad" role="group" aria-label="Keypad">{keys}
<div class="wide"><button type="button" id="key-next">Next prompt</button>
<button type="button" id="key-timeout">No answer</button>
<button type="button" id="key-clear">Clear</button></div>
</div>
<button type="submit" id="place-call" class="primary">Place the call</button>
</form>
<section class="card" aria-labelledby="result-title">
<h2 id="result-title">What happens</h2>
<div id="tester-status" role="status" class="visually-hidden"></div>
<p id="tester-error" class="notice" role="alert" hidden></p>
<p id="tester-placeholder" class="placeholder">Choose the time, the calling number and the keys,
then place the call: the IVR's side and the caller's appear here, step by step.</p>
<div id="tester-result" hidden>
<div class="chips" id="call-end" aria-label="Where the call ends"></div>
<p id="call-note" class="notice" hidden></p>
<ol id="call-steps" class="timeline" aria-label="The call, step by step"></ol>
<ul id="call-problems" class="error"></ul>
<details class="folded"><summary>Channel variables set for the dialplan</summary>
<div class="table-wrap" tabindex="0" role="region" aria-label="Channel variables">
<table><thead><tr><th scope="col">Variable</th><th scope="col">Value</th></tr></thead>
<tbody id="call-end-rows"></tbody></table></div></details>
</div>
</section>
</div>
</main>""",
        scripts=("/static/tester.js",),
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
