"""Headless Debian Chromium for the browser tests (browsers cannot be downloaded here).

Closing is bounded: a Chromium that does not close within ``CLOSE_SECONDS`` is killed
(its whole process group) and the test fails saying so; so is a Playwright driver that
does not exit. Each launch carries a marker switch (Chromium ignores switches it does
not know) by which its processes are found in ``/proc``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright, expect

from tests.support.stopping import within

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying hosts this
# machine cannot reach; --no-sandbox because the tests may run as root.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
MARKER = "--ivr-test-browser="
CLOSE_SECONDS = 15.0


def marked_processes(marker: str) -> list[int]:
    """The processes whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if marker.encode() in (entry / "cmdline").read_bytes().split(b"\0"):
                found.append(int(entry.name))
    return found


def parent_of(pid: int) -> int | None:
    """The parent process of ``pid`` (None once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid``, and its process group when it leads one (Playwright starts
    Chromium in a group of its own: the renderers and helpers go with it)."""
    with contextlib.suppress(ProcessLookupError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)


def is_driver(pid: int) -> bool:
    """Whether ``pid`` is still a Playwright driver (never kill a pid reused since)."""
    try:
        return b"run-driver" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False


@asynccontextmanager
async def launched_chromium(
    close_seconds: float = CLOSE_SECONDS, marker: str | None = None
) -> AsyncIterator[Browser]:
    """Debian's Chromium driven by Playwright; closed at the end, or killed past
    ``close_seconds`` (``DidNotStop`` then names what would not stop). ``marker`` (a
    fresh one by default) is the switch its processes are found by."""
    marker = marker or f"{MARKER}{secrets.token_hex(8)}"
    playwright = await async_playwright().start()
    driver: int | None = None

    def kill_driver() -> None:
        if driver is not None and is_driver(driver):
            kill_tree(driver)

    try:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, marker]
        )
        marked = marked_processes(marker)
        driver = parent_of(marked[0]) if marked else None  # Playwright's node driver

        def kill_chromium() -> None:
            for pid in marked_processes(marker):
                kill_tree(pid)

        try:
            yield browser
        finally:
            await within("Chromium", browser.close(), close_seconds, kill=kill_chromium)
    finally:
        await within("the Playwright driver", playwright.stop(), close_seconds, kill=kill_driver)


async def sign_in_page(page: Page, base: str, name: str, password: str) -> None:
    """Fill in the sign-in form as a person does and land on the live board."""
    await page.goto(f"{base}/login")
    await page.get_by_label("Account").fill(name)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{base}/")
    await expect(page.get_by_role("heading", name="Live board")).to_be_attached()
