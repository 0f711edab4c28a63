"""``AmiOriginator`` on the AMI client: True only for ``Response: Success``, else False, logged."""

from __future__ import annotations

import logging
import time

import pytest

from ivr.ami.client import AmiSettings
from ivr.ami.originate import AmiOriginator, OriginateRequest
from tests.support.fake_ami import FakeAmi, originator_on_fake
from tests.support.harness import free_port

SECRET = "s3cret-for-tests"
REQUEST = OriginateRequest(
    channel="PJSIP/201",
    context="ivr-oncall-page",
    exten="s",
    timeout_seconds=30,
    variables={"IVR_TICKET": "T-1001", "IVR_ONCALL_STEP": "1"},
)


async def test_accepted_originate_is_true_and_sent_as_asterisk_expects() -> None:
    """Success: True; the action carries the request, its variables repeated, Async."""
    async with originator_on_fake(SECRET) as (fake, originator):
        assert await originator.originate(REQUEST)
    sent = fake.originates()[0]
    assert sent["Channel"] == ["PJSIP/201"]
    assert sent["Variable"] == ["IVR_TICKET=T-1001", "IVR_ONCALL_STEP=1"]
    assert (sent["Timeout"], sent["Async"]) == (["30000"], ["true"])
    login = fake.actions[0]
    assert login["Events"] == ["off"]


async def test_refused_originate_is_false_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Response: Error: False, with Asterisk's message in the log."""
    async with originator_on_fake(SECRET) as (fake, originator):
        fake.refuse_originate = True
        assert not await originator.originate(REQUEST)
    assert "AMI Originate to PJSIP/201 refused: Originate failed" in caplog.text


async def test_unanswered_originate_is_false_after_the_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A hung Asterisk: False once the settings' timeout is spent, logged."""
    fake = FakeAmi(secret=SECRET)
    port = await fake.start()
    originator = AmiOriginator(AmiSettings("127.0.0.1", port, "ivr", SECRET, timeout=0.3))
    await originator.start()
    fake.unanswered.add("Originate")
    try:
        started = time.monotonic()
        assert not await originator.originate(REQUEST)
        assert time.monotonic() - started < 2.0
    finally:
        await originator.close()
        await fake.close()
    assert "AMI Originate to PJSIP/201: no answer within 0.3 s" in caplog.text
    assert fake.violations == []


async def test_originate_with_ami_down_is_false_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing listening: start gives up after its timeout, originate says not connected."""
    caplog.set_level(logging.INFO)
    originator = AmiOriginator(AmiSettings("127.0.0.1", free_port(), "ivr", SECRET, timeout=0.3))
    await originator.start()
    try:
        assert not await originator.originate(REQUEST)
    finally:
        await originator.close()
    assert "failed or timed out" in caplog.text
    assert "AMI not connected: cannot page PJSIP/201" in caplog.text
    assert SECRET not in caplog.text
