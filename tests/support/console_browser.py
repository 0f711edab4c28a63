"""What every browser test of the console checks on a page: console errors, horizontal
scroll at phone width, axe-core's accessibility rules; and where screenshots go.

axe-core is installed from the npm registry by ``scripts/setup.sh --with-browser``
(into ``.venv/js``, outside the repository) and served to the page by the browser
itself (a Playwright route on the page's own origin, so the strict CSP allows it);
the product never serves it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Page

REPO = Path(__file__).resolve().parents[2]
AXE_URL = "/__tests__/axe.min.js"
# Set to 1 to (re)write the README's screenshots under docs/screenshots.
README_SHOTS_ENV = "IVR_README_SCREENSHOTS"
README_SHOTS = REPO / "docs" / "screenshots"
SERIOUS = ("serious", "critical")


def axe_file() -> Path:
    """The installed axe-core (the newest, if several versions were installed)."""
    found = sorted(REPO.glob(".venv/js/axe-*/node_modules/axe-core/axe.min.js"))
    assert found, "axe-core is missing: run ./scripts/setup.sh --with-browser"
    return found[-1]


async def serve_axe(context: BrowserContext) -> None:
    """Answer ``AXE_URL`` from the local axe-core file in every page of the context."""
    path = axe_file()
    await context.route(
        f"**{AXE_URL}",
        lambda route: route.fulfill(path=path, content_type="application/javascript"),
    )


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations of the page as it is now (WCAG 2.1 AA)."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(url=AXE_URL)
    result: dict[str, Any] = await page.evaluate(
        """() => axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                            "best-practice"]},
            resultTypes: ["violations"]})"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]  # fmt: skip


async def horizontal_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no horizontal scroll)."""
    return int(
        await page.evaluate(
            "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            " - window.innerWidth"
        )
    )


def watch_console(page: Page, errors: list[str]) -> None:
    """Collect the page's console errors and uncaught exceptions (CSP refusals included)."""
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    page.on(
        "console",
        lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None,
    )


async def screenshot(page: Page, folder: Path, name: str, *, readme: bool = False) -> Path:
    """A full-page screenshot kept as the test's artefact; with ``README_SHOTS_ENV`` set,
    the README's copy too."""
    path = folder / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    if readme and os.environ.get(README_SHOTS_ENV) == "1":
        README_SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(README_SHOTS / f"{name}.png"), full_page=True)
    return path
