"""``ivr check``: every part of a deployment reported in plain words."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from ivr.app import Services, build_agi_server
from ivr.check import check_deployment, print_findings
from ivr.config import Settings
from ivr.prompt_audio import build_prompts, default_catalogue_path, load_catalogue
from tests.fake_ami import FakeAmi
from tests.harness import Clock, free_port

DIALPLAN = Path(__file__).parents[1] / "dialplan"


@pytest.fixture(scope="module")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every catalogue prompt built once for this module."""
    out = tmp_path_factory.mktemp("sounds")
    build_prompts(load_catalogue(default_catalogue_path()), out)
    return out


async def test_healthy_deployment_is_ready(
    services: Services, settings: Settings, redis_url: str, sounds: Path, clock: Clock
) -> None:
    """Redis, data, prompts, dialplan, FastAGI and AMI all good: ready, exit 0."""
    fake = FakeAmi(secret="s3cret-for-tests")
    ami_port = await fake.start()
    server = build_agi_server(services, settings, clock)
    _, port = await server.start("127.0.0.1", 0)
    live = settings.with_overrides(
        redis_url=redis_url, agi_port=port, ami_host="127.0.0.1", ami_port=ami_port,
        ami_secret="s3cret-for-tests",
    )  # fmt: skip
    try:
        findings = await check_deployment(live, dialplan_dir=DIALPLAN, sounds_dir=sounds)
    finally:
        await server.close()
        await fake.close()
    out = io.StringIO()
    assert print_findings(findings, out) == 0, out.getvalue()
    assert [f.ok for f in findings] == [True] * 6
    assert "3 resellers and 5 systems loaded" in out.getvalue()
    assert "s3cret-for-tests" not in out.getvalue()


async def test_every_problem_is_reported_with_advice(
    settings: Settings, tmp_path: Path, sounds: Path
) -> None:
    """Unreachable Redis, missing prompts and dialplan, no service, AMI refusing: all named."""
    partial = tmp_path / "sounds"
    shutil.copytree(sounds, partial)
    (partial / "goodbye.ulaw").unlink()
    fake = FakeAmi(secret="right")
    ami_port = await fake.start()
    broken = settings.with_overrides(
        redis_url=f"redis://127.0.0.1:{free_port()}/0", agi_port=free_port(),
        ami_host="127.0.0.1", ami_port=ami_port, ami_secret="wrong",
    )  # fmt: skip
    try:
        findings = await check_deployment(broken, dialplan_dir=tmp_path, sounds_dir=partial)
    finally:
        await fake.close()
    out = io.StringIO()
    assert print_findings(findings, out) == 1
    text = out.getvalue()
    assert "Redis (IVR_REDIS_URL) does not answer" in text
    assert "prompts missing" in text
    assert "goodbye.ulaw" in text
    assert "ivr prompts build" in text
    assert "no dialplan at" in text
    assert "nothing answers FastAGI" in text
    assert "refused the login" in text
    assert "5 problem(s) to fix" in text
