"""The tickets API over real HTTP and Redis: resellers' names, everything a ticket holds,
recordings served only from the recordings folder, and the board's tiles."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from ivr.config import Settings
from ivr.store import keys
from ivr.store.stores import Stores
from tests.support.calls import EMERGENCY
from tests.support.harness import OPEN_HOURS, Clock, Line
from tests.support.web_harness import SUPERVISOR, Web, browser, running_dashboard, sign_in

WAV = b"RIFF$\x00\x00\x00WAVEfmt " + bytes(28)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A recordings folder of the test's own."""
    (tmp_path / "recordings").mkdir()
    return Settings(data_dir=tmp_path / "data", recording_dir=str(tmp_path / "recordings"))


@pytest.fixture
async def web(redis: Redis, settings: Settings) -> AsyncIterator[Web]:
    """The dashboard on a free port."""
    async with running_dashboard(redis, settings) as running:
        yield running


async def _emergency(line: Line, clock: Clock, stores: Stores) -> tuple[str, Path]:
    """An emergency call whose description Asterisk recorded as a WAV file."""
    clock.now = OPEN_HOURS
    number = (await line.call(EMERGENCY)).variables["IVR_TICKET"]
    ticket = await stores.tickets.get(number)
    assert ticket is not None
    path = Path(ticket.scenario)
    await asyncio.to_thread(path.write_bytes, WAV)
    return number, path


async def test_ticket_holds_names_recordings_alerts_and_trail(
    web: Web, line: Line, clock: Clock, stores: Stores
) -> None:
    """One ticket's JSON: the reseller's name, a playable recording, its alerts and audit;
    the list carries the names too."""
    number, path = await _emergency(line, clock, stores)
    async with browser() as client:
        assert await sign_in(client, web.base, *SUPERVISOR) == 200
        async with client.get(f"{web.base}/api/tickets/{number}") as response:
            shown = await response.json()
        async with client.get(f"{web.base}/api/tickets") as response:
            listed = (await response.json())["tickets"]
    assert shown["ticket"]["reseller_name"] == "Lone Star Telecom"
    assert shown["recordings"] == [
        {"index": 0, "file": path.name, "url": f"/api/tickets/{number}/recordings/0"}
    ]
    assert shown["sla_alerts"] == []
    assert [e["event"] for e in shown["audit"]] == ["created"]
    assert listed[0]["reseller_name"] == "Lone Star Telecom"


async def test_recording_is_served_only_to_signed_in_users(
    web: Web, line: Line, clock: Clock, stores: Stores
) -> None:
    """The WAV comes back byte for byte to a signed-in supervisor, as audio/wav; without
    signing in it is a 401."""
    number, _path = await _emergency(line, clock, stores)
    url = f"{web.base}/api/tickets/{number}/recordings/0"
    async with browser() as client:
        async with client.get(url) as response:
            assert response.status == 401
        assert await sign_in(client, web.base, *SUPERVISOR) == 200
        async with client.get(url) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "audio/wav"
            assert "Content-Security-Policy" in response.headers
            assert await response.read() == WAV


@pytest.mark.parametrize(
    "scenario",
    ["/etc/hostname", "{root}/../outside.wav", "{root}/link.wav", "{root}/notes.txt", ""],
)
async def test_recording_outside_the_folder_is_never_served(
    web: Web,
    line: Line,
    clock: Clock,
    stores: Stores,
    redis: Redis,
    settings: Settings,
    tmp_path: Path,
    scenario: str,
) -> None:
    """A scenario naming a file outside IVR_RECORDING_DIR (directly, by '..' or through a
    link), or not a WAV, is a 404 and shows no URL; so is an index past the last."""
    number, _path = await _emergency(line, clock, stores)
    root = Path(settings.recording_dir)
    (tmp_path / "outside.wav").write_bytes(WAV)
    (root / "link.wav").symlink_to(tmp_path / "outside.wav")
    (root / "notes.txt").write_text("not a recording")
    await redis.hset(keys.ticket(number), "scenario", scenario.format(root=root))
    async with browser() as client:
        assert await sign_in(client, web.base, *SUPERVISOR) == 200
        for index in (0, 1):
            async with client.get(f"{web.base}/api/tickets/{number}/recordings/{index}") as r:
                assert r.status == 404
        async with client.get(f"{web.base}/api/tickets/{number}") as response:
            shown = await response.json()
    assert all(r["url"] == "" for r in shown["recordings"])


async def test_board_and_tiles_without_asterisk(
    web: Web, line: Line, clock: Clock, stores: Stores
) -> None:
    """No AMI configured: the board says so; the tiles still count today's calls, the open
    emergency and the SLA clock from the IVR's own data."""
    await _emergency(line, clock, stores)
    async with browser() as client:
        assert await sign_in(client, web.base, *SUPERVISOR) == 200
        async with client.get(f"{web.base}/api/queues") as response:
            board = await response.json()
        async with client.get(f"{web.base}/api/summary") as response:
            tiles = await response.json()
    assert board["ami"]["configured"] is False
    assert tiles["calls_today"] == 1
    assert tiles["tickets_today"] == 1
    assert tiles["tickets"] == {"emergencies_open": 1, "at_risk": 0, "overdue": 0, "open": 1}
    assert tiles["sla_today"]["pending"] == 1
    assert tiles["queues"]["waiting"] == 0
    assert tiles["queues"]["service_level"] is None
