"""A strict fake Asterisk Manager Interface over TCP, speaking AMI as Asterisk 22 does.

Replies follow tests/transcripts/ami-basic.txt: the banner, ``Response: Success``
blocks with the ActionID echoed, CRLF line endings and a blank line after each
message. An action it does not know is answered as Asterisk answers it and
recorded as a violation, so a test fails on it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

BANNER = "Asterisk Call Manager/11.0.0\r\n"


@dataclass
class FakeAmi:
    """Accepts one or more AMI clients; records actions; answers Login, Ping, Originate."""

    secret: str
    actions: list[dict[str, list[str]]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    refuse_originate: bool = False
    _server: asyncio.Server | None = None

    async def start(self) -> int:
        """Listen on a free loopback port; return it."""
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and drop clients."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await self._server.wait_closed()

    def originates(self) -> list[dict[str, list[str]]]:
        """The Originate actions received."""
        return [a for a in self.actions if a["Action"] == ["Originate"]]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(BANNER.encode())
        logged_in = False
        try:
            while True:
                block = await reader.readuntil(b"\r\n\r\n")
                action: dict[str, list[str]] = {}
                for line in block.decode().strip().split("\r\n"):
                    key, _, value = line.partition(": ")
                    action.setdefault(key, []).append(value)
                self.actions.append(action)
                reply = self._reply(action, logged_in)
                logged_in = logged_in or (action.get("Action") == ["Login"] and "Success" in reply)
                writer.write(reply.encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _reply(self, action: dict[str, list[str]], logged_in: bool) -> str:
        name = action.get("Action", [""])[0]
        action_id = action.get("ActionID", [""])[0]
        head = f"ActionID: {action_id}\r\n" if action_id else ""
        if name == "Login":
            if action.get("Secret") == [self.secret]:
                return f"Response: Success\r\n{head}Message: Authentication accepted\r\n\r\n"
            return f"Response: Error\r\n{head}Message: Authentication failed\r\n\r\n"
        if not logged_in:
            self.violations.append(f"{name} before Login")
            return f"Response: Error\r\n{head}Message: Permission denied\r\n\r\n"
        if name == "Ping":
            return f"Response: Success\r\n{head}Ping: Pong\r\nTimestamp: 1795570800.735910\r\n\r\n"
        if name == "Originate":
            missing = {"Channel", "Context", "Exten", "Priority"} - set(action)
            if missing:
                self.violations.append(f"Originate without {sorted(missing)}")
            if self.refuse_originate:
                return f"Response: Error\r\n{head}Message: Originate failed\r\n\r\n"
            return f"Response: Success\r\n{head}Message: Originate successfully queued\r\n\r\n"
        if name == "Logoff":
            return f"Response: Goodbye\r\n{head}Message: Thanks for all the fish.\r\n\r\n"
        self.violations.append(f"unknown action {name}")
        return f"Response: Error\r\n{head}Message: Invalid/unknown command\r\n\r\n"
