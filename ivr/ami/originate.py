"""AMI ``Originate``, for re-paging on-call engineers and alerting the support manager.

Only this module talks AMI for paging; the pager sees an ``Originator``. It keeps
one supervised ``AmiClient`` link with events off (the answer to ``Originate`` is
all it needs); the AMI secret comes from settings and is never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from ivr.ami.client import AmiClient, AmiSettings

log = logging.getLogger("ivr.ami")

# The link is pinged this often, so a half-open one is found before a page needs it.
PING_INTERVAL = 30.0


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


def originate_action(request: OriginateRequest, action_id: str) -> dict[str, str | list[str]]:
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
    """An ``Originator`` over one supervised AMI link (events off)."""

    def __init__(self, settings: AmiSettings) -> None:
        self._settings = settings
        self._client = AmiClient(
            settings,
            events=False,
            ping_interval=PING_INTERVAL,
            ping_timeout=settings.timeout,
            label="pager",
        )

    async def start(self) -> None:
        """Connect in the background (a down Asterisk is retried with back-off) and wait,
        at most the settings' timeout, for the first login."""
        self._client.start()
        try:
            await self._client.wait_logged_in(self._settings.timeout)
        except TimeoutError:
            log.error("AMI login to %s failed or timed out; retrying in the background",
                      self._settings.where)  # fmt: skip

    async def originate(self, request: OriginateRequest) -> bool:
        """Send ``Originate``; True when Asterisk answers ``Success``, False (logged) when
        AMI is down, does not answer in time or refuses."""
        # Async: the answer says "queued"; the call's own outcome comes later as an event.
        action = originate_action(request, self._client.next_action_id())
        try:
            reply = await self._client.action(action)
        except TimeoutError:  # before OSError, of which it is a kind
            log.error("AMI Originate to %s: no answer within %g s",
                      request.channel, self._settings.timeout)  # fmt: skip
            return False
        except OSError as exc:  # AmiLinkError, or the socket failing under the write
            log.error("AMI not connected: cannot page %s (%s)", request.channel, exc)
            return False
        if not reply.ok:
            log.error("AMI Originate to %s refused: %s", request.channel,
                      reply.response.get("Message") or reply.response.get("Response"))  # fmt: skip
        return reply.ok

    async def close(self) -> None:
        """Stop the link (bounded in time)."""
        await self._client.close()
