"""Teardown is bounded: what a test started stops, or is killed and named (``tests/support/
stopping.py``); a stuck part never hangs the suite."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys

import pytest

from tests.support.browser_harness import MARKER, launched_chromium, marked_processes
from tests.support.stopping import DidNotStop, stop_process

STUBBORN = """
import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(60)
"""


def test_a_process_that_ignores_sigterm_is_killed_and_named() -> None:
    process = subprocess.Popen([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline() == b"ready\n"  # SIGTERM is ignored from here on
    with pytest.raises(DidNotStop, match=r"stubborn \(pid \d+\) did not stop within 1 s"):
        stop_process(process, "stubborn", 1)
    assert process.returncode == -signal.SIGKILL
    process.stdout.close()


def test_a_process_that_stops_is_reaped_quietly() -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    stop_process(process, "sleeper", 10)
    assert process.returncode == -signal.SIGTERM


@pytest.mark.slow
async def test_a_chromium_that_does_not_close_is_killed_and_named() -> None:
    """A Chromium that cannot answer (stopped, as a starved one is) fails the test by name
    within the bound, its processes killed; nothing hangs, nothing is left."""
    marker = f"{MARKER}{secrets.token_hex(8)}"
    with pytest.raises(DidNotStop, match="Chromium did not stop within 2 s; killed"):
        async with launched_chromium(close_seconds=2, marker=marker) as browser:
            page = await browser.new_page()
            await page.set_content("<p>hello</p>")
            stuck = marked_processes(marker)
            assert stuck
            for pid in stuck:
                os.kill(pid, signal.SIGSTOP)
    assert marked_processes(marker) == []
