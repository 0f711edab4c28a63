"""The AMI consumer: keeps the live queue board in Redis from Asterisk's events.

panoramisk's ``Manager`` owns the connection, the login and the matching of
responses to actions; three things are added to it here:

- its protocol parses with ``ivr.ami.wire`` (linear in the bytes received) and
  hands events straight to the consumer;
- reconnection backs off (1 s doubling to 30 s, with jitter) instead of
  retrying every 2 s forever, and resets after a successful login;
- a keep-alive ``Ping`` whose answer is awaited: a link that stops answering is
  dropped and reconnected, where panoramisk's own ping only writes.

On every login the board is rebuilt from ``QueueStatus`` (and ``QueueSummary`` is
logged against it), so nothing drifts across a restart of Asterisk or a lost
link. While the link is down the board is marked stale in Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Callable
from typing import Any

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from ivr.ami.client import AmiSettings
from ivr.ami.events import Event
from ivr.ami.wire import AmiMessage, AmiParser, AmiProtocolError
from ivr.domain.queues import BoardChange, QueueBoard
from ivr.runtime.tasks import raise_if_cancelling
from ivr.store.live import LiveStore

log = logging.getLogger("ivr.ami")

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
PING_INTERVAL = 10.0
PING_TIMEOUT = 5.0
REBUILD_TIMEOUT = 10.0
HEARTBEAT_SECONDS = 5.0


class _Protocol(AMIProtocol):  # type: ignore[misc]
    """panoramisk's protocol with the linear parser of ``ivr.ami.wire``."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._parser = AmiParser()

    def data_received(self, data: bytes) -> None:
        try:
            messages = self._parser.feed(data)
        except AmiProtocolError as exc:
            log.error("AMI: dropping the link: %s", exc)
            self.transport.abort()
            return
        consumer: AmiConsumer | None = getattr(self.factory, "consumer", None)
        for message in messages:
            if message.action_id and message.action_id in self.responses:
                self.handle_message(Message(message.headers))
            elif message.event:
                if message.event == Event.SHUTDOWN:
                    log.warning("AMI: Asterisk is shutting down")
                if consumer is not None:
                    consumer.on_event(message)
        if consumer is not None:
            consumer.after_batch()


class _Manager(Manager):  # type: ignore[misc]
    """panoramisk's Manager with back-off and a login-failure log line."""

    consumer: AmiConsumer
    stopped = False
    reconnect_timeout: float

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        if self.stopped:  # a reconnection scheduled before close()
            return None
        task = super().connect(*args, **kwargs)
        # The delay before the *next* attempt, should this one fail or drop.
        jitter = random.uniform(0.8, 1.2)  # noqa: S311  (spreads reconnections; not a secret)
        self.reconnect_timeout = min(float(self.reconnect_timeout) * 2, BACKOFF_MAX) * jitter
        return task

    def login(self, future: asyncio.Future[Any]) -> bool:
        ok = bool(super().login(future))
        if ok:
            self.reconnect_timeout = BACKOFF_FIRST
        else:
            log.error("AMI login refused for user %r: check IVR_AMI_USERNAME/SECRET",
                      self.config.get("username"))  # fmt: skip
        return ok

    def ping(self) -> None:
        """Replaced by the consumer's awaited keep-alive."""


class AmiConsumer:
    """Follows queue events on one AMI link and writes the board to Redis."""

    def __init__(
        self,
        settings: AmiSettings,
        store: LiveStore,
        clock: Callable[[], dt.datetime],
        *,
        ping_interval: float = PING_INTERVAL,
        ping_timeout: float = PING_TIMEOUT,
    ) -> None:
        self._settings = settings
        self._store = store
        self._clock = clock
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self.board = QueueBoard()
        self._manager: _Manager | None = None
        self._pending = BoardChange()
        self._flush_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._rebuilding = False
        self._rebuild_task: asyncio.Task[None] | None = None
        self._held: list[AmiMessage] = []
        self.up = asyncio.Event()
        self.rebuilt = asyncio.Event()
        self.events_seen = 0

    async def start(self) -> None:
        """Connect (in the background: a down Asterisk is retried with back-off)."""
        await self._store.set_ami_status(False, self._clock(), "connecting")
        manager = _Manager(
            loop=asyncio.get_running_loop(),
            host=self._settings.host,
            port=self._settings.port,
            username=self._settings.username,
            secret=self._settings.secret,
            events="on",
            reconnect_timeout=BACKOFF_FIRST,
            protocol_factory=_Protocol,
            on_login=lambda _m: self._on_login(),
            on_disconnect=lambda _m, exc: self._spawn(self._on_disconnect(exc)),
        )
        manager.consumer = self
        self._manager = manager
        manager.connect()
        self._spawn(self._keepalive())

    async def close(self) -> None:
        """Stop following events (the board in Redis is marked stale)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._manager is not None:
            self._manager.stopped = True
            self._manager.close()
            self._manager = None
        with contextlib.suppress(Exception):
            await self._store.set_ami_status(False, self._clock(), "service stopped")

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- events ------------------------------------------------------------------

    def on_event(self, message: AmiMessage) -> None:
        """One event from the link: applied to the board now, written in the batch."""
        self.events_seen += 1
        if self._rebuilding:
            self._held.append(message)
            return
        self._pending.merge(self.board.apply(message.headers, message.variables, self._clock()))

    def after_batch(self) -> None:
        """A chunk of the stream was handled: write what it changed (coalesced)."""
        if self._pending.queues and (self._flush_task is None or self._flush_task.done()):
            self._flush_task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        while self._pending.queues:
            change, self._pending = self._pending, BoardChange()
            try:
                await self._identify(change)
                queues = [self.board.queues[n] for n in change.queues if n in self.board.queues]
                await self._store.write(queues, change.offered, change.outcomes, now=self._clock())
            except Exception as exc:  # noqa: BLE001  (boundary: Redis down; retried)
                raise_if_cancelling()
                log.error("AMI: queue state not written (retrying in 1 s): %s", exc)
                change.merge(self._pending)
                self._pending = change
                await asyncio.sleep(1)

    async def _identify(self, change: BoardChange) -> None:
        """Fill in reseller, tier, Host ID and SLA from what the IVR recorded."""
        wanted = [(q, uid) for q, uid in change.joined if q in self.board.queues]
        if not wanted:
            return
        found = await self._store.contexts([uid for _q, uid in wanted])
        for queue_name, uid in wanted:
            caller = self.board.queues[queue_name].callers.get(uid)
            if caller is not None and uid in found:
                caller.context = caller.context.merged(found[uid])

    # -- connection --------------------------------------------------------------

    def _on_login(self) -> None:
        log.info("AMI: logged in to %s:%s; rebuilding queue state",
                 self._settings.host, self._settings.port)  # fmt: skip
        if self._manager is not None:
            # Actions cut off by an earlier drop: the rebuild below replaces them.
            self._manager.awaiting_actions.clear()
        self._cancel_rebuild()
        self._rebuild_task = self._spawn(self._rebuild())

    def _cancel_rebuild(self) -> None:
        if self._rebuild_task is not None and not self._rebuild_task.done():
            self._rebuild_task.cancel()
        self._rebuild_task = None
        self._rebuilding = False
        self._held = []

    async def _rebuild(self) -> None:
        manager = self._manager
        if manager is None:
            return
        self._rebuilding = True
        self._held = []
        try:
            async with asyncio.timeout(REBUILD_TIMEOUT):
                status = await manager.send_action({"Action": "QueueStatus"}, as_list=True)
                summary = await manager.send_action({"Action": "QueueSummary"}, as_list=True)
        except (TimeoutError, OSError) as exc:
            self._rebuilding = False
            log.error("AMI: QueueStatus not answered (%s); dropping the link", exc or "timeout")
            self._drop()
            return
        items = [dict(m) for m in _as_list(status)]
        change = self.board.rebuild(items, self._clock())
        held, self._held, self._rebuilding = self._held, [], False
        for message in held:
            change.merge(self.board.apply(message.headers, message.variables, self._clock()))
        _check_summary(self.board, [dict(m) for m in _as_list(summary)])
        self._pending.merge(change)
        self._pending.queues |= set(self.board.queues)
        self.after_batch()
        if self._flush_task is not None:
            await self._flush_task
        await self._store.set_ami_status(True, self._clock())
        self.up.set()
        self.rebuilt.set()
        log.info("AMI: queue state rebuilt: %d queues, %d waiting callers",
                 len(self.board.queues),
                 sum(len(q.callers) for q in self.board.queues.values()))  # fmt: skip

    async def _on_disconnect(self, exc: object) -> None:
        self.up.clear()
        self.rebuilt.clear()
        self._cancel_rebuild()
        log.warning("AMI: link to %s:%s lost (%s); the dashboard is stale until it is back",
                    self._settings.host, self._settings.port, exc or "closed")  # fmt: skip
        try:
            await self._store.set_ami_status(False, self._clock(), "link lost")
        except Exception as err:  # noqa: BLE001  (boundary: Redis may be down too)
            log.error("AMI: could not mark the board stale: %s", err)

    def _drop(self) -> None:
        manager = self._manager
        protocol = getattr(manager, "protocol", None)
        transport = getattr(protocol, "transport", None)
        if transport is not None:
            transport.abort()  # panoramisk then reconnects (with our back-off)

    async def _keepalive(self) -> None:
        """Ping on a live link, drop it when unanswered; beat the heartbeat."""
        while True:
            await asyncio.sleep(min(self._ping_interval, HEARTBEAT_SECONDS))
            manager = self._manager
            if manager is None:
                continue
            if self.up.is_set():
                try:
                    async with asyncio.timeout(self._ping_timeout):
                        await manager.send_action({"Action": "Ping"})
                except TimeoutError:
                    log.error("AMI: Ping not answered in %.1f s; reconnecting", self._ping_timeout)
                    self._drop()
            try:
                await self._store.heartbeat()
            except Exception as exc:  # noqa: BLE001  (boundary: Redis down; next beat retries)
                raise_if_cancelling()
                log.error("AMI: heartbeat not written: %s", exc)


def _as_list(response: Any) -> list[Any]:
    return list(response) if isinstance(response, list) else [response]


def _check_summary(board: QueueBoard, summary: list[dict[str, str]]) -> None:
    """Log when QueueSummary disagrees with the rebuilt board (it should not)."""
    for item in summary:
        if item.get("Event") != Event.QUEUE_SUMMARY:
            continue
        queue = board.queues.get(item.get("Queue", ""))
        callers = int(item.get("Callers", "0") or 0)
        if queue is not None and callers != len(queue.callers):
            log.warning("AMI: QueueSummary of %s says %d callers, QueueStatus listed %d",
                        queue.name, callers, len(queue.callers))  # fmt: skip
