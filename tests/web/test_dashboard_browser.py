"""End to end in a real browser: ``ivr serve`` fed by the fake AMI, watched in Chromium.

A call goes through the FastAGI service (ticket, call record), the fake Asterisk
then reports that caller joining the queue, and the supervisor's page shows the
caller within a second, with the reseller's name, tier, Host ID and a running SLA
countdown; the link drops (the state line says stale since when), comes back
(rebuilt from QueueStatus), and the caller leaves.
Headless Debian Chromium driven by Playwright; the screenshots are kept in the
test's temporary directory.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from ivr.agi.simulator import FakeAsterisk, SimulatedCall
from ivr.flows.prompts import sound_exists
from tests.support.browser_harness import launched_chromium, sign_in_page
from tests.support.fake_ami import FakeAmi, FakeEntry, queue_with_agent
from tests.support.harness import free_port
from tests.support.stopping import astop_process

pytestmark = pytest.mark.slow

SECRET = "s3cret-for-tests"
QUEUE = "support-premium-plus"
UNIQUEID = "1795570949.13"


@dataclass
class Served:
    """``ivr serve`` as a process: its ports and the demo admin's password."""

    agi_port: int
    web: str
    password: str


@pytest.fixture
async def ami() -> AsyncIterator[FakeAmi]:
    """The fake Asterisk's manager interface, with the Premium Plus queue and one agent."""
    async with queue_with_agent(SECRET, QUEUE) as fake:
        yield fake


@pytest.fixture
async def served(ami: FakeAmi, tmp_path: Path) -> AsyncIterator[Served]:
    """``ivr serve --demo`` connected to the fake AMI, with its own managed Redis."""
    assert ami._server is not None
    ami_port = ami._server.sockets[0].getsockname()[1]
    agi_port, web_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    env |= {
        "IVR_DATA_DIR": str(tmp_path / "data"), "IVR_AGI_PORT": str(agi_port),
        "IVR_WEB_PORT": str(web_port), "IVR_AMI_HOST": "127.0.0.1",
        "IVR_AMI_PORT": str(ami_port), "IVR_AMI_SECRET": SECRET,
        "IVR_CLOCK_START": "2026-11-25T10:00:00-06:00",
    }  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: ASYNC220  (returns at once; the server outlives it)
            [sys.executable, "-m", "ivr.cli", "serve", "--demo"], env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 30
        while b"ivr serve ready" not in log.read_bytes():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "ivr serve did not start"
            await asyncio.sleep(0.1)  # the fake AMI in this loop answers meanwhile
        found = re.search(r"Dashboard demo account: admin / (\S+)", log.read_text())
        assert found, "the demo printed no dashboard account"
        yield Served(agi_port, f"http://127.0.0.1:{web_port}", found.group(1))
    finally:
        await astop_process(process, "ivr serve", 20)
    assert found.group(1) not in log.read_text().replace(found.group(0), ""), "password logged"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Debian Chromium."""
    async with launched_chromium() as launched:
        yield launched


async def _emergency_call(port: int) -> dict[str, str]:
    call = SimulatedCall(
        caller_id="2145550100",
        answers=SimulatedCall.parse_dtmf("1 1001# 2468# # 123456# 1 #"),
        unique_id=UNIQUEID,
        sound_exists=sound_exists("ivr"),
    )
    result = await FakeAsterisk("127.0.0.1", port).place(call)
    assert result.violations == []
    return result.variables


async def _sign_in(page: Page, served: Served) -> None:
    await page.goto(f"{served.web}/")
    await expect(page).to_have_url(f"{served.web}/login")  # the board needs a signed-in user
    await sign_in_page(page, served.web, "admin", served.password)


async def test_supervisor_sees_caller_join_count_down_and_leave(
    served: Served, ami: FakeAmi, browser: Browser, tmp_path: Path
) -> None:
    """Join seen within 1 s, SLA countdown, stale state across a dropped link, rebuild, leave."""
    variables = await _emergency_call(served.agi_port)
    assert variables["IVR_QUEUE"] == QUEUE
    ticket = variables["IVR_TICKET"]

    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await _sign_in(page, served)
    section = page.locator(f'article[data-queue="{QUEUE}"]')
    await expect(section).to_contain_text("No one waiting")
    await expect(page.locator("#ami-state")).to_contain_text("Live")

    await ami.emit(
        f"Event: QueueCallerJoin\nChannel: PJSIP/trunk-00000001\nCallerIDNum: 2145550100\n"
        f"CallerIDName: Acme\nUniqueid: {UNIQUEID}\nLinkedid: {UNIQUEID}\nQueue: {QUEUE}\n"
        "Position: 1\nCount: 1"
    )
    emitted = time.monotonic()
    row = page.locator(f'li.caller[data-uniqueid="{UNIQUEID}"]')
    await expect(row).to_be_visible(timeout=1000)  # AMI event to the board within a second
    assert time.monotonic() - emitted < 1.0
    await expect(row).to_contain_text("Lone Star Telecom")
    await expect(row).to_contain_text("Premium Plus")
    await expect(row).to_contain_text("Host ID 123456")
    await expect(row).to_contain_text(f"Ticket {ticket}")
    await expect(row.locator(".badge.emergency")).to_have_text("EMERGENCY")
    await expect(page.locator("#announcer")).to_contain_text("Emergency waiting")
    # One clock for the whole service (IVR_CLOCK_START): the emergency opened moments ago
    # has nearly all of its 2 hours, and the countdown runs.
    sla = row.locator(".sla")
    await expect(sla).to_have_class("sla ok")
    await expect(sla).to_contain_text("SLA 1:59:")
    first_left = await sla.inner_text()
    await expect(sla).not_to_have_text(first_left, timeout=3000)
    wait = row.locator(".wait")
    first = await wait.inner_text()
    await expect(wait).not_to_have_text(first, timeout=3000)  # the wait runs
    await page.screenshot(path=str(tmp_path / "dashboard-caller.png"), full_page=True)

    ami.queues[QUEUE].entries = [FakeEntry(UNIQUEID, "2145550100", wait=20)]
    ami.drop()
    banner = page.locator("#ami-state")
    await expect(banner).to_have_class("ami stale", timeout=5000)
    await expect(banner).to_contain_text("Stale since")
    await page.screenshot(path=str(tmp_path / "dashboard-stale.png"), full_page=True)
    await ami.wait_logins(2, timeout=15)
    await expect(banner).to_have_class("ami live", timeout=10000)
    await expect(row).to_be_visible()
    await expect(row).to_contain_text("Premium Plus")  # context kept across the rebuild

    await ami.emit(
        f"Event: QueueCallerLeave\nQueue: {QUEUE}\nUniqueid: {UNIQUEID}\nPosition: 1\nCount: 0",
        f"Event: AgentConnect\nQueue: {QUEUE}\nUniqueid: {UNIQUEID}\nInterface: PJSIP/dana\n"
        "MemberName: Dana\nHoldTime: 25\nRingTime: 2",
    )
    await expect(row).to_have_count(0, timeout=5000)
    await expect(section).to_contain_text("No one waiting")
    await asyncio.sleep(0)  # let the last frame paint before the screenshot
    await page.screenshot(path=str(tmp_path / "dashboard-left.png"), full_page=True)
    assert (tmp_path / "dashboard-caller.png").stat().st_size > 1000
    assert errors == []
