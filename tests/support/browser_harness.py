"""Headless Debian Chromium for the browser tests (browsers cannot be downloaded here)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from playwright.async_api import Browser, Page, async_playwright, expect

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying hosts this
# machine cannot reach; --no-sandbox because the tests may run as root.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@asynccontextmanager
async def launched_chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium driven by Playwright, closed at the end."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def sign_in_page(page: Page, base: str, name: str, password: str) -> None:
    """Fill in the sign-in form as a person does and land on the live board."""
    await page.goto(f"{base}/login")
    await page.get_by_label("Account").fill(name)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{base}/")
    await expect(page.get_by_role("heading", name="Live board")).to_be_attached()
