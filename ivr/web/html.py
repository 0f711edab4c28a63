"""HTML of the page frame, the sign-in page, the live board and the ticket list.

Pages carry no caller data of their own: the board's and the tickets' scripts
fetch the JSON API and follow ``/api/live``, and write every value with
``textContent``, so no caller ID or CSV text is ever parsed as HTML. The few
values written here are escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

BRAND = "Partner support"
# The product mark: a headset in a rounded square (inline SVG: no request, no inline style).
LOGO = (
    '<svg viewBox="0 0 32 32" aria-hidden="true" focusable="false">'
    '<rect width="32" height="32" rx="8" fill="#1a58b5"/>'
    '<path d="M9 18v-3a7 7 0 0 1 14 0v3" fill="none" stroke="#fff" stroke-width="2.4"/>'
    '<rect x="7" y="17" width="4.5" height="7" rx="1.5" fill="#fff"/>'
    '<rect x="20.5" y="17" width="4.5" height="7" rx="1.5" fill="#fff"/></svg>'
)


def page(
    title: str, body: str, *, scripts: Sequence[str] = (), body_class: str = "", data: str = ""
) -> str:
    """A whole HTML page around ``body``: the shared style sheet and the page's scripts."""
    tags = "".join(f'<script src="{escape(s)}" defer></script>' for s in scripts)
    cls = f' class="{escape(body_class)}"' if body_class else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{escape(title)}</title>
<link rel="stylesheet" href="/static/app.css">
<link rel="icon" href="data:,">
{tags}
</head>
<body{cls}{data}>
{body}
</body>
</html>
"""


def login_page(login_token: str, error: str = "", name: str = "") -> str:
    """The sign-in form (with its double-submit CSRF token)."""
    message = f'<p class="notice" role="alert">{escape(error)}</p>' if error else ""
    return page(
        "Sign in - partner support console",
        f"""<main class="signin">
<div class="card">
<div class="brand">{LOGO}<span>{BRAND}</span></div>
<h1>Sign in</h1>
<p class="muted">The supervisors' console of the partner support line: live queues,
tickets, SLA and reports.</p>
{message}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="{escape(login_token)}">
<div class="field"><label for="name">Account</label>
<input id="name" name="name" autocomplete="username" required autofocus
 autocapitalize="none" spellcheck="false" value="{escape(name)}"></div>
<div class="field"><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
</div>
<button type="submit" class="primary">Sign in</button>
</form>
</div>
<p class="foot">Partner support line 214-556-5917 · accounts: <code>ivr users add</code></p>
</main>""",
        body_class="signin-page",
    )


NAV = (("/", "Board"), ("/tickets", "Tickets"), ("/reports", "Reports"))


def header(current: str, name: str, role: str, csrf: str) -> str:
    """The signed-in pages' top bar: the product, navigation, who is signed in, sign-out."""
    links = [*NAV, ("/tester", "Call tester")] if role == "admin" else list(NAV)
    items = "".join(
        f'<li><a href="{escape(href)}"'
        + (' aria-current="page"' if href == current else "")
        + f">{escape(text)}</a></li>"
        for href, text in links
    )
    return f"""<a class="skip" href="#main">Skip to content</a>
<header class="topbar">
<a class="brand" href="/">{LOGO}<span>{BRAND}</span></a>
<nav aria-label="Main"><ul>{items}</ul></nav>
<div class="who"><span>{escape(name)} · {escape(role)}</span>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{escape(csrf)}">
<button type="submit" class="small">Sign out</button></form></div>
</header>"""


def _session_data(role: str, csrf: str, tz: str) -> str:
    return f' data-role="{escape(role)}" data-csrf="{escape(csrf)}" data-tz="{escape(tz)}"'


DRAWER = """<dialog id="ticket-drawer" class="drawer" aria-labelledby="drawer-title">
<div class="drawer-head"><h2 id="drawer-title">Ticket</h2>
<span id="drawer-badges"></span>
<button type="button" class="small" id="drawer-close">Close</button></div>
<div class="drawer-body" id="drawer-body"><p class="muted">Loading…</p></div>
</dialog>"""

TILES = (
    ("calls", "Calls today"),
    ("waiting", "Waiting now"),
    ("emergencies", "Open emergencies"),
    ("at_risk", "Tickets at risk"),
    ("sla_met", "SLA met today"),
    ("service_level", "Service level"),
    ("longest", "Longest wait today"),
)


def dashboard_page(name: str, role: str, csrf: str, tz: str, *, wall: bool = False) -> str:
    """The live board's shell (``wall``: the wallboard, no chrome); the script fills it."""
    tiles = "".join(
        f'<li class="tile" id="tile-{key}"><span class="label">{escape(label)}</span>'
        f'<span class="value">&ndash;</span><span class="sub">&nbsp;</span></li>'
        for key, label in TILES
    )
    return page(
        "Board - partner support console",
        header("/", name, role, csrf)
        + f"""
<main id="main" class="page board">
<h1 class="visually-hidden">Live board</h1>
<div class="statusline">
<span id="ami-state" class="ami" role="status">Checking the Asterisk link…</span>
<span id="updated" class="muted"></span>
<span class="spacer"></span>
<button type="button" id="sound" class="small no-wall" aria-pressed="false">
Sound on emergencies</button>
<a class="button small no-wall" href="/?wall=1">Wallboard</a>
</div>
<div id="announcer" class="announcer" aria-live="assertive" aria-atomic="false"></div>
<ul class="tiles" aria-label="Today at a glance">{tiles}</ul>
<div class="board-grid">
<section aria-labelledby="queues-title">
<div class="section-head"><h2 id="queues-title">Queues</h2></div>
<div id="queues" class="queues"><p class="muted">Loading…</p></div>
</section>
<div class="side">
<section id="sla-alerts" class="card" aria-labelledby="alerts-title" hidden>
<h2 id="alerts-title">SLA alerts</h2>
<ul id="sla-alert-list" class="alerts" aria-live="polite"></ul>
</section>
<section id="sla-panel" class="card" aria-labelledby="sla-title">
<div class="section-head"><h2 id="sla-title">On the SLA clock</h2>
<a class="no-wall" href="/tickets">All tickets</a></div>
<ol id="sla-standings" class="standings"><li class="muted">Loading…</li></ol>
</section>
</div>
</div>
</main>
{DRAWER}""",
        scripts=("/static/common.js", "/static/drawer.js", "/static/board.js"),
        body_class="wall" if wall else "",
        data=_session_data(role, csrf, tz),
    )


def tickets_page(name: str, role: str, csrf: str, tz: str) -> str:
    """The ticket list's shell with its drawer; the script fills it."""
    filters = "".join(
        f'<button type="button" class="small" data-filter="{key}" aria-pressed="'
        f'{"true" if key == "active" else "false"}">{label}</button>'
        for key, label in (
            ("active", "Not resolved"),
            ("open", "Open"),
            ("acknowledged", "Acknowledged"),
            ("resolved", "Resolved"),
            ("emergency", "Emergencies"),
            ("all", "All"),
        )
    )
    return page(
        "Tickets - partner support console",
        header("/tickets", name, role, csrf)
        + f"""
<main id="main" class="page">
<div class="page-head"><h1>Tickets</h1>
<span id="ticket-count" class="muted" role="status"></span></div>
<div class="filters" role="group" aria-label="Show">{filters}</div>
<div class="card table-wrap" tabindex="0" role="region" aria-label="Tickets">
<table id="ticket-table">
<caption class="visually-hidden">Newest tickets first; choose one to open it</caption>
<thead><tr><th scope="col">Ticket</th><th scope="col">Status</th><th scope="col">Reseller</th>
<th scope="col">Customer</th><th scope="col" class="wide-only">Host ID</th>
<th scope="col" class="wide-only">Tier</th><th scope="col" class="wide-only">Opened</th>
<th scope="col" class="wide-only">SLA due</th></tr></thead>
<tbody id="ticket-rows"><tr><td colspan="8" class="muted">Loading…</td></tr></tbody>
</table>
</div>
</main>
{DRAWER}""",
        scripts=("/static/common.js", "/static/drawer.js", "/static/tickets.js"),
        data=_session_data(role, csrf, tz),
    )
