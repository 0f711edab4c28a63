"""``ivr check``: each part of a deployment reported in plain words, with advice."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from ivr.audio.catalogue import FORMATS, build_prompts, default_catalogue_path, load_catalogue
from ivr.cli import main
from ivr.commands.check import Finding, check_deployment, default_dialplan_dir, print_findings
from ivr.config import Settings
from ivr.flows.prompts import Prompt
from ivr.store.stores import Stores
from tests.support.harness import Line, free_port

AMI_SECRET = "s3cret-for-tests"


@pytest.fixture(scope="module")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every catalogue prompt built once for this module, as `ivr prompts build` does."""
    out = tmp_path_factory.mktemp("sounds")
    build_prompts(load_catalogue(default_catalogue_path()), out)
    return out


class FakeManager:
    """Asterisk's AMI as far as the check uses it: banner, Login, ListCommands, Logoff.

    Replies are framed as Asterisk 22 frames them (CRLF, a blank line after each
    message, the ActionID echoed); ListCommands lists only what the user may run.
    """

    def __init__(self, secret: str, *, may_originate: bool = True) -> None:
        self.secret = secret
        self.may_originate = may_originate
        self.actions: list[str] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        """Listen on a free loopback port; return it."""
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await self._server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        try:
            while True:
                block = (await reader.readuntil(b"\r\n\r\n")).decode()
                headers = dict(line.split(": ", 1) for line in block.strip().split("\r\n"))
                self.actions.append(headers["Action"])
                writer.write(self._reply(headers).encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _reply(self, headers: dict[str, str]) -> str:
        head = f"ActionID: {headers.get('ActionID', '')}\r\n"
        match headers["Action"]:
            case "Login" if headers.get("Secret") == self.secret:
                # An event before the next response: the check must skip it.
                return (
                    f"Response: Success\r\n{head}Message: Authentication accepted\r\n\r\n"
                    "Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n"
                )
            case "Login":
                return f"Response: Error\r\n{head}Message: Authentication failed\r\n\r\n"
            case "ListCommands":
                listed = "Ping: Keepalive command. (Priv: <none>)\r\n"
                listed += "QueueStatus: Show queue status. (Priv: <none>)\r\n"
                if self.may_originate:
                    listed += "Originate: Originate a call. (Priv: originate,all)\r\n"
                return f"Response: Success\r\n{head}{listed}\r\n"
            case "Logoff":
                return f"Response: Goodbye\r\n{head}Message: Thanks for all the fish.\r\n\r\n"
        return f"Response: Error\r\n{head}Message: Invalid/unknown command\r\n\r\n"


@contextlib.asynccontextmanager
async def fake_manager(secret: str, *, may_originate: bool = True) -> AsyncIterator[int]:
    """A FakeManager for the duration of the block; yields its port."""
    manager = FakeManager(secret, may_originate=may_originate)
    port = await manager.start()
    try:
        yield port
    finally:
        await manager.close()


def about(findings: list[Finding], words: str) -> Finding:
    """The one finding whose text contains ``words``."""
    matches = [f for f in findings if words in f.what]
    assert len(matches) == 1, [f.what for f in findings]
    return matches[0]


def broken_copy(sounds: Path, tmp_path: Path, *, drop: tuple[str, ...] = ()) -> Path:
    """A copy of the built prompts without every format of the ``drop`` ids."""
    copy = tmp_path / "sounds"
    shutil.copytree(sounds, copy)
    for pid in drop:
        for ext in FORMATS:
            (copy / f"{pid}.{ext}").unlink()
    return copy


async def test_healthy_deployment_reports_all_ok(
    stores: Stores, settings: Settings, redis_url: str, line: Line, sounds: Path
) -> None:
    """Redis, demo data, prompts, dialplan, FastAGI and AMI all fine: every finding ok, exit 0."""
    async with fake_manager(AMI_SECRET) as ami_port:
        live = settings.with_overrides(
            redis_url=redis_url, agi_host="127.0.0.1", agi_port=line.port,
            ami_host="127.0.0.1", ami_port=ami_port, ami_secret=AMI_SECRET,
        )  # fmt: skip
        findings = await check_deployment(live, dialplan_dir=None, sounds_dir=sounds)
    out = io.StringIO()
    assert print_findings(findings, out) == 0, out.getvalue()
    assert all(f.ok for f in findings)
    text = out.getvalue()
    assert "3 resellers and 6 systems loaded" in text
    assert f"all {len(Prompt)} prompts built" in text
    assert "the IVR service answers FastAGI" in text
    assert "may originate calls" in text
    assert "✘" not in text
    assert text.endswith("Ready to answer the support line.\n")
    assert AMI_SECRET not in text


async def test_demo_data_is_ok_but_flagged(
    stores: Stores, settings: Settings, redis_url: str, sounds: Path
) -> None:
    """The demo resellers count as data, with a warning that their PINs are public."""
    findings = await check_deployment(
        settings.with_overrides(redis_url=redis_url), dialplan_dir=None, sounds_dir=sounds
    )
    data = about(findings, "resellers and")
    assert data.ok
    assert "demo resellers 1001, 1002, 1003" in data.what
    assert "PINs" in data.advice


async def test_unreachable_redis_is_reported_with_advice(settings: Settings, sounds: Path) -> None:
    """A Redis URL nobody answers at: one failed finding naming it and IVR_REDIS_URL."""
    port = free_port()
    down = settings.with_overrides(redis_url=f"redis://:hidden-pw@127.0.0.1:{port}/0")
    findings = await check_deployment(down, dialplan_dir=None, sounds_dir=sounds)
    redis = about(findings, "cannot be reached")
    assert not redis.ok
    assert f"Redis at redis://:***@127.0.0.1:{port}/0" in redis.what
    assert "IVR_REDIS_URL" in redis.advice
    assert not [f for f in findings if "resellers" in f.what]
    out = io.StringIO()
    assert print_findings(findings, out) == 1
    assert "hidden-pw" not in out.getvalue()


async def test_managed_redis_not_running_is_reported_not_started(
    settings: Settings, sounds: Path
) -> None:
    """Without IVR_REDIS_URL and no `ivr serve`, the check says so and starts nothing."""
    findings = await check_deployment(settings, dialplan_dir=None, sounds_dir=sounds)
    redis = about(findings, "the service's own Redis")
    assert not redis.ok
    assert "ivr serve" in redis.advice
    assert not (settings.data_dir / "redis.sock").exists()


async def test_no_data_is_reported_with_advice(
    redis: Redis, settings: Settings, redis_url: str, sounds: Path
) -> None:
    """An empty Redis: the data finding fails and says how to import."""
    findings = await check_deployment(
        settings.with_overrides(redis_url=redis_url), dialplan_dir=None, sounds_dir=sounds
    )
    data = about(findings, "0 resellers and 0 systems loaded")
    assert not data.ok
    assert "ivr import resellers" in data.advice


async def test_missing_prompts_are_named_with_advice(
    settings: Settings, sounds: Path, tmp_path: Path
) -> None:
    """A prompt with no sound file in any format is named; one format is enough."""
    partial = broken_copy(sounds, tmp_path, drop=("goodbye",))
    (partial / "welcome.ulaw").unlink()  # .wav and .sln remain: still playable
    findings = await check_deployment(settings, dialplan_dir=None, sounds_dir=partial)
    prompts = about(findings, "prompts missing")
    assert not prompts.ok
    assert f"1 of {len(Prompt)} prompts missing in {partial}: goodbye" in prompts.what
    assert f"ivr prompts build --out {partial}" in prompts.advice


async def test_prompts_folder_absent_is_reported(settings: Settings, tmp_path: Path) -> None:
    """A sounds folder that does not exist: reported, with the build command."""
    missing = tmp_path / "nowhere"
    findings = await check_deployment(settings, dialplan_dir=None, sounds_dir=missing)
    prompts = about(findings, "no prompts")
    assert not prompts.ok
    assert "ivr prompts build" in prompts.advice


async def test_missing_dialplan_is_reported_with_advice(
    settings: Settings, sounds: Path, tmp_path: Path
) -> None:
    """No support-line.conf in the dialplan folder: reported, with where to get it."""
    findings = await check_deployment(settings, dialplan_dir=tmp_path, sounds_dir=sounds)
    dialplan = about(findings, "no dialplan at")
    assert not dialplan.ok
    assert str(tmp_path / "support-line.conf") in dialplan.what
    assert "#include" in dialplan.advice


async def test_dialplan_without_the_route_is_reported(
    settings: Settings, sounds: Path, tmp_path: Path
) -> None:
    """A support-line.conf whose AGI call is commented out routes nobody: reported."""
    shipped = (default_dialplan_dir() / "support-line.conf").read_text(encoding="utf-8")
    (tmp_path / "support-line.conf").write_text(
        shipped.replace("same => n,AGI(${SL_AGI_URL}/support-line)", ";AGI gone"),
        encoding="utf-8",
    )
    findings = await check_deployment(settings, dialplan_dir=tmp_path, sounds_dir=sounds)
    dialplan = about(findings, "does not send callers")
    assert not dialplan.ok
    assert "replace it" in dialplan.advice


async def test_changed_dialplan_copy_is_ok_with_a_note(
    settings: Settings, sounds: Path, tmp_path: Path
) -> None:
    """A working copy that differs from the project's file passes, with a note to update it."""
    shipped = (default_dialplan_dir() / "support-line.conf").read_text(encoding="utf-8")
    (tmp_path / "support-line.conf").write_text(shipped + "\n; local note\n", encoding="utf-8")
    findings = await check_deployment(settings, dialplan_dir=tmp_path, sounds_dir=sounds)
    dialplan = about(findings, "sends callers to the support-line route")
    assert dialplan.ok
    assert "differs from the project's" in dialplan.advice


async def test_free_fastagi_port_is_reported_with_advice(settings: Settings, sounds: Path) -> None:
    """Nothing listening on the FastAGI port: reported, advising `ivr serve`."""
    idle = settings.with_overrides(agi_port=free_port())
    findings = await check_deployment(idle, dialplan_dir=None, sounds_dir=sounds)
    agi = about(findings, "no FastAGI service")
    assert not agi.ok
    assert "ivr serve" in agi.advice


async def test_fastagi_port_held_by_another_program_is_reported(
    settings: Settings, sounds: Path
) -> None:
    """A program that is not the IVR service on the port (it speaks first): reported."""

    async def web(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(web, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    try:
        findings = await check_deployment(
            settings.with_overrides(agi_port=port), dialplan_dir=None, sounds_dir=sounds
        )
    finally:
        server.close()
        await server.wait_closed()
    agi = about(findings, "another program holds the FastAGI port")
    assert not agi.ok
    assert "HTTP/1.1 400" in agi.what
    assert "IVR_AGI_PORT" in agi.advice


async def test_ami_not_configured_is_skipped_not_passed(settings: Settings, sounds: Path) -> None:
    """Without IVR_AMI_HOST the AMI finding is skipped, not ticked: re-paging is off."""
    findings = await check_deployment(settings, dialplan_dir=None, sounds_dir=sounds)
    ami = about(findings, "AMI not checked: not configured")
    assert ami.skipped
    assert "IVR_AMI_HOST" in ami.advice
    out = io.StringIO()
    print_findings([ami], out)
    assert out.getvalue().startswith("○ AMI not checked")
    assert "✔" not in out.getvalue()


async def test_the_fastagi_probe_leaves_no_warning_in_the_service(
    stores: Stores,
    settings: Settings,
    redis_url: str,
    line: Line,
    sounds: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The check's FastAGI probe is recognised, and logs no "unknown FastAGI route"."""
    live = settings.with_overrides(redis_url=redis_url, agi_host="127.0.0.1", agi_port=line.port)
    with caplog.at_level("INFO", logger="ivr"):
        findings = await check_deployment(live, dialplan_dir=None, sounds_dir=sounds)
        await asyncio.sleep(0.1)  # the service's side of the probe ends
    assert about(findings, "the IVR service answers FastAGI").ok
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_check_takes_the_fastagi_address(
    stores: Stores, redis_url: str, line: Line, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """``ivr check --agi-host H --agi-port P`` probes that address, not the configured one."""
    monkeypatch.setenv("IVR_REDIS_URL", redis_url)
    monkeypatch.setenv("IVR_AGI_PORT", str(free_port()))
    argv = ["check", "--agi-host", line.host, "--agi-port", str(line.port)]
    await asyncio.to_thread(main, argv)
    assert f"the IVR service answers FastAGI at {line.host}:{line.port}" in capsys.readouterr().out


async def test_ami_refusing_the_login_is_reported(settings: Settings, sounds: Path) -> None:
    """A wrong AMI secret: reported (never printed), advising to compare with manager.conf."""
    async with fake_manager("the-right-one") as port:
        wrong = settings.with_overrides(
            ami_host="127.0.0.1", ami_port=port, ami_secret="a-wrong-one"
        )
        findings = await check_deployment(wrong, dialplan_dir=None, sounds_dir=sounds)
    ami = about(findings, "refused the login of 'ivr'")
    assert not ami.ok
    assert "manager.conf" in ami.advice
    out = io.StringIO()
    print_findings(findings, out)
    assert "a-wrong-one" not in out.getvalue()


async def test_ami_user_without_originate_is_reported(settings: Settings, sounds: Path) -> None:
    """An AMI user that logs in but may not Originate cannot re-page: reported."""
    async with fake_manager(AMI_SECRET, may_originate=False) as port:
        limited = settings.with_overrides(
            ami_host="127.0.0.1", ami_port=port, ami_secret=AMI_SECRET
        )
        findings = await check_deployment(limited, dialplan_dir=None, sounds_dir=sounds)
    ami = about(findings, "may not originate calls")
    assert not ami.ok
    assert "write=originate" in ami.advice


async def test_unreachable_ami_is_reported(settings: Settings, sounds: Path) -> None:
    """An AMI address nobody answers at: reported, naming the settings to check."""
    gone = settings.with_overrides(
        ami_host="127.0.0.1", ami_port=free_port(), ami_secret=AMI_SECRET
    )
    findings = await check_deployment(gone, dialplan_dir=None, sounds_dir=sounds)
    ami = about(findings, "AMI at 127.0.0.1")
    assert not ami.ok
    assert "IVR_AMI_HOST" in ami.advice


def test_print_findings_counts_problems_and_falls_back_to_plain_marks() -> None:
    """Failures get ✘ and their advice, the total closes the list; ASCII output uses words."""
    findings = [Finding(True, "fine"), Finding(False, "broken", "fix it"), Finding(False, "no")]
    out = io.StringIO()
    assert print_findings(findings, out) == 1
    assert out.getvalue() == "✔ fine\n✘ broken\n  → fix it\n✘ no\n2 things to fix.\n"
    raw = io.BytesIO()
    ascii_out = io.TextIOWrapper(raw, encoding="ascii")
    assert print_findings(findings[:1], ascii_out) == 0
    ascii_out.flush()
    assert raw.getvalue() == b"ok   fine\nReady to answer the support line.\n"
