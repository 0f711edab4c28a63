"""Browser pages: sign-in, sign-out and the dashboard shell."""

from __future__ import annotations

import hmac
import logging
import secrets
from importlib import resources

from aiohttp import web

from ivr.web.html import dashboard_page, login_page
from ivr.web.security import (
    ACCOUNTS,
    LOGIN_COOKIE,
    SECURE_COOKIES,
    SESSION_COOKIE,
    Access,
    access,
    current_account,
    current_session,
    set_session_cookie,
)

log = logging.getLogger("ivr.web")

# Read once at import: serving them never touches the disk on the event loop.
_STATIC = resources.files("ivr.web") / "static"
LOGIN_CSS = (_STATIC / "login.css").read_text()
DASHBOARD_JS = (_STATIC / "dashboard.js").read_text()
TESTER_JS = (_STATIC / "tester.js").read_text()


def _client_address(request: web.Request) -> str:
    return request.remote or "unknown"


def _login_form(
    request: web.Request, error: str = "", name: str = "", status: int = 200
) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = web.Response(
        text=login_page(token, error, name), content_type="text/html", status=status
    )
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="Strict", path="/login",
                        secure=request.app[SECURE_COOKIES])  # fmt: skip
    return response


@access(Access.PUBLIC)
async def login_get(request: web.Request) -> web.StreamResponse:
    """The sign-in form."""
    return _login_form(request)


@access(Access.PUBLIC)
async def login_post(request: web.Request) -> web.StreamResponse:
    """Check the password; on success a brand-new session (no fixation), else a throttled retry."""
    form = await request.post()
    name = str(form.get("name", ""))[:64].strip().lower()
    password = str(form.get("password", ""))
    sent = str(form.get("csrf", ""))
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        return _login_form(request, "The form expired: please sign in again.", name, 403)
    accounts = request.app[ACCOUNTS]
    address = _client_address(request)
    if await accounts.throttled(name, address):
        log.warning("web: sign-in throttled for %r from %s", name, address)
        return _login_form(request, "Too many failed sign-ins: try again in 15 minutes.",
                           name, 429)  # fmt: skip
    account = await accounts.verify(name, password)
    if account is None:
        await accounts.failed(name, address)
        log.warning("web: failed sign-in for %r from %s", name, address)
        return _login_form(request, "Wrong account or password.", name, 401)
    await accounts.succeeded(name)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await accounts.close_session(old)
    session_id, _session = await accounts.open_session(account)
    log.info("web: %s signed in from %s", account.name, address)
    response = web.HTTPSeeOther("/")
    set_session_cookie(response, request, session_id)
    response.del_cookie(LOGIN_COOKIE, path="/login")
    raise response


@access(Access.SUPERVISOR)
async def logout(request: web.Request) -> web.StreamResponse:
    """End the session (POST with the CSRF token)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await request.app[ACCOUNTS].close_session(cookie)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


@access(Access.SUPERVISOR)
async def dashboard(request: web.Request) -> web.StreamResponse:
    """The live board."""
    account = current_account(request)
    session = current_session(request)
    return web.Response(
        text=dashboard_page(account.name, account.role.value, session.csrf if session else ""),
        content_type="text/html",
    )


@access(Access.PUBLIC)
async def login_css(_request: web.Request) -> web.StreamResponse:
    """The style sheet of the sign-in page (and the dashboard)."""
    return web.Response(text=LOGIN_CSS, content_type="text/css",
                        headers={"Cache-Control": "max-age=300"})  # fmt: skip


@access(Access.SUPERVISOR)
async def dashboard_js(_request: web.Request) -> web.StreamResponse:
    """The dashboard's script (signed-in users only, like the page)."""
    return web.Response(text=DASHBOARD_JS,
                        content_type="application/javascript")  # fmt: skip


@access(Access.ADMIN)
async def tester_js(_request: web.Request) -> web.StreamResponse:
    """The call tester's script (administrators only, like the page)."""
    return web.Response(text=TESTER_JS, content_type="application/javascript")
