"""The AMI consumer: keeps the live queue board in Redis from Asterisk's events.

It follows one supervised ``AmiClient`` link with events on (``ivr.ami.client``:
the linear parser of ``ivr.ami.wire``, reconnection with a capped back-off, a
keep-alive ``Ping`` whose answer is awaited). Each event is applied to the board
as it is read, and the queues a chunk of the stream changed are written to Redis
once per chunk, so a burst of events costs a few writes, not one each.

On every login the board is rebuilt from ``QueueStatus`` (and ``QueueSummary`` is
logged against it), so nothing drifts across a restart of Asterisk or a lost
link; events arriving meanwhile are held and applied on top. While the link is
down the board is marked stale in Redis.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from redis.exceptions import RedisError

from ivr.ami.client import AmiClient, AmiLinkError, AmiSettings
from ivr.ami.events import Event
from ivr.ami.wire import AmiMessage
from ivr.domain.queues import BoardChange, QueueBoard
from ivr.runtime.tasks import Retry, raise_if_cancelling, retry_forever, stop_task
from ivr.store.live import LiveStore

log = logging.getLogger("ivr.ami")

PING_INTERVAL = 10.0
PING_TIMEOUT = 5.0
REBUILD_TIMEOUT = 10.0
HEARTBEAT_SECONDS = 5.0
# How long close() waits to mark the board stopped in Redis.
STOP_WRITE_TIMEOUT = 5.0


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
        self.board = QueueBoard()
        self._client = AmiClient(
            settings,
            events=True,
            on_event=self.on_event,
            after_batch=self.after_batch,
            on_login=self._on_login,
            on_disconnect=self._on_disconnect,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            label="queue board",
        )
        self._pending = BoardChange()
        self._flush_task: asyncio.Task[None] | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._rebuilding = False
        self._held: list[AmiMessage] = []
        self.up = asyncio.Event()
        self.rebuilt = asyncio.Event()
        self.events_seen = 0

    async def start(self) -> None:
        """Connect (in the background: a down Asterisk is retried with back-off)."""
        await self._store.set_ami_status(False, self._clock(), "connecting")
        self._client.start()
        # Beats whether or not the link is up: it says the consumer itself is alive.
        self._heartbeat_task = asyncio.get_running_loop().create_task(
            retry_forever(
                self._store.heartbeat,
                name="AMI consumer heartbeat",
                retry=Retry(every=HEARTBEAT_SECONDS),
                logger=log,
            ),
            name="AMI consumer heartbeat",
        )

    async def close(self) -> None:
        """Stop following events (the board in Redis is marked stale), in bounded time."""
        await self._client.close()
        self.up.clear()
        self.rebuilt.clear()
        for task in (self._heartbeat_task, self._flush_task):
            if task is not None:
                await stop_task(task)
        self._heartbeat_task = self._flush_task = None
        try:
            async with asyncio.timeout(STOP_WRITE_TIMEOUT):
                await self._store.set_ami_status(False, self._clock(), "service stopped")
        except (RedisError, OSError, TimeoutError) as exc:  # boundary: stopping anyway
            log.warning("AMI: could not mark the board stopped: %s", exc or "timeout")

    # -- events ------------------------------------------------------------------

    def on_event(self, message: AmiMessage) -> None:
        """One event from the link: applied to the board now, written in the batch."""
        self.events_seen += 1
        if message.event == Event.SHUTDOWN:
            log.warning("AMI: Asterisk is shutting down")
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

    async def _on_login(self) -> None:
        """Each new link: rebuild the board from QueueStatus (the client cancels this if
        the link ends first, and drops the link if this raises)."""
        log.info("AMI: rebuilding queue state from %s", self._settings.where)
        self._rebuilding = True
        self._held = []
        try:
            async with asyncio.timeout(REBUILD_TIMEOUT):
                status = await self._client.action({"Action": "QueueStatus"})
                summary = await self._client.action({"Action": "QueueSummary"})
        except AmiLinkError:
            return  # the link ended mid-way (the client logged it); the next login rebuilds
        except (TimeoutError, OSError) as exc:
            log.error("AMI: QueueStatus not answered (%s); dropping the link", exc or "timeout")
            self._client.drop("QueueStatus not answered")
            return
        finally:
            # Nothing awaits between here and applying them: no event slips in between.
            held, self._held, self._rebuilding = self._held, [], False
        change = self.board.rebuild([m.headers for m in status.events], self._clock())
        for message in held:
            change.merge(self.board.apply(message.headers, message.variables, self._clock()))
        _check_summary(self.board, [m.headers for m in summary.events])
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

    async def _on_disconnect(self, reason: str) -> None:
        self.up.clear()
        self.rebuilt.clear()
        log.warning("AMI: the dashboard is stale until the link to %s is back (%s)",
                    self._settings.where, reason)  # fmt: skip
        try:
            await self._store.set_ami_status(False, self._clock(), "link lost")
        except (RedisError, OSError) as err:  # boundary: Redis may be down too
            raise_if_cancelling()
            log.error("AMI: could not mark the board stale: %s", err)


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
