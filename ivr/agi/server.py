"""The FastAGI server: asyncio streams, one task per call, bounded everywhere.

Only this module touches the sockets. Every read has a deadline, every line and
the environment block have size limits, a peer that closes early ends just its own
connection, and the socket is closed as soon as the route returns, because
Asterisk holds the channel until it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ivr.agi.channel import run_route
from ivr.agi.protocol import (
    MAX_LINE_BYTES,
    AgiEnvironment,
    AgiProtocolError,
    AgiResponse,
    EnvironmentParser,
    ResponseParser,
    Status,
    format_command,
)
from ivr.flows.channel import RouteHandler
from ivr.runtime.log_throttle import LogThrottle, suffix

log = logging.getLogger("ivr.agi")

# ``ivr check`` asks for this route to learn that the IVR service listens: it is
# closed without a word, as an unknown route is, but it is no fault to log.
CHECK_ROUTE = "ivr-check"

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """Time and size limits of the FastAGI server."""

    header_timeout: float = 10.0
    command_timeout: float = 30.0
    max_connections: int = 2000
    close_timeout: float = 5.0


class ConnectionClosed(Exception):
    """The peer closed the connection."""


class LineReader:
    """Reads ``\\n``-terminated lines with a size limit, as text."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    async def line(self) -> str:
        """One line without its ending; raises ``ConnectionClosed`` at EOF."""
        try:
            raw = await self._reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            raise ConnectionClosed from exc
        except asyncio.LimitOverrunError as exc:
            raise AgiProtocolError("line too long") from exc
        # Invalid UTF-8 (a hostile caller-ID name) is replaced, never fatal.
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")


class FastAgiConnection:
    """One Asterisk connection: sends commands, reads answers (a ``CommandRunner``)."""

    def __init__(self, reader: LineReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._parser = ResponseParser()
        self._lock = asyncio.Lock()

    @property
    def hung_up(self) -> bool:
        """True once Asterisk sent ``HANGUP``, ``511`` or closed the socket."""
        return self._parser.hung_up

    async def run(self, verb: str, *args: str, timeout: float) -> AgiResponse:
        """Send one command and wait (at most ``timeout`` s) for its answer."""
        line = format_command(verb, *args)
        async with self._lock, asyncio.timeout(timeout):
            try:
                self._writer.write(line)
                await self._writer.drain()
                while True:
                    response = self._parser.feed(await self._reader.line())
                    if response is not None:
                        return response
            except (ConnectionClosed, ConnectionError):
                self._parser.hung_up = True
                return AgiResponse(Status.DEAD, text="connection closed")


def peer_allowed(peer: object, allow: Sequence[IpNetwork]) -> bool:
    """Loopback peers always; others only from the allow-list (``IVR_AGI_ALLOW``)."""
    if not isinstance(peer, tuple) or not peer:
        return True  # a Unix socket: local by construction
    try:
        address = ipaddress.ip_address(str(peer[0]))
    except ValueError:
        return False
    return address.is_loopback or any(address in net for net in allow)


class FastAgiServer:
    """Accepts Asterisk's FastAGI connections and runs the requested route."""

    def __init__(
        self,
        routes: Mapping[str, RouteHandler],
        *,
        sounds_prefix: str,
        recording_dir: str,
        allow: Sequence[IpNetwork] = (),
        limits: ServerLimits | None = None,
    ) -> None:
        self._routes = dict(routes)
        self._sounds_prefix = sounds_prefix
        self._recording_dir = recording_dir
        self._allow = tuple(allow)
        self._limits = limits or ServerLimits()
        self._server: asyncio.Server | None = None
        self._calls: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._throttle = LogThrottle()

    @property
    def active_calls(self) -> int:
        """Connections being served now."""
        return len(self._calls)

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Listen on ``host:port`` (port 0 picks one); return the bound address."""
        self._server = await asyncio.start_server(
            self._accept, host, port, limit=MAX_LINE_BYTES, reuse_address=True
        )
        sockname = self._server.sockets[0].getsockname()
        log.info("FastAGI listening on %s:%s", sockname[0], sockname[1])
        return str(sockname[0]), int(sockname[1])

    async def close(self, drain_seconds: float = 0.0) -> None:
        """Stop listening; let calls finish for ``drain_seconds``, then drop the rest.

        Dropped calls see their socket closed (a hang-up for the flow), so every
        flow still writes its call record.
        """
        if self._server is not None:
            self._server.close()
        if self._calls and drain_seconds > 0:
            await asyncio.wait(list(self._calls), timeout=drain_seconds)
        for writer in list(self._calls.values()):
            writer.transport.abort()
        if self._calls:
            await asyncio.wait(list(self._calls), timeout=self._limits.close_timeout)
        for task in list(self._calls):
            task.cancel()
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        peer = writer.get_extra_info("peername")
        if not peer_allowed(peer, self._allow):
            self._warn("refused", "FastAGI connection from %s refused: not in IVR_AGI_ALLOW", peer)
            await self._close(writer)
            return
        if len(self._calls) >= self._limits.max_connections:
            self._warn(
                "full",
                "FastAGI connection from %s refused: %d calls already (IVR_AGI_MAX_CONNECTIONS)",
                peer,
                len(self._calls),
            )
            await self._close(writer)
            return
        if task is not None:
            self._calls[task] = writer
        try:
            await self._serve(LineReader(reader), writer, peer)
        finally:
            if task is not None:
                self._calls.pop(task, None)
            await self._close(writer)

    async def _serve(self, reader: LineReader, writer: asyncio.StreamWriter, peer: object) -> None:
        env = await self._read_environment(reader, peer)
        if env is None:
            return
        call = env.unique_id
        handler = self._routes.get(env.route)
        if handler is None:
            if env.route != CHECK_ROUTE:
                log.warning("call=%s unknown FastAGI route %r", call, env.route)
            return
        await run_route(
            handler,
            FastAgiConnection(reader, writer),
            env,
            sounds_prefix=self._sounds_prefix,
            recording_dir=self._recording_dir,
            command_timeout=self._limits.command_timeout,
        )

    async def _read_environment(self, reader: LineReader, peer: object) -> AgiEnvironment | None:
        parser = EnvironmentParser()
        try:
            async with asyncio.timeout(self._limits.header_timeout):
                while True:
                    env = parser.feed(await reader.line())
                    if env is not None:
                        return env
        except TimeoutError:
            self._warn("slow", "FastAGI peer %s sent no complete environment in time", peer)
        except ConnectionClosed:
            if parser.started:
                self._warn(
                    "cut", "FastAGI peer %s closed the connection during the environment", peer
                )
            else:  # a health check or port probe: connects and closes, says nothing
                log.debug("FastAGI peer %s connected and closed without a word", peer)
        except AgiProtocolError as exc:
            self._warn("bad", "FastAGI peer %s sent a bad environment: %s", peer, exc)
        except ConnectionError as exc:
            self._warn("error", "FastAGI peer %s connection error: %s", peer, exc)
        return None

    def _warn(self, kind: str, message: str, *args: object) -> None:
        """One warning line per kind per interval; the next one counts those held back."""
        held = self._throttle.admit(kind, time.monotonic())
        if held is not None:
            log.warning("%s%s", message % args, suffix(held))

    async def _close(self, writer: asyncio.StreamWriter) -> None:
        writer.close()
        with contextlib.suppress(ConnectionError, TimeoutError):
            async with asyncio.timeout(self._limits.close_timeout):
                await writer.wait_closed()
