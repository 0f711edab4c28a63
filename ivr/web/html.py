"""HTML of the sign-in page and the dashboard shell.

Pages carry no data of their own: the dashboard's script fetches ``/api/queues``
and follows ``/api/live``, and writes every value with ``textContent``, so no
caller ID or CSV text is ever parsed as HTML. The few values written here are
escaped.
"""

from __future__ import annotations

from html import escape


def page(title: str, body: str, *, script: str = "") -> str:
    """A whole HTML page around ``body`` (escaped title; the shared style sheet; one script)."""
    tag = f'<script src="{escape(script)}" defer></script>' if script else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="stylesheet" href="/login.css">
<link rel="icon" href="data:,">
{tag}
</head>
<body>
{body}
</body>
</html>
"""


def login_page(login_token: str, error: str = "", name: str = "") -> str:
    """The sign-in form (with its double-submit CSRF token)."""
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return page(
        "Sign in - partner support line",
        f"""<main class="signin">
<h1>Partner support line</h1>
<p>Supervisors and administrators sign in to see the live queues.</p>
{message}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="{escape(login_token)}">
<label>Account
<input name="name" autocomplete="username" required value="{escape(name)}"></label>
<label>Password
<input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>
</main>""",
    )


def header(title: str, name: str, role: str, csrf: str) -> str:
    """The signed-in pages' header: title, navigation, who is signed in, sign-out."""
    links = [("/", "Live queues"), ("/reports", "Reports")]
    if role == "admin":
        links.append(("/tester", "Call tester"))
    nav = " ".join(f'<a href="{escape(href)}">{escape(text)}</a>' for href, text in links)
    return f"""<header>
<h1>{escape(title)}</h1>
<nav>{nav}</nav>
<span class="who">{escape(name)} ({escape(role)})</span>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{escape(csrf)}">
<button type="submit">Sign out</button></form>
</header>"""


def dashboard_page(name: str, role: str, csrf: str) -> str:
    """The live board's shell; the script fills it."""
    return page(
        "Live queues - partner support line",
        header("Live queues", name, role, csrf)
        + """
<div id="stale" class="stale" role="status" hidden></div>
<section id="sla-alerts" class="alerts" aria-live="assertive" hidden>
<h2>SLA alerts</h2>
<ul id="sla-alert-list"></ul>
</section>
<main id="queues" aria-live="polite"><p class="muted">Loading…</p></main>
<section id="sla-panel" class="queue">
<h2>Open tickets on the SLA clock</h2>
<table class="standings">
<thead><tr><th>Ticket</th><th>Tier</th><th>Reseller</th><th>Host ID</th><th>Customer</th>
<th>Elapsed</th><th>Due in</th><th>Alerts</th></tr></thead>
<tbody id="sla-standings"><tr><td colspan="8" class="muted">Loading…</td></tr></tbody>
</table>
</section>
<template id="queue-template">
<section class="queue">
<h2 class="queue-name"></h2>
<p class="figures"></p>
<table class="callers">
<thead><tr><th>#</th><th>Waiting</th><th>Caller</th><th>Reseller</th><th>Tier</th>
<th>Host ID</th><th>Ticket</th><th>SLA left</th></tr></thead>
<tbody></tbody>
</table>
<p class="agents"></p>
</section>
</template>""",
        script="/static/dashboard.js",
    )
