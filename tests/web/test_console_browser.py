"""The supervisors' console in Chromium, as its users see it, at laptop and phone widths.

The web app runs in-process over the test Redis with the demo data: four calls
placed through the real FastAGI flow (tickets, call records, one recorded
description as a WAV file), and the queue board that the AMI consumer would keep
(callers identified from those calls' records, agents in every state, today's
outcomes). Every page is checked for console errors, horizontal scroll at 360 px
and axe-core's serious or critical violations, and photographed (the test's
artefacts; with ``IVR_README_SCREENSHOTS=1`` also the README's under docs/).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import math
import struct
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from redis.asyncio import Redis

from ivr.config import Settings
from ivr.domain.queues import Agent, Caller, Queue, QueueOutcome
from ivr.services import call_tester_line
from ivr.store import keys
from ivr.store.live import LiveStore
from ivr.store.pins import PinHasher
from ivr.store.sla import SlaAlert, SlaStore
from ivr.store.stores import Stores
from ivr.tester.engine import CallTester
from tests.support.browser_harness import launched_chromium, sign_in_page
from tests.support.console_browser import (
    axe_violations,
    horizontal_overflow,
    screenshot,
    serve_axe,
    watch_console,
)
from tests.support.harness import CHICAGO, OPEN_HOURS, Clock, Line
from tests.support.oncall import ROTATION
from tests.support.web_harness import ADMIN, SUPERVISOR, Web, running_dashboard

pytestmark = pytest.mark.slow

WIDTHS = (1280, 360)
PHONE_HEIGHT = 780
LAPTOP_HEIGHT = 800
AMI_SECRET = "s3cret-for-tests"


def _at(hour: int, minute: int) -> dt.datetime:
    return dt.datetime(2026, 11, 25, hour, minute, tzinfo=CHICAGO)


@dataclasses.dataclass(frozen=True)
class Placed:
    """One call placed for the board: who, the ticket, and how long it has waited."""

    uniqueid: str
    queue: str
    ticket: str
    wait_seconds: int


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Asterisk configured (nothing connects in-process) and a recordings folder."""
    (tmp_path / "recordings").mkdir()
    return Settings(data_dir=tmp_path / "data", ami_host="127.0.0.1", ami_secret=AMI_SECRET,
                    recording_dir=str(tmp_path / "recordings"))  # fmt: skip


def _tone(path: Path, seconds: float = 1.5) -> None:
    """A short 8 kHz mono WAV (what Asterisk records), a falling two-tone."""
    rate = 8000
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * (440 if n < rate // 2 else 330)
                                                  * n / rate)))
            for n in range(int(rate * seconds))
        )  # fmt: skip
        out.writeframes(frames)


async def _place_calls(line: Line, clock: Clock) -> list[Placed]:
    """Four calls earlier this morning, through the real flow, each ending in a queue."""
    plan = [
        (_at(8, 20), "1 1001# 2468# # 123456# 1 #", "support-premium-plus", 190),
        (_at(7, 40), "2 1001# 2468# 234567# 1 #", "support-premium", 65),
        (_at(9, 30), "2 1002# 1357# 567890# 1 #", "support-standard", 48),
        (_at(9, 50), "2 1001# 2468# 345678# 1 #", "support-standard", 21),
    ]
    placed = []
    for n, (at, dtmf, queue, wait) in enumerate(plan):
        clock.now = at
        uid = f"1795570949.{n + 1}"
        result = await line.call(dtmf, unique_id=uid)
        assert result.variables["IVR_QUEUE"] == queue, result.variables
        placed.append(Placed(uid, queue, result.variables["IVR_TICKET"], wait))
    clock.now = OPEN_HOURS
    return placed


async def _answered_calls(
    line: Line, clock: Clock, stores: Stores, redis: Redis, settings: Settings
) -> None:
    """Three earlier calls an engineer answered: their waits reach the call records (as
    the AMI consumer writes them) and their tickets were acknowledged, one resolved."""
    live = LiveStore(redis, settings.timezone, settings.service_level_seconds)
    plan = [
        (_at(7, 5), "2 1001# 2468# 234567# 1 #", "support-premium", 42.0),
        (_at(8, 35), "2 1002# 1357# 567890# 1 #", "support-standard", 95.0),
        (_at(9, 10), "2 1001# 2468# 123456# 1 #", "support-premium-plus", 18.0),
    ]
    for n, (at, dtmf, queue, wait) in enumerate(plan):
        clock.now = at
        uid = f"1795570900.{n + 1}"
        ticket = (await line.call(dtmf, unique_id=uid)).variables["IVR_TICKET"]
        answered = at + dt.timedelta(seconds=wait + 60)
        outcome = QueueOutcome(queue, uid, True, wait, answered)
        await live.write([], [(queue, uid, at)], [outcome], now=answered)
        await stores.tickets.acknowledge(ticket, "dana", answered + dt.timedelta(minutes=5))
        if n == 0:
            await stores.tickets.resolve(ticket, "dana", answered + dt.timedelta(minutes=40),
                                         "Licence re-applied")  # fmt: skip
    clock.now = OPEN_HOURS


async def _fill_board(redis: Redis, settings: Settings, placed: list[Placed]) -> None:
    """The board as the AMI consumer keeps it: callers, agents, today's outcomes."""
    live = LiveStore(redis, settings.timezone, settings.service_level_seconds)
    contexts = await live.contexts([p.uniqueid for p in placed])
    queues = {name: Queue(name) for name in
              ("support-premium-plus", "support-premium", "support-standard")}  # fmt: skip
    for p in placed:
        queue = queues[p.queue]
        queue.callers[p.uniqueid] = Caller(
            uniqueid=p.uniqueid, linkedid=p.uniqueid, caller_id="9725550100",
            caller_name="", position=len(queue.callers) + 1,
            joined_at=OPEN_HOURS - dt.timedelta(seconds=p.wait_seconds),
            context=contexts[p.uniqueid],
        )  # fmt: skip
    agents = {
        "support-premium-plus": [("Dana Whit", "available", ""), ("Eli Ross", "in call", "")],
        "support-premium": [("Fay Chen", "ringing", ""), ("Gus Lund", "available", "lunch")],
        "support-standard": [("Hal Ames", "in call", ""), ("Ivy Noor", "unavailable", "")],
    }
    for name, members in agents.items():
        for agent_name, state, paused in members:
            interface = f"PJSIP/{agent_name.split()[0].lower()}"
            agent = Agent(interface, agent_name, state, paused=bool(paused), paused_reason=paused)
            queues[name].agents[interface] = agent
    offered = [(p.queue, p.uniqueid, OPEN_HOURS) for p in placed]
    outcomes = []
    for n in range(14):  # earlier calls of the day: answered, mostly within a minute
        which = ("support-premium-plus", "support-premium", "support-standard")[n % 3]
        uid = f"earlier.{n}"
        offered.append((which, uid, _at(8, n)))
        outcomes.append(QueueOutcome(which, uid, n != 6, 12.0 + 4 * n, _at(8, n + 1)))
    await live.write(queues.values(), offered, outcomes, now=OPEN_HOURS)


@contextlib.asynccontextmanager
async def _ami_up(redis: Redis, settings: Settings) -> AsyncIterator[None]:
    """The AMI link up, its heartbeat kept alive as a running consumer does."""
    live = LiveStore(redis, settings.timezone)
    await live.set_ami_status(True, OPEN_HOURS - dt.timedelta(hours=3))

    async def beat() -> None:
        while True:
            await asyncio.sleep(4)
            await live.heartbeat()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _ticket_history(redis: Redis, stores: Stores, ticket: str) -> None:
    """An SLA alert and a page on the emergency ticket, as the SLA watch leaves them."""
    found = await stores.tickets.get(ticket)
    assert found is not None
    assert found.sla_due is not None  # an emergency, not a best-effort ticket
    alert = SlaAlert(ticket=ticket, label="50%", share=0.5, at=_at(9, 21), mark_at=_at(9, 20),
                     due=found.sla_due, late_seconds=0.0, passed_over=False,
                     paged="Sam Lee: no-answer")  # fmt: skip
    assert await SlaStore(redis).claim(alert) == 1
    await stores.tickets.log_paging(ticket, {
        "at": _at(9, 21).isoformat(), "round": "sla", "step": "manager", "engineer": "Sam Lee",
        "outcome": "no-answer", "via": "sla 50%",
    })  # fmt: skip


@dataclasses.dataclass
class Console:
    """The running console with its data."""

    web: Web
    placed: list[Placed]
    redis: Redis


@pytest.fixture
async def console(
    redis: Redis,
    settings: Settings,
    stores: Stores,
    fast_pins: PinHasher,
    line: Line,
    clock: Clock,
) -> AsyncIterator[Console]:
    """The console over four real calls, a busy queue board and a live AMI link."""
    await _answered_calls(line, clock, stores, redis, settings)
    placed = await _place_calls(line, clock)
    emergency = await stores.tickets.get(placed[0].ticket)
    assert emergency is not None
    assert emergency.scenario.startswith(settings.recording_dir)
    _tone(Path(emergency.scenario))
    await _ticket_history(redis, stores, placed[0].ticket)
    await _fill_board(redis, settings, placed)
    await stores.oncall.set_rotation(ROTATION)  # the tester's night call goes on-call
    tester = CallTester(redis, settings, call_tester_line(settings, fast_pins))
    async with _ami_up(redis, settings), running_dashboard(redis, settings,
                                                           call_tester=tester) as web:  # fmt: skip
        yield Console(web, placed, redis)


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    """Headless Debian Chromium."""
    async with launched_chromium() as browser:
        yield browser


async def _context(chromium: Browser, width: int, *, dark: bool = False) -> BrowserContext:
    height = PHONE_HEIGHT if width < 600 else LAPTOP_HEIGHT
    context = await chromium.new_context(viewport={"width": width, "height": height},
                                         timezone_id="America/Chicago",
                                         color_scheme="dark" if dark else "light")  # fmt: skip
    await serve_axe(context)
    return context


async def _check(page: Page, shots: Path, name: str, *, readme: bool = False) -> None:
    """No horizontal scroll, no serious accessibility violation; then the screenshot."""
    await page.wait_for_load_state("networkidle")
    assert await horizontal_overflow(page) <= 0, f"{name}: wider than the window"
    assert await axe_violations(page) == [], name
    await screenshot(page, shots, name, readme=readme)


async def test_every_page_at_laptop_and_phone_width(
    console: Console, chromium: Browser, tmp_path: Path
) -> None:
    """Sign-in, board, wallboard, ticket drawer, reports and tester at 1280 and 360 px:
    each shows its content, has no console error, no horizontal scroll and no serious
    axe violation, and is photographed."""
    errors: list[str] = []
    base = console.web.base
    emergency = console.placed[0].ticket
    for width in WIDTHS:
        suffix = "" if width > 600 else "-phone"
        context = await _context(chromium, width)
        page = await context.new_page()
        watch_console(page, errors)

        await page.goto(f"{base}/login")
        await _check(page, tmp_path, f"signin{suffix}", readme=not suffix)
        await sign_in_page(page, base, *ADMIN)

        await expect(page.locator("li.caller")).to_have_count(4)
        first = page.locator(f'li.caller[data-uniqueid="{console.placed[0].uniqueid}"]')
        await expect(first).to_contain_text("Lone Star Telecom")
        await expect(first).to_contain_text("Acme Hospital")
        await expect(first.locator(".badge.emergency")).to_be_visible()
        sla = first.locator(".sla")
        await expect(sla).to_have_class("sla red")  # 83 % of 2 h used
        counted = await sla.inner_text()
        await expect(sla).not_to_have_text(counted, timeout=3000)  # the countdown runs
        second = page.locator(f'li.caller[data-uniqueid="{console.placed[1].uniqueid}"] .sla')
        await expect(second).to_have_class("sla amber")  # 58 % of 4 h used
        await expect(page.locator("#ami-state")).to_contain_text("Live")
        await expect(page.locator("#announcer")).to_contain_text("Emergency waiting")
        await expect(page.locator("#tile-calls .value")).to_have_text("7")
        await expect(page.locator("#tile-sla_met .value")).to_have_text("100%")
        await expect(page.locator("#tile-waiting .value")).to_have_text("4")
        await expect(page.locator("#sla-standings li.standing")).to_have_count(4)
        await _check(page, tmp_path, f"board{suffix}", readme=True)

        await page.goto(f"{base}/?wall=1")
        await expect(page.locator("li.caller")).to_have_count(4)
        await expect(page.locator(".topbar")).to_be_hidden()
        await _check(page, tmp_path, f"wallboard{suffix}", readme=not suffix)

        await page.goto(f"{base}/tickets#{emergency}")
        drawer = page.locator("#ticket-drawer")
        await expect(drawer).to_be_visible()
        await expect(drawer).to_contain_text("Lone Star Telecom (1001)")
        await expect(drawer).to_contain_text("Sam Lee")  # the paging log
        await expect(drawer).to_contain_text("50% of the SLA used")
        audio = drawer.locator("audio")
        await expect(audio).to_have_count(1)
        duration = await audio.evaluate(
            """a => new Promise((ok, fail) => { a.preload = "auto";
                a.onloadedmetadata = () => ok(a.duration); a.onerror = () => fail(a.error.code);
                a.load(); })"""
        )
        assert 1.4 < duration < 1.6  # the recording plays in the browser, signed in
        await _check(page, tmp_path, f"ticket{suffix}", readme=not suffix)
        await page.keyboard.press("Escape")
        await expect(drawer).to_be_hidden()
        await expect(page.locator("#ticket-rows tr")).to_have_count(6)  # not resolved
        await _check(page, tmp_path, f"tickets{suffix}")

        await page.goto(f"{base}/reports?from=2026-11-23&to=2026-11-25&day=2026-11-25")
        await expect(page.locator("svg.chart")).to_have_count(3)
        await expect(page.locator("#table-calls_by_tier")).to_contain_text("Premium Plus")
        await _check(page, tmp_path, f"reports{suffix}", readme=not suffix)

        await page.goto(f"{base}/tester")
        await page.get_by_label("Time of the call").fill("2026-11-25T22:00")
        await page.get_by_label("Calling number").fill("9725550199")
        await page.get_by_label("Keys pressed", exact=False).fill("1 1001# 2468# # 123456# 1 #")
        await page.get_by_role("button", name="Place the call").click()
        await expect(page.locator("#call-end")).to_contain_text("Route: oncall", timeout=10_000)
        await _check(page, tmp_path, f"tester{suffix}", readme=not suffix)
        await context.close()
    assert errors == []


async def test_dark_mode_keeps_every_page_readable(
    console: Console, chromium: Browser, tmp_path: Path
) -> None:
    """With the system in dark mode the pages follow it, and axe finds no serious
    violation (contrast included)."""
    context = await _context(chromium, 1280, dark=True)
    page = await context.new_page()
    errors: list[str] = []
    watch_console(page, errors)
    await sign_in_page(page, console.web.base, *ADMIN)
    await expect(page.locator("li.caller")).to_have_count(4)
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(14, 19, 24)"
    await _check(page, tmp_path, "board-dark", readme=True)
    await page.goto(f"{console.web.base}/tickets#{console.placed[0].ticket}")
    await expect(page.locator("#ticket-drawer audio")).to_have_count(1)
    await _check(page, tmp_path, "ticket-dark")
    for path in ("/reports", "/tester"):
        await page.goto(console.web.base + path)
        await _check(page, tmp_path, "dark" + path.replace("/", "-"))
    await context.close()
    assert errors == []


async def test_drawer_acknowledge_reaches_a_second_signed_in_browser(
    console: Console, chromium: Browser, tmp_path: Path
) -> None:
    """An administrator acknowledges in the drawer after confirming; a supervisor's open
    drawer and board show it without reloading; the supervisor has no such button."""
    base = console.web.base
    number = console.placed[1].ticket
    errors: list[str] = []
    admin_context = await _context(chromium, 1280)
    watcher_context = await _context(chromium, 1280)
    admin = await admin_context.new_page()
    watcher = await watcher_context.new_page()
    watch_console(admin, errors)
    watch_console(watcher, errors)
    await sign_in_page(admin, base, *ADMIN)
    await sign_in_page(watcher, base, *SUPERVISOR)

    await watcher.goto(f"{base}/tickets#{number}")
    seen = watcher.locator("#ticket-drawer")
    await expect(seen.locator("#drawer-badges .badge").first).to_have_text("open")
    await expect(seen.locator("#drawer-ack")).to_have_count(0)  # supervisors only look

    await admin.goto(f"{base}/")
    await admin.locator(f'#sla-standings a[data-ticket="{number}"]').click()
    drawer = admin.locator("#ticket-drawer")
    await expect(drawer).to_contain_text("Baker Law Offices")
    await drawer.locator("#drawer-ack").click()
    await expect(drawer.locator(".confirm")).to_contain_text(f"Acknowledge ticket {number}")
    await drawer.get_by_role("button", name="Yes, acknowledge").click()
    await expect(drawer.locator("#drawer-badges .badge").first).to_have_text("acknowledged")

    await expect(seen.locator("#drawer-badges .badge").first).to_have_text(
        "acknowledged", timeout=2000
    )
    await expect(seen).to_contain_text(f"{ADMIN[0]}, 2026-11-25 10:00:00")
    await admin.keyboard.press("Escape")
    await expect(admin.locator(f'#sla-standings li[data-ticket="{number}"]')).to_have_count(0)

    await admin.goto(f"{base}/tickets#{number}")
    await drawer.locator("#drawer-resolve").click()
    await drawer.get_by_label("Resolution note (optional)").fill("Replaced the PSU")
    await drawer.get_by_role("button", name="Yes, resolve").click()
    await expect(seen.locator("#drawer-badges .badge").first).to_have_text("resolved", timeout=2000)
    await expect(seen).to_contain_text("Replaced the PSU")
    await expect(drawer.locator("#drawer-resolve")).to_have_count(0)  # nothing left to do
    await screenshot(watcher, tmp_path, "second-browser")
    await admin_context.close()
    await watcher_context.close()
    assert errors == []


async def test_keyboard_reaches_the_drawer_and_gets_focus_back(
    console: Console, chromium: Browser
) -> None:
    """Tab reaches the skip link first with a visible focus ring; Enter on a ticket link
    opens the drawer with focus inside; Escape closes it and focus returns to the link."""
    context = await _context(chromium, 1280)
    page = await context.new_page()
    await sign_in_page(page, console.web.base, *SUPERVISOR)
    await expect(page.locator("li.caller")).to_have_count(4)
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    await expect(skip).to_be_focused()
    outline = await skip.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline == "solid"
    number = console.placed[0].ticket
    link = page.locator(f'#sla-standings a[data-ticket="{number}"]')
    await link.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#drawer-close")).to_be_focused()
    await expect(page.locator("#drawer-title")).to_have_text(f"Ticket {number}")
    await page.keyboard.press("Escape")
    await expect(page.locator("#ticket-drawer")).to_be_hidden()
    await expect(link).to_be_focused()
    await context.close()


async def test_tester_failure_clears_the_previous_result(
    console: Console, chromium: Browser
) -> None:
    """A call that cannot be placed hides the last call's timeline and says why."""
    context = await _context(chromium, 1280)
    page = await context.new_page()
    await sign_in_page(page, console.web.base, *ADMIN)
    await page.goto(f"{console.web.base}/tester")
    await page.get_by_label("Keys pressed", exact=False).fill("1 1001# 2468# # 123456# 1 #")
    await page.get_by_role("button", name="Place the call").click()
    await expect(page.locator("#call-end")).to_contain_text("Route: queue", timeout=10_000)
    await expect(page.locator("#call-steps li.side-caller").first).to_contain_text("Caller presses")
    await expect(page.locator("#call-end")).to_contain_text("Ticket")
    await page.get_by_label("Calling number").fill("not a number")
    await page.get_by_role("button", name="Place the call").click()
    await expect(page.locator("#tester-error")).to_contain_text("could not be placed")
    await expect(page.locator("#tester-result")).to_be_hidden()
    await expect(page.locator("#call-steps li")).to_have_count(0)
    await context.close()


async def test_report_date_errors_are_shown_on_the_form(
    console: Console, chromium: Browser
) -> None:
    """A bad date is written beside its field (marked invalid); the Export menu lists
    every CSV."""
    context = await _context(chromium, 1280)
    page = await context.new_page()
    await sign_in_page(page, console.web.base, *SUPERVISOR)
    await page.goto(f"{console.web.base}/reports?from=2026-11-25&to=2026-11-01")
    field = page.get_by_label("To", exact=True)
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#to-error")).to_have_text("to is before from")
    assert await axe_violations(page) == []
    await page.goto(f"{console.web.base}/reports")
    await page.get_by_text("Export CSV").click()
    links = page.locator("details.menu a[download]")
    await expect(links).to_have_count(12)  # one per table of the report (ivr/domain/reports.py)
    first_csv = "/reports/csv?from=2026-11-23&to=2026-11-25&day=2026-11-25&table=calls_by_tier"
    await expect(links.first).to_have_attribute("href", first_csv)
    await context.close()


async def test_board_without_asterisk_says_so_and_stays_useful(
    redis: Redis, stores: Stores, line: Line, clock: Clock, chromium: Browser, tmp_path: Path
) -> None:
    """No AMI configured: the state line says so, the queues explain why they are empty,
    and the tiles, SLA clock and tickets come from the IVR's own data."""
    plain = Settings(data_dir=tmp_path / "data")
    clock.now = _at(9, 0)
    await line.call("1 1001# 2468# # 123456# 1 #")
    clock.now = OPEN_HOURS
    async with running_dashboard(redis, plain) as web:
        context = await _context(chromium, 1280)
        page = await context.new_page()
        errors: list[str] = []
        watch_console(page, errors)
        await sign_in_page(page, web.base, *SUPERVISOR)
        await expect(page.locator("#ami-state")).to_have_text(
            "Asterisk not configured · live queues off"
        )
        await expect(page.locator("#queues")).to_contain_text("Asterisk is not configured")
        await expect(page.locator("#tile-calls .value")).to_have_text("1")
        await expect(page.locator("#tile-emergencies .value")).to_have_text("1")
        await expect(page.locator("#tile-waiting .sub")).to_have_text("needs Asterisk")
        await expect(page.locator("#sla-standings li.standing")).to_have_count(1)
        await expect(page.locator("#stale, .ami.stale")).to_have_count(0)
        await _check(page, tmp_path, "board-no-asterisk", readme=True)
        await context.close()
        assert errors == []


async def test_emergency_ticket_is_announced_live(
    console: Console, chromium: Browser, redis: Redis
) -> None:
    """A new emergency ticket published on the live channel is read out by the
    assertive live region."""
    context = await _context(chromium, 1280)
    page = await context.new_page()
    await sign_in_page(page, console.web.base, *SUPERVISOR)
    await expect(page.locator("li.caller")).to_have_count(4)
    notice = {"kind": "ticket", "event": "created", "number": "20001", "status": "open",
              "emergency": True, "by": ""}  # fmt: skip
    await redis.publish(keys.LIVE, json.dumps(notice))
    await expect(page.locator("#announcer")).to_contain_text("New emergency ticket 20001")
    assert await page.locator("#announcer").get_attribute("aria-live") == "assertive"
    await context.close()
