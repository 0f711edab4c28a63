"""The deployment files, checked statically (no Docker engine on these machines)."""

from __future__ import annotations

import configparser
import ipaddress
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from ivr.config import Queues, Settings, load_settings
from tests.test_dialplan import run_lint

ROOT = Path(__file__).parents[1]
DOCKER = ROOT / "docker"
COMPOSE: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
DOCKERFILE = (DOCKER / "Dockerfile").read_text()
SERVICES: dict[str, Any] = COMPOSE["services"]
# Every variable the settings read, as named in config.py's parser.
ENV_NAMES = set(re.findall(r'"(IVR_[A-Z_]+)"', (ROOT / "ivr/config.py").read_text()))
SUBNET = ipaddress.ip_network(COMPOSE["networks"]["internal"]["ipam"]["config"][0]["subnet"])


def substitute(value: str) -> str:
    """Compose's ``${X:-default}`` and ``${X:?error}`` as a deployer would fill them."""
    return re.sub(
        r"\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}",
        lambda m: m[2] if m[2] is not None else f"test-{m[1].lower()}",
        value,
    )


def test_compose_services_and_network() -> None:
    """Redis, the prompt build, the service and Asterisk share one internal network."""
    assert set(SERVICES) == {"redis", "prompts", "ivr", "asterisk"}
    for service in SERVICES.values():
        assert "internal" in service["networks"]
    assert "--appendonly" in SERVICES["redis"]["command"]
    assert "ports" not in SERVICES["redis"]
    assert "ports" not in SERVICES["ivr"]


def test_referenced_files_exist() -> None:
    """Every file the compose file mounts and the Dockerfile copies is in the repository."""
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DOCKER / source).exists(), source
        build = service.get("build")
        if build:
            assert (DOCKER / build["context"] / build["dockerfile"]).is_file()
    for source in re.findall(r"^COPY (\S+)", DOCKERFILE, flags=re.M):
        assert (ROOT / source).exists(), source


def test_service_environment_is_valid_settings() -> None:
    """The service's environment parses into settings that agree with the compose file."""
    env = {k: substitute(str(v)) for k, v in SERVICES["ivr"]["environment"].items()}
    assert set(env) <= ENV_NAMES, set(env) - ENV_NAMES
    settings = load_settings(env)
    assert settings.agi_port == Settings().agi_port
    assert settings.redis_url == "redis://redis:6379/0"
    asterisk_ip = ipaddress.ip_address(SERVICES["asterisk"]["networks"]["internal"]["ipv4_address"])
    assert any(asterisk_ip in net for net in settings.agi_allow)
    assert "${IVR_AMI_SECRET:?" in str(SERVICES["ivr"]["environment"]["IVR_AMI_SECRET"])


def test_dockerfile_non_root_with_healthcheck() -> None:
    """The image runs as a non-root user, exposes the service's ports and checks its health."""
    assert re.search(r"^USER (?!root)\w+", DOCKERFILE, flags=re.M)
    assert "HEALTHCHECK" in DOCKERFILE
    assert f"EXPOSE {Settings().agi_port} 8080" in DOCKERFILE


def test_asterisk_queues_match_service_queue_names() -> None:
    """queues.conf defines exactly the queues the service routes to."""
    text = (DOCKER / "asterisk/queues.conf").read_text()
    defined = set(re.findall(r"^\[([\w-]+)\](?:\(support-template\))", text, flags=re.M))
    assert defined == {getattr(Queues(), f) for f in Queues.__dataclass_fields__}
    settings_lines = [line for line in text.splitlines() if not line.startswith(";")]
    assert not [
        line for line in settings_lines if line.startswith(("eventwhencalled", "eventmember"))
    ]


def test_extensions_include_the_dialplan_and_point_at_the_service() -> None:
    """extensions.conf includes the project's dialplan and names the service's address."""
    text = (DOCKER / "asterisk/extensions.conf").read_text()
    include = re.search(r"^#include (\S+)", text, flags=re.M)
    assert include is not None
    mounted = next(v for v in SERVICES["asterisk"]["volumes"] if v.startswith("../dialplan"))
    target = mounted.split(":")[1].removeprefix("/etc/asterisk/")
    assert include[1].startswith(target)
    assert (ROOT / "dialplan" / Path(include[1]).name).is_file()
    assert f"IVR_AGI_URL=agi://ivr:{Settings().agi_port}" in text


def test_manager_is_least_privilege() -> None:
    """The AMI user is limited to the internal subnet and to reading queues and originating."""
    parser = configparser.ConfigParser(strict=False, allow_no_value=True)
    text = (DOCKER / "asterisk/manager.conf").read_text()
    parser.read_string("\n".join(line for line in text.splitlines() if not line.startswith("#")))
    user = parser["ivr"]
    assert user["deny"] == "0.0.0.0/0.0.0.0"
    permit = ipaddress.ip_network(user["permit"].replace("/255.255.255.0", "/24"))
    assert permit == SUBNET
    assert set(user["write"].split(",")) == {"originate"}
    assert not {"all", "system", "command", "config"} & set(user["read"].split(","))
    assert "5038" not in str(SERVICES["asterisk"].get("ports", []))


def test_compose_extensions_conf_lints_clean(tmp_path: Path) -> None:
    """The deployment's extensions.conf, with the dialplan where compose mounts it, lints clean."""
    (tmp_path / "ivr-dialplan").mkdir()
    shutil.copy(ROOT / "dialplan/support-line.conf", tmp_path / "ivr-dialplan")
    shutil.copy(DOCKER / "asterisk/extensions.conf", tmp_path / "extensions.conf")
    result = run_lint("dialplan-check", tmp_path / "extensions.conf")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
