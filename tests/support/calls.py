"""What a test call keys and what the caller heard: shared by the call-flow tests.

The demo data (``ivr/demo``) has reseller 1001 with PIN 2468 owning Host ID
123456 (Premium Plus); ``EMERGENCY`` is a whole emergency call for it from a
number in no reseller's phone list.
"""

from __future__ import annotations

from ivr.agi.simulator import CallResult

# Option 1, account 1001, PIN 2468, Host ID 123456, "1" to confirm, "#" to end the recording.
EMERGENCY = "1 1001# 2468# # 123456# 1 #"
# In no reseller's phone list: the account and the PIN are asked.
UNKNOWN_CALLER = "9725550199"


def played(result: CallResult) -> list[str]:
    """The prompts the caller heard, in order (without the sounds prefix)."""
    return [s.text.removeprefix("ivr/") for s in result.steps if s.kind == "play"]


def said(result: CallResult) -> list[str]:
    """What Asterisk's SAY commands spoke."""
    return [s.text for s in result.steps if s.kind == "say"]
