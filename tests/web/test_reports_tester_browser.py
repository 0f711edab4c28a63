"""In a real browser: an administrator reads the report charts and plays a call in the tester.

The web app runs in-process over the test Redis with the demo data and two calls
placed through the FastAGI flow; headless Debian Chromium driven by Playwright.
The screenshots are kept in the test's temporary directory.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from redis.asyncio import Redis

from ivr.config import Settings
from ivr.services import call_tester_line
from ivr.store import keys
from ivr.store.pins import PinHasher
from ivr.store.stores import Stores
from ivr.tester.engine import CallTester
from tests.support.browser_harness import launched_chromium, sign_in_page
from tests.support.harness import AFTER_HOURS, OPEN_HOURS, Clock, Line
from tests.support.oncall import ROTATION
from tests.support.web_harness import ADMIN, Web, running_dashboard

pytestmark = pytest.mark.slow

SLA_ALERT = {
    "kind": "sla_alert", "ticket": "10001", "label": "breach", "share": 1.0, "breach": True,
    "due": "2026-11-25T12:00:00-06:00", "late_seconds": 60.0, "paged": "", "tier": "premium_plus",
    "emergency": True, "title": "Emergency - System Down", "reseller": "1001",
    "host_id": "123456", "end_customer": "Acme",
}  # fmt: skip


@pytest.fixture
async def web(
    redis: Redis, settings: Settings, stores: Stores, fast_pins: PinHasher
) -> AsyncIterator[Web]:
    """The dashboard with the demo data and the call tester."""
    tester = CallTester(redis, settings, call_tester_line(settings, fast_pins))
    async with running_dashboard(redis, settings, call_tester=tester) as running:
        yield running


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    """Headless Debian Chromium."""
    async with launched_chromium() as browser:
        yield browser


async def _sign_in(page: Page, web: Web) -> None:
    await sign_in_page(page, web.base, *ADMIN)


async def test_admin_reads_the_charts_and_plays_a_call(
    web: Web,
    line: Line,
    clock: Clock,
    chromium: Browser,
    redis: Redis,
    stores: Stores,
    tmp_path: Path,
) -> None:
    """SLA alert and panel on the dashboard; report charts drawn with their labels;
    a whole night emergency played in the tester ends on-call."""
    clock.now = OPEN_HOURS
    await line.call("1 1001# 2468# # 123456# 1 #")
    clock.now = AFTER_HOURS
    await line.call("2 1001# 2468# 345678# 1 #")
    await stores.oncall.set_rotation(ROTATION)  # the tester's night call goes on-call

    page = await chromium.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await _sign_in(page, web)
    await expect(page.locator("#sla-standings li.standing")).to_have_count(2)
    alert = page.locator('#sla-alert-list li.sla-alert[data-ticket="10001"]')
    for _attempt in range(10):  # published until the page's event stream is connected
        await redis.publish(keys.LIVE, json.dumps(SLA_ALERT))
        try:
            await expect(alert).to_be_visible(timeout=500)
            break
        except AssertionError:
            continue
    await expect(alert).to_contain_text("SLA BREACHED")
    await expect(alert).to_contain_text("EMERGENCY")
    await expect(alert).to_contain_text("Host ID 123456")
    await page.screenshot(path=str(tmp_path / "dashboard-sla.png"), full_page=True)

    await page.get_by_role("link", name="Reports").click()
    await expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    await page.get_by_role("link", name="Today").click()
    await expect(page.locator("svg.chart")).to_have_count(3)
    calls = page.locator("#chart-calls")
    await expect(calls.locator("rect.bar")).to_have_count(2)  # 10:00 and 22:00
    await expect(calls.locator("text.value").first).to_have_text("1")
    await expect(page.locator("#table-calls_by_tier")).to_contain_text("Premium Plus")
    box = await calls.bounding_box()
    assert box is not None
    assert box["height"] > 100
    await page.screenshot(path=str(tmp_path / "reports.png"), full_page=True)

    await page.get_by_role("link", name="Call tester").click()
    await page.get_by_label("Time of the call").fill("2026-11-25T22:00")
    await page.get_by_label("Calling number").fill("9725550199")
    await page.locator('button.key[data-key="1"]').click()
    await page.locator("#key-next").click()
    await page.get_by_label("Keys pressed", exact=False).press_sequentially(
        "1001# 2468# # 123456# 1 #"
    )
    await page.get_by_role("button", name="Place the call").click()
    end = page.locator("#call-end")
    await expect(end).to_contain_text("Route: oncall", timeout=10_000)
    await expect(end).to_contain_text("(test, discarded)")
    steps = page.locator("#call-steps")
    await expect(steps).to_contain_text("transfer-oncall")
    await expect(steps).to_contain_text("(PIN hidden)")
    await expect(steps).not_to_contain_text("2468#")
    await page.screenshot(path=str(tmp_path / "tester.png"), full_page=True)
    assert (tmp_path / "tester.png").stat().st_size > 1000
    assert errors == []
