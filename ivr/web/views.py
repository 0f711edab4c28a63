"""Browser pages: sign-in, sign-out, the board and ticket shells, and the static files."""

from __future__ import annotations

import hmac
import logging
import secrets
from importlib import resources

from aiohttp import web

from ivr.web.context import TIMEZONE
from ivr.web.html import dashboard_page, login_page, tickets_page
from ivr.web.security import (
    ACCOUNTS,
    LOGIN_COOKIE,
    SECURE_COOKIES,
    SESSION_COOKIE,
    Access,
    Handler,
    access,
    current_account,
    current_session,
    set_session_cookie,
)

log = logging.getLogger("ivr.web")

# Read once at import: serving them never touches the disk on the event loop.
_STATIC = resources.files("ivr.web") / "static"
CONTENT_TYPES = {".css": "text/css", ".js": "application/javascript"}


def static_file(name: str, level: Access) -> Handler:
    """A handler serving one file of ``static/`` to whoever ``level`` admits (the style
    sheet to everyone, for the sign-in page; each script to the users of its page)."""
    text = (_STATIC / name).read_text()
    content_type = CONTENT_TYPES[name[name.rindex(".") :]]

    async def serve(_request: web.Request) -> web.StreamResponse:
        return web.Response(text=text, content_type=content_type,
                            headers={"Cache-Control": "max-age=300"})  # fmt: skip

    serve.__doc__ = f"The static file {name}."
    return access(level)(serve)


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
    """The live board (``?wall=1``: the wallboard, large type and no chrome)."""
    account = current_account(request)
    session = current_session(request)
    wall = request.query.get("wall", "") in ("1", "true", "yes")
    tz = request.app[TIMEZONE].key
    html = dashboard_page(account.name, account.role.value, session.csrf if session else "",
                          tz, wall=wall)  # fmt: skip
    return web.Response(text=html, content_type="text/html")


@access(Access.SUPERVISOR)
async def tickets(request: web.Request) -> web.StreamResponse:
    """The ticket list with its drawer (``#NUMBER`` opens one)."""
    account = current_account(request)
    session = current_session(request)
    tz = request.app[TIMEZONE].key
    html = tickets_page(account.name, account.role.value, session.csrf if session else "", tz)
    return web.Response(text=html, content_type="text/html")
