"""Who may use which route, and the headers every answer carries.

Every handler declares its access with ``@access(...)``; the middleware refuses
a route that declares none (fail closed), so a forgotten decorator is a 403 and
a failing test, never an open page.

- Browsers sign in with a session cookie (HttpOnly, SameSite=Strict); their
  unsafe requests (POST, PUT, PATCH, DELETE) must echo the session's CSRF token
  in ``X-CSRF-Token`` or a ``csrf`` form field.
- Scripts send ``Authorization: Bearer TOKEN``; no cookie, so no CSRF check.
- The helpdesk's events (``Access.HELPDESK``) carry no session and no token: the
  request is authenticated by ``X-IVR-Signature``, the HMAC-SHA256 of its exact
  body keyed by ``IVR_HELPDESK_SECRET``, checked here (body capped, constant time)
  before the handler runs. No ambient credential, so no CSRF check either.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, TypeVar

from aiohttp import web

from ivr.domain.helpdesk import SIGNATURE_HEADER, verify
from ivr.domain.helpdesk_sync import MAX_BODY_BYTES
from ivr.runtime.log_throttle import LogThrottle, suffix
from ivr.store.accounts import Account, Accounts, Session, UserRole

log = logging.getLogger("ivr.web")

SESSION_COOKIE = "ivr_session"
LOGIN_COOKIE = "ivr_login"
ACCESS_ATTR = "__ivr_access__"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Access(StrEnum):
    """Who may use a route."""

    PUBLIC = "public"  # sign-in, health and metrics only
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    HELPDESK = "helpdesk"  # no account: the body's HMAC signature (the helpdesk's events)


def access(level: Access) -> Callable[[H], H]:
    """Declare who may use a handler."""

    def mark(handler: H) -> H:
        setattr(handler, ACCESS_ATTR, level)
        return handler

    return mark


def access_of(handler: object) -> Access | None:
    """The declared access of a handler (None when it declares none)."""
    level = getattr(handler, ACCESS_ATTR, None)
    return level if isinstance(level, Access) else None


ACCOUNTS = web.AppKey("accounts", Accounts)
SECURE_COOKIES = web.AppKey("secure_cookies", bool)
HELPDESK_SECRET = web.AppKey("helpdesk_secret", str)  # "" = inbound events are off
# Refused helpdesk events are logged at most once a minute per kind (a forger or a
# misconfigured helpdesk must not flood the log); the line counts the rest.
HELPDESK_REFUSALS = web.AppKey("helpdesk_refusals", LogThrottle)


def log_refusal(request: web.Request, kind: str, message: str) -> None:
    """A WARNING about a refused helpdesk event, throttled per kind."""
    held = request.app[HELPDESK_REFUSALS].admit(kind, time.monotonic())
    if held is not None:
        log.warning("%s%s", message, suffix(held))


ACCOUNT = web.RequestKey("account", Account)
SESSION = web.RequestKey("session", Session)


def current_account(request: web.Request) -> Account:
    """The account of a request that passed the access check."""
    account: Account | None = request.get(ACCOUNT)
    if account is None:
        raise web.HTTPUnauthorized()
    return account


def current_session(request: web.Request) -> Session | None:
    """The browser session, when the request came with one (not a bearer token)."""
    return request.get(SESSION)


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def _unauthorized(request: web.Request) -> web.StreamResponse:
    if _wants_json(request):
        return web.json_response(
            {"error": "sign in or send Authorization: Bearer TOKEN"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="ivr"'},
        )
    raise web.HTTPFound("/login")


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every answer, errors included, carries the security headers."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(SECURITY_HEADERS)
        exc.headers.setdefault("Cache-Control", "no-store")
        raise
    if not response.prepared:
        response.headers.update(SECURITY_HEADERS)
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Enforce the route's declared access: account, role, and CSRF for cookie sessions."""
    route_handler: Any = request.match_info.handler
    level = access_of(route_handler)
    if request.match_info.http_exception is not None:
        return await handler(request)  # 404/405 from the router: nothing to protect
    if level is None:
        log.error("web: route %s %s declares no access: refused", request.method, request.path)
        raise web.HTTPForbidden(text="route without declared access")
    if level is Access.PUBLIC:
        return await handler(request)
    if level is Access.HELPDESK:
        refused = await _unsigned(request)
        return refused if refused is not None else await handler(request)
    accounts = request.app[ACCOUNTS]
    auth = request.headers.get("Authorization", "")
    account: Account | None = None
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer":
            account = await accounts.by_token(token.strip())
        if account is None:
            return _unauthorized(request)
    else:
        cookie = request.cookies.get(SESSION_COOKIE, "")
        session = await accounts.session(cookie) if cookie else None
        if session is None:
            return _unauthorized(request)
        if request.method in UNSAFE_METHODS and not await _csrf_ok(request, session.csrf):
            log.warning("web: %s %s refused: bad CSRF token (user %s)",
                        request.method, request.path, session.account.name)  # fmt: skip
            raise web.HTTPForbidden(text="missing or wrong CSRF token")
        request[SESSION] = session
        account = session.account
    needed = UserRole.ADMIN if level is Access.ADMIN else UserRole.SUPERVISOR
    if not account.role.allows(needed):
        raise web.HTTPForbidden(text="administrators only")
    request[ACCOUNT] = account
    return await handler(request)


def _refuse(status: int, reason: str) -> web.Response:
    headers = {"WWW-Authenticate": f'Signature realm="ivr-helpdesk", header="{SIGNATURE_HEADER}"'}
    return web.json_response({"error": reason}, status=status,
                             headers=headers if status == 401 else None)  # fmt: skip


async def _unsigned(request: web.Request) -> web.Response | None:
    """Why a helpdesk request is refused (None: its body is signed with the secret).

    The body is read here, at most ``MAX_BODY_BYTES`` (the handler reads it again
    from aiohttp's cache); nothing is parsed before the signature is known good.
    """
    secret = request.app[HELPDESK_SECRET]
    if not secret:
        return _refuse(503, "inbound helpdesk events are off: IVR_HELPDESK_SECRET is not set")
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        return _refuse(413, f"the body is {length} bytes; at most {MAX_BODY_BYTES} are taken")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _refuse(413, f"the body is over {MAX_BODY_BYTES} bytes")
    header = request.headers.get(SIGNATURE_HEADER, "")
    if not header:
        return _refuse(401, f"{SIGNATURE_HEADER} is missing: sha256=<hex HMAC-SHA256 of the "
                            "body keyed with the shared secret>")  # fmt: skip
    if not verify(body, secret, header):
        log_refusal(request, "signature", "web: helpdesk event refused: bad signature")
        return _refuse(401, f"{SIGNATURE_HEADER} does not match the body (signed with "
                            "another secret, or the body changed on the way)")  # fmt: skip
    return None


async def _csrf_ok(request: web.Request, expected: str) -> bool:
    sent = request.headers.get("X-CSRF-Token", "")
    if not sent and request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        sent = str(form.get("csrf", ""))
    return bool(sent) and hmac.compare_digest(sent, expected)


def set_session_cookie(response: web.StreamResponse, request: web.Request, value: str) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, Secure behind TLS."""
    response.set_cookie(
        SESSION_COOKIE,
        value,
        httponly=True,
        samesite="Strict",
        secure=request.app[SECURE_COOKIES],
        path="/",
    )
