"""AMI ``Originate`` through panoramisk, for re-paging on-call engineers.

Only this module talks AMI for paging; the pager sees an ``Originator``. The AMI
secret comes from settings and is never logged.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from panoramisk import Manager

log = logging.getLogger("ivr.ami")

_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class AmiSettings:
    """Where the Asterisk Manager Interface is and how to log in."""

    host: str
    port: int
    username: str
    secret: str
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class OriginateRequest:
    """One call to place: the engineer's Dial target into a dialplan context."""

    channel: str
    context: str
    exten: str
    timeout_seconds: int
    variables: Mapping[str, str]
    caller_id: str = "Partner support <2145565917>"


class Originator(Protocol):
    """Places calls (AMI Originate, or a fake in tests)."""

    async def originate(self, request: OriginateRequest) -> bool:
        """Queue the call; True when Asterisk accepted the request."""
        ...


def originate_action(request: OriginateRequest, action_id: str) -> dict[str, Any]:
    """The AMI action for a request (pure; variables as repeated ``Variable`` headers)."""
    for key, value in request.variables.items():
        if not key.isidentifier() or any(c in value for c in ",\r\n"):
            raise ValueError(f"unsafe Originate variable {key!r}")
    return {
        "Action": "Originate",
        "ActionID": action_id,
        "Channel": request.channel,
        "Context": request.context,
        "Exten": request.exten,
        "Priority": "1",
        "Timeout": str(request.timeout_seconds * 1000),
        "CallerID": request.caller_id,
        "Variable": [f"{k}={v}" for k, v in request.variables.items()],
        "Async": "true",
    }


class AmiOriginator:
    """An ``Originator`` over one panoramisk Manager connection."""

    def __init__(self, settings: AmiSettings) -> None:
        self._settings = settings
        self._manager: Manager | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        """Connect and log in (panoramisk reconnects by itself afterwards)."""
        loop = asyncio.get_running_loop()
        self._manager = Manager(
            loop=loop,
            host=self._settings.host,
            port=self._settings.port,
            username=self._settings.username,
            secret=self._settings.secret,
            events="off",
            ping_delay=30,
            ping_interval=30,
            on_login=lambda _m: self._ready.set(),
            on_disconnect=lambda _m, _e: self._ready.clear(),
        )
        self._manager.connect()
        try:
            async with asyncio.timeout(self._settings.timeout):
                await self._ready.wait()
        except TimeoutError:
            log.error(
                "AMI login to %s:%s failed or timed out", self._settings.host, self._settings.port
            )

    async def originate(self, request: OriginateRequest) -> bool:
        """Send ``Originate``; False (logged) when AMI is down or refuses."""
        if self._manager is None or not self._ready.is_set():
            log.error("AMI not connected: cannot page %s", request.channel)
            return False
        action = originate_action(request, f"ivr-page-{next(_ids)}")
        try:
            async with asyncio.timeout(self._settings.timeout):
                # as_list=False: "successfully queued" is the answer we wait for;
                # the later OriginateResponse event is not needed (events are off).
                response = await self._manager.send_action(action, as_list=False)
        except TimeoutError:
            log.error("AMI Originate to %s: no answer", request.channel)
            return False
        ok = bool(getattr(response, "success", False))
        if not ok:
            log.error("AMI Originate to %s refused: %s", request.channel, response)
        return ok

    async def close(self) -> None:
        """Log off and close."""
        if self._manager is not None:
            self._manager.close()
            self._manager = None
