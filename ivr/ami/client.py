"""The one AMI client: asyncio streams around the pure wire code of ``ivr.ami.wire``.

Two ways to use it:

- **supervised** (``start``), for a long-lived user (the queue board, the pager):
  it connects, logs in and keeps a link up. A link that drops, or whose keep-alive
  ``Ping`` goes unanswered, is replaced after a back-off of 1 s doubling to 30 s;
  the jitter only ever shortens a pause, so the stated maximum holds, and the
  back-off starts over after each login. ``on_login`` runs for each logged-in link
  and is cancelled when that link ends; ``on_disconnect`` runs after it is gone.
- **one-shot** (``probe``), for ``ivr check``: connect, check the banner, log in,
  ``ListCommands``, log off and close, all within one timeout.

Actions are matched to their answers by ``ActionID``; an answer that starts an
event list (``EventList: start``) is collected up to the list's last event
(``EventList: Complete``). Every other event goes to ``on_event``, synchronously
and in order, and ``after_batch`` runs once per chunk read, so a user can coalesce
its writes. Every wait has a timeout. The secret is written in ``Login`` and
nowhere else: no log line or exception message holds it, and ``AmiSettings``
leaves it out of its repr.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import NoReturn

from ivr.ami.wire import AmiMessage, AmiParser, AmiProtocolError, NotAmiError, format_action
from ivr.runtime.log_throttle import LogThrottle, suffix
from ivr.runtime.tasks import Retry, raise_if_cancelling, stop_task

log = logging.getLogger("ivr.ami")

# One socket read: a busy QueueStatus list arrives in a few of these.
READ_SIZE = 1 << 16
PING_INTERVAL = 10.0
PING_TIMEOUT = 5.0
# How long close() waits for each of its tasks to stop.
CLOSE_TIMEOUT = 5.0
# Headers of a ListCommands answer that are not action names.
_NOT_ACTIONS = frozenset({"Response", "ActionID", "Message", "EventList"})

Fields = Mapping[str, str | Iterable[str]]
EventHandler = Callable[[AmiMessage], None]
BatchHandler = Callable[[], None]
LoginHook = Callable[[], Awaitable[None]]
DisconnectHook = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class AmiSettings:
    """Where the Asterisk Manager Interface is and how to log in."""

    host: str
    port: int
    username: str
    secret: str = field(repr=False)
    # Bounds connecting, the banner and the login together, and each action's answer.
    timeout: float = 10.0

    @property
    def where(self) -> str:
        """``host:port``, as log lines and findings name it."""
        return f"{self.host}:{self.port}"


class AmiError(Exception):
    """Talking AMI failed."""


class AmiLinkError(AmiError, ConnectionError):
    """There is no logged-in link, or it ended before the answer came."""


class AmiLoginRefused(AmiError):
    """Asterisk refused the login (the message names the user, never the secret)."""


@dataclass(slots=True)
class AmiReply:
    """An action's answer: its ``Response`` and, for a list action, the list's events
    (the closing ``...Complete`` event included)."""

    response: AmiMessage
    events: list[AmiMessage] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether Asterisk said ``Response: Success``."""
        return self.response.headers.get("Response") == "Success"


@dataclass(frozen=True, slots=True)
class AmiProbe:
    """What a one-shot visit found: the banner and the actions this user may run."""

    banner: str
    actions: frozenset[str]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Pauses between attempts to connect: ``first`` seconds doubling up to ``most``.

    Each pause is shortened at random by up to ``jitter`` of itself, so clients
    that lost Asterisk together do not all return in the same instant, and no
    pause is ever longer than ``most`` (jitter around the pause would break that).
    """

    first: float = 1.0
    most: float = 30.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        # A jitter outside [0, 1] would lengthen a pause past ``most`` (or make it
        # negative: a reconnection storm); refuse it where the back-off is built.
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"back-off jitter must be within [0, 1], not {self.jitter}")
        if not 0.0 < self.first <= self.most:
            raise ValueError(f"back-off needs 0 < first <= most, not {self.first}, {self.most}")

    def delay(self, failures: int, draw: float) -> float:
        """The pause after ``failures`` failed attempts in a row; ``draw`` is in [0, 1]."""
        base = Retry(every=self.first, first=self.first, most=self.most).after(max(1, failures))
        return base * (1.0 - self.jitter * min(1.0, max(0.0, draw)))


@dataclass(slots=True)
class _Waiting:
    future: asyncio.Future[AmiReply]
    response: AmiMessage | None = None
    events: list[AmiMessage] = field(default_factory=list)


class Replies:
    """The actions of one link awaiting their answers, matched by ``ActionID``.

    Bookkeeping only, no I/O: ``take`` is shown each message read and keeps those
    that answer a waiting action, collecting an event list up to its last event.
    """

    def __init__(self) -> None:
        self._waiting: dict[str, _Waiting] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def expect(self, action_id: str) -> asyncio.Future[AmiReply]:
        """Wait for the answer to ``action_id`` (unique among those waiting)."""
        if action_id in self._waiting:
            raise ValueError(f"ActionID {action_id!r} is already awaiting an answer")
        future: asyncio.Future[AmiReply] = asyncio.get_running_loop().create_future()
        self._waiting[action_id] = _Waiting(future)
        return future

    def forget(self, action_id: str) -> None:
        """Stop waiting (answered, timed out or abandoned): a late answer is then an event."""
        self._waiting.pop(action_id, None)

    def take(self, message: AmiMessage) -> bool:
        """Whether ``message`` is (part of) the answer to a waiting action."""
        action_id = message.headers.get("ActionID")
        if action_id is None:
            return False
        waiting = self._waiting.get(action_id)
        if waiting is None:
            return False
        if waiting.response is None:
            # OriginateResponse carries the Originate's ActionID and a Response header
            # too (tests/transcripts/ami-queue-events.txt): an event is never the answer.
            if "Response" not in message.headers or "Event" in message.headers:
                return False
            waiting.response = message
            if message.headers.get("EventList", "").lower() != "start":
                self._answered(action_id, message, waiting)
            return True
        waiting.events.append(message)
        if message.headers.get("EventList", "").lower() == "complete":
            self._answered(action_id, waiting.response, waiting)
        return True

    def fail_all(self, reason: str) -> None:
        """The link ended: every waiting action fails with ``reason``."""
        waiting, self._waiting = self._waiting, {}
        for item in waiting.values():
            if not item.future.done():
                item.future.set_exception(AmiLinkError(f"the AMI link ended: {reason}"))

    def _answered(self, action_id: str, response: AmiMessage, waiting: _Waiting) -> None:
        del self._waiting[action_id]
        if not waiting.future.done():
            waiting.future.set_result(AmiReply(response, waiting.events))


class _Link:
    """One TCP connection: its streams, parser, waiting actions and reader task."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.parser = AmiParser()
        self.replies = Replies()
        self.greeted = asyncio.Event()  # the banner was read, or the link ended first
        self.error: Exception | None = None  # why it ended before its banner
        self.head = b""  # the first bytes, to name a peer that is not AMI
        self.reason = ""  # why it ended; "" while open
        self.task: asyncio.Task[None] | None = None

    @property
    def open(self) -> bool:
        return not self.reason

    def send(self, data: bytes) -> None:
        if self.reason or self.writer.is_closing():
            raise AmiLinkError(f"the AMI link is closed ({self.reason or 'closing'})")
        self.writer.write(data)

    def end(self, reason: str) -> None:
        """Close the socket now; waiting actions fail. The first reason given is kept."""
        if not self.reason:
            self.reason = reason
        self.writer.transport.abort()
        self.replies.fail_all(self.reason)
        self.greeted.set()


class AmiClient:
    """One AMI connection: supervised (``start``) or used once (``connect``)."""

    def __init__(
        self,
        settings: AmiSettings,
        *,
        events: bool = False,
        on_event: EventHandler | None = None,
        after_batch: BatchHandler | None = None,
        on_login: LoginHook | None = None,
        on_disconnect: DisconnectHook | None = None,
        ping_interval: float | None = PING_INTERVAL,
        ping_timeout: float = PING_TIMEOUT,
        backoff: Backoff | None = None,
        draw: Callable[[], float] = random.random,
        label: str = "",
    ) -> None:
        # A line break would end the Login header and let the rest add headers.
        if any(c in settings.username + settings.secret for c in "\r\n"):
            raise ValueError("the AMI user name or secret contains a line break")
        self._settings = settings
        self._events = events
        self._on_event = on_event
        self._after_batch = after_batch
        self._on_login = on_login
        self._on_disconnect = on_disconnect
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._backoff = backoff or Backoff()
        self._draw = draw
        self._name = f"AMI ({label})" if label else "AMI"
        self._ids = itertools.count(1)
        # Unique per client, so a log line or a capture tells two clients apart.
        self._id_prefix = f"ivr-{secrets.token_hex(3)}"
        self._link: _Link | None = None
        self._ready = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self.banner = ""

    @property
    def logged_in(self) -> bool:
        """Whether a link is up and logged in."""
        return self._ready.is_set()

    def next_action_id(self) -> str:
        """A fresh ActionID, unique for this client."""
        return f"{self._id_prefix}-{next(self._ids)}"

    async def wait_logged_in(self, timeout: float) -> None:
        """Until a link is logged in (TimeoutError after ``timeout`` s)."""
        async with asyncio.timeout(timeout):
            await self._ready.wait()

    # -- one link ---------------------------------------------------------------

    async def connect(self) -> None:
        """Open one link and log in, without reconnection (for a one-shot use).

        Raises NotAmiError, AmiLoginRefused, TimeoutError or OSError.
        """
        if self._link is not None or self._supervisor is not None:
            raise RuntimeError("this AMI client is already connected")
        link = await self._open()
        self._link = link
        self._ready.set()

    async def action(self, fields: Fields, *, timeout: float | None = None) -> AmiReply:
        """Send an action on the logged-in link and return its answer.

        An ``ActionID`` is added unless given. Raises AmiLinkError when there is no
        link or it ends first, TimeoutError after ``timeout`` (default: the
        settings') seconds without the whole answer.
        """
        link = self._link
        if link is None or not link.open or not self._ready.is_set():
            raise AmiLinkError(f"AMI at {self._settings.where} is not connected")
        wait = self._settings.timeout if timeout is None else timeout
        return await self._request(link, fields, wait)

    async def logoff(self) -> None:
        """Log off (Asterisk answers ``Goodbye`` and closes the link)."""
        link = self._link
        if link is None or not link.open:
            return
        self._ready.clear()
        # A link closed before its Goodbye is logged off all the same.
        with contextlib.suppress(AmiLinkError):
            await self._request(link, {"Action": "Logoff"}, self._settings.timeout)

    def drop(self, reason: str) -> None:
        """Cut the current link (a supervised client then reconnects)."""
        link = self._link
        if link is not None:
            link.end(reason)

    async def close(self) -> None:
        """Stop reconnecting, cancel every task and close the socket, within bounded time."""
        self._ready.clear()
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            await stop_task(supervisor, CLOSE_TIMEOUT)
        link, self._link = self._link, None
        if link is not None:
            link.end("closed by the service")
            if link.task is not None:
                await stop_task(link.task, CLOSE_TIMEOUT)

    # -- supervised -------------------------------------------------------------

    def start(self) -> None:
        """Connect and stay connected, in the background, until ``close``."""
        if self._link is not None or self._supervisor is not None:
            raise RuntimeError("this AMI client is already started")
        self._supervisor = asyncio.get_running_loop().create_task(
            self._supervise(), name=f"{self._name} link to {self._settings.where}"
        )

    async def _supervise(self) -> NoReturn:
        where = self._settings.where
        failures = 0  # failed attempts in a row, for the log
        step = 0  # where the back-off stands
        throttle = LogThrottle(interval=60.0)
        while True:
            try:
                link = await self._open()
            except AmiLoginRefused as exc:
                failures, step = failures + 1, step + 1
                pause = self._pause(step)
                # Every refusal: a wrong secret is fixed by a person reading this.
                log.error("%s: %s; retrying in %.1f s", self._name, exc, pause)
            except (OSError, TimeoutError, AmiProtocolError) as exc:
                raise_if_cancelling()
                failures, step = failures + 1, step + 1
                pause = self._pause(step)
                held = throttle.admit("connect", time.monotonic())
                if held is not None:
                    log.warning("%s: no login at %s (%s); retrying in %.1f s%s",
                                self._name, where, exc, pause, suffix(held))  # fmt: skip
            else:
                if failures:
                    log.info("%s: logged in to %s after %d failed attempts",
                             self._name, where, failures)  # fmt: skip
                else:
                    log.info("%s: logged in to %s as %r",
                             self._name, where, self._settings.username)  # fmt: skip
                failures = 0
                reason = await self._serve(link)
                await self._lost(reason)
                step = 1  # the back-off starts over: a first short pause, then doubling
                pause = self._pause(step)
            await asyncio.sleep(pause)

    def _pause(self, step: int) -> float:
        return self._backoff.delay(step, self._draw())

    async def _serve(self, link: _Link) -> str:
        """Keep a logged-in link until it ends; return why it ended."""
        self._link = link
        self._ready.set()
        loop = asyncio.get_running_loop()
        helpers: list[asyncio.Task[None]] = []
        if self._ping_interval:
            helpers.append(loop.create_task(self._keepalive(link), name=f"{self._name} ping"))
        if self._on_login is not None:
            helpers.append(
                loop.create_task(
                    self._run_on_login(link, self._on_login), name=f"{self._name} login"
                )
            )
        assert link.task is not None  # noqa: S101  (_open starts it)
        try:
            await asyncio.wait({link.task})
        finally:
            self._ready.clear()
            if self._link is link:
                self._link = None
            # Hooks first: cut off mid-way by a close, they have nothing to report.
            for helper in helpers:
                helper.cancel()
            link.end("closed by the service")
            for helper in helpers:
                await stop_task(helper, CLOSE_TIMEOUT)
            await stop_task(link.task, CLOSE_TIMEOUT)
        return link.reason

    async def _lost(self, reason: str) -> None:
        log.warning("%s: link to %s lost (%s); reconnecting",
                    self._name, self._settings.where, reason)  # fmt: skip
        hook = self._on_disconnect
        if hook is None:
            return
        try:
            async with asyncio.timeout(self._settings.timeout):
                await hook(reason)
        except Exception as exc:  # noqa: BLE001  (boundary: the user's hook must not stop reconnection)
            raise_if_cancelling()
            log.error("%s: after the link was lost: %s: %s", self._name, type(exc).__name__, exc)

    async def _run_on_login(self, link: _Link, hook: LoginHook) -> None:
        try:
            await hook()
        except Exception as exc:  # noqa: BLE001  (boundary: the user's hook; a new link retries it)
            raise_if_cancelling()
            log.error("%s: after login: %s: %s; dropping the link",
                      self._name, type(exc).__name__, exc)  # fmt: skip
            link.end(f"after login: {type(exc).__name__}")

    async def _keepalive(self, link: _Link) -> None:
        """Ping while the link lives; a Ping left unanswered ends the link."""
        assert self._ping_interval  # noqa: S101  (only started with one)
        while True:
            await asyncio.sleep(self._ping_interval)
            try:
                await self._request(link, {"Action": "Ping"}, self._ping_timeout)
            except TimeoutError:
                log.error("%s: Ping not answered within %.1f s; dropping the link",
                          self._name, self._ping_timeout)  # fmt: skip
                link.end("Ping not answered")
                return
            except AmiLinkError:
                return  # the link ended meanwhile: the supervisor knows

    # -- the wire ---------------------------------------------------------------

    async def _open(self) -> _Link:
        """Connect, read the banner and log in, within the settings' timeout."""
        settings = self._settings
        try:
            async with asyncio.timeout(settings.timeout):
                reader, writer = await asyncio.open_connection(settings.host, settings.port)
        except TimeoutError:
            raise TimeoutError(f"no connection within {settings.timeout:g} s") from None
        link = _Link(reader, writer)
        link.task = asyncio.get_running_loop().create_task(
            self._read(link), name=f"{self._name} reader"
        )
        logged_in = False
        try:
            try:
                async with asyncio.timeout(settings.timeout):
                    await link.greeted.wait()
                    if isinstance(link.error, NotAmiError):
                        raise NotAmiError(link.error.said, settings.where)
                    if link.error is not None:
                        raise link.error
                    login = {
                        "Action": "Login",
                        "Username": settings.username,
                        "Secret": settings.secret,
                        "Events": "on" if self._events else "off",
                    }
                    reply = await self._request(link, login, settings.timeout)
            except TimeoutError:
                raise TimeoutError(
                    f"no banner and login answer within {settings.timeout:g} s"
                ) from None
            if not reply.ok:
                reason = reply.response.get("Message") or reply.response.get("Response")
                raise AmiLoginRefused(
                    f"AMI at {settings.where} refused the login of {settings.username!r} ({reason})"
                )
            logged_in = True
        finally:
            if not logged_in:
                link.end("login failed")
                await stop_task(link.task, CLOSE_TIMEOUT)
        self.banner = link.parser.banner
        return link

    async def _request(self, link: _Link, fields: Fields, timeout: float) -> AmiReply:
        name = fields.get("Action")
        if not isinstance(name, str) or not name:
            raise ValueError("an AMI action needs one Action name")
        given = fields.get("ActionID")
        action_id = given if isinstance(given, str) and given else self.next_action_id()
        rest = {k: v for k, v in fields.items() if k not in ("Action", "ActionID")}
        data = format_action({"Action": name, "ActionID": action_id, **rest})
        future = link.replies.expect(action_id)
        try:
            link.send(data)
            try:
                async with asyncio.timeout(timeout):
                    await link.writer.drain()
                    return await future
            except TimeoutError:
                raise TimeoutError(f"AMI {name} not answered within {timeout:g} s") from None
        finally:
            link.replies.forget(action_id)

    async def _read(self, link: _Link) -> None:
        """Read the link until it ends: answers to their actions, events to the handler."""
        reason = "closed by Asterisk"
        try:
            while True:
                data = await link.reader.read(READ_SIZE)
                if not data:
                    if not link.greeted.is_set():
                        link.error = NotAmiError(link.head)
                    break
                if not link.greeted.is_set():
                    link.head = (link.head + data)[:60]
                    messages = link.parser.feed(data)
                    if link.parser.banner:
                        link.greeted.set()
                else:
                    messages = link.parser.feed(data)
                if messages:
                    self._dispatch(link, messages)
        except AmiProtocolError as exc:
            reason = str(exc)
            link.error = exc
        except OSError as exc:
            reason = str(exc) or type(exc).__name__
            link.error = AmiLinkError(reason)
        finally:
            link.end(reason)
            if self._link is link:
                self._ready.clear()

    def _dispatch(self, link: _Link, messages: list[AmiMessage]) -> None:
        replies = link.replies
        on_event = self._on_event
        for message in messages:
            if replies and replies.take(message):
                continue
            if on_event is not None and "Event" in message.headers:
                try:
                    on_event(message)
                except (
                    Exception
                ):  # boundary: one event the handler cannot take must not cost the link
                    log.exception("%s: a %s event was not handled", self._name, message.event)
        if self._after_batch is not None:
            try:
                self._after_batch()
            except Exception:  # boundary: as above, for the batch's end
                log.exception("%s: the end of a batch was not handled", self._name)


async def probe(settings: AmiSettings, timeout: float) -> AmiProbe:
    """One visit, all within ``timeout`` s: connect, banner, login (events off),
    ``ListCommands`` (the actions this user may run), ``Logoff``, close.

    Raises NotAmiError (another program answered, named by what it said),
    AmiLoginRefused, TimeoutError or OSError.
    """
    client = AmiClient(
        dataclasses.replace(settings, timeout=min(settings.timeout, timeout)),
        ping_interval=None,
    )
    try:
        async with asyncio.timeout(timeout):
            await client.connect()
            listed = await client.action({"Action": "ListCommands"})
            await client.logoff()
    finally:
        await client.close()
    return AmiProbe(client.banner, frozenset(listed.response.headers) - _NOT_ACTIONS)
