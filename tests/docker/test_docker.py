"""The Docker deployment, checked statically: no Docker engine runs these tests.

docker/compose.yaml, the two Dockerfiles, docker/asterisk/*.conf and .dockerignore
are read as Compose, Docker and Asterisk read them, and held against the
service's own defaults and rules (``ivr.config``), so that a change on one side
fails a test here instead of a deployment.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import ipaddress
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from ivr.audio.catalogue import default_out_dir
from ivr.config import Queues, Settings, load_settings
from tests.support.dialplan import NUMBERS, run_lint
from tests.support.harness import free_port

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
ASTERISK = DOCKER / "asterisk"
COMPOSE_TEXT = (DOCKER / "compose.yaml").read_text(encoding="utf-8")
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, Any] = COMPOSE["services"]
DEFAULTS = Settings()
WEB_PORT = 8080  # the supervisors' dashboard
IVR_IMAGE = "support-line-ivr:local"
# What a deployer must provide (everything else has a default in the file).
DEPLOY_ENV = {"IVR_AMI_SECRET": "0123456789abcdef0123456789abcdef"}

# --- Compose ----------------------------------------------------------------------

_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_]\w*))"
)


class MissingVariable(Exception):
    """A required ``${NAME:?message}`` variable is unset."""


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's variable interpolation of one string (``$$``, ``${X:-d}``, ``${X:?e}``...)."""

    def one(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["name"] or match["bare"]
        op, arg = match["op"], match["arg"] or ""
        value = env.get(name)
        present = value is not None if op in ("-", "?") else bool(value)
        if op in (":-", "-"):
            return value if present and value is not None else arg
        if op in (":?", "?"):
            if not present or value is None:
                raise MissingVariable(f"{name}: {arg}")
            return value
        return value or ""

    return _INTERPOLATION.sub(one, value)


def resolve(node: Any, env: Mapping[str, str]) -> Any:
    """A parsed compose document with every string interpolated."""
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [resolve(item, env) for item in node]
    if isinstance(node, dict):
        return {key: resolve(value, env) for key, value in node.items()}
    return node


DEPLOYED: dict[str, Any] = resolve(COMPOSE, DEPLOY_ENV)["services"]


def environment(service: str) -> dict[str, str]:
    """A service's environment as the container gets it, with DEPLOY_ENV set."""
    return {name: str(value) for name, value in DEPLOYED[service].get("environment", {}).items()}


def mounts(service: str) -> dict[str, str]:
    """A service's volumes: container path -> source (a named volume or a host path)."""
    found: dict[str, str] = {}
    for spec in DEPLOYED[service].get("volumes", []):
        source, target = spec.split(":")[:2]
        found[target] = source
    return found


def networks_of(service: str) -> list[str]:
    """The networks a service is attached to."""
    nets = DEPLOYED[service].get("networks", [])
    return list(nets) if isinstance(nets, list) else list(nets.keys())


def subnet(network: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A network's fixed subnet from its ipam config."""
    (config,) = COMPOSE["networks"][network]["ipam"]["config"]
    return ipaddress.ip_network(config["subnet"])


# --- Dockerfiles ------------------------------------------------------------------


def instructions(path: Path) -> list[tuple[str, str]]:
    """A Dockerfile's instructions (name upper-cased, continuation lines joined)."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#") or (not pending and not line.strip()):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        name, _, rest = (pending + line).strip().partition(" ")
        found.append((name.upper(), rest.strip()))
        pending = ""
    return found


def instruction(path: Path, name: str) -> list[str]:
    """The arguments of every ``name`` instruction in a Dockerfile."""
    return [rest for found, rest in instructions(path) if found == name]


def image_env(path: Path) -> dict[str, str]:
    """The ENV a Dockerfile bakes into its image."""
    env: dict[str, str] = {}
    for rest in instruction(path, "ENV"):
        for pair in shlex.split(rest):
            name, _, value = pair.partition("=")
            env[name] = value
    return env


def dockerignore_patterns() -> list[str]:
    """The patterns of the repository's .dockerignore (the root build context)."""
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _match(pattern: list[str], path: list[str]) -> bool:
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match(rest, path[i:]) for i in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], head) and _match(rest, path[1:])


def dockerignored(path: str) -> bool:
    """Whether Docker leaves ``path`` (relative to the root) out of the build context."""
    parts = path.strip("/").split("/")
    ignored = False
    for pattern in dockerignore_patterns():
        keep = pattern.startswith("!")
        wanted = pattern.lstrip("!").strip("/").split("/")
        # A pattern that matches a folder leaves out everything in it.
        if any(_match(wanted, parts[:i]) for i in range(1, len(parts) + 1)):
            ignored = not keep
    return ignored


# --- Asterisk configuration -------------------------------------------------------


@dataclass
class Section:
    """One ``[name](options)`` section of an Asterisk config file."""

    name: str
    options: str
    entries: list[tuple[str, str]] = field(default_factory=list)

    def values(self, key: str) -> list[str]:
        """Every value of ``key`` (``=`` or ``=>``), in order."""
        return [value for name, value in self.entries if name == key]

    def value(self, key: str) -> str:
        """The one value of ``key``."""
        (found,) = self.values(key)
        return found


@dataclass
class AsteriskConfig:
    """An Asterisk config file: its sections and its ``#`` directives."""

    sections: list[Section]
    directives: list[str]

    def section(self, name: str, kind: str | None = None) -> Section:
        """The one section called ``name`` (with ``type=kind``, for pjsip.conf)."""
        (found,) = [
            s
            for s in self.sections
            if s.name == name and (kind is None or s.values("type") == [kind])
        ]
        return found


def asterisk_config(name: str) -> AsteriskConfig:
    """Parse docker/asterisk/<name> as Asterisk does: ``;`` comments, ``=`` and ``=>``."""
    sections: list[Section] = []
    directives: list[str] = []
    for raw in (ASTERISK / name).read_text(encoding="utf-8").splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("#"):
            directives.append(line)
        elif header := re.fullmatch(r"\[([^\]]+)\](?:\((.*)\))?", line):
            sections.append(Section(header[1], header[2] or ""))
        else:
            key, _, value = line.partition("=")
            sections[-1].entries.append((key.strip(), value.removeprefix(">").strip()))
    return AsteriskConfig(sections, directives)


def acl_allows(section: Section, address: str) -> bool:
    """Asterisk's ast_apply_ha: deny/permit rules in order, the last match wins.

    An IPv4 rule never matches an IPv6 address (and the reverse); no match allows.
    """
    peer = ipaddress.ip_address(address)
    allowed = True
    for sense, rule in section.entries:
        if sense not in ("deny", "permit"):
            continue
        net = ipaddress.ip_network(rule, strict=False)
        if net.version == peer.version and peer in net:
            allowed = sense == "permit"
    return allowed


class RecordingEnviron(Mapping[str, str]):
    """An empty environment that notes every name looked up in it."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def settings_names() -> set[str]:
    """Every variable ``load_settings`` reads."""
    env = RecordingEnviron()
    load_settings(env)
    return env.asked


# --- Tests ------------------------------------------------------------------------


def test_compose_parses_and_requires_the_ami_secret() -> None:
    """compose.yaml parses into its five services and refuses to start without IVR_AMI_SECRET."""
    assert set(SERVICES) == {"redis", "prompts", "ivr", "dashboard", "asterisk"}
    assert "IVR_AMI_SECRET" in environment("ivr")
    with pytest.raises(MissingVariable, match="IVR_AMI_SECRET"):
        resolve(COMPOSE, {})
    for service in ("ivr", "asterisk"):
        assert SERVICES[service]["environment"]["IVR_AMI_SECRET"].startswith("${IVR_AMI_SECRET:?")


def test_redis_is_durable_and_internal() -> None:
    """Redis appends every write, syncs each second, keeps a named volume, publishes nothing."""
    command = DEPLOYED["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] == "everysec"
    assert DEPLOYED["redis"]["image"].startswith("redis:7")
    assert mounts("redis")["/data"] in COMPOSE["volumes"]
    assert "ports" not in DEPLOYED["redis"]
    assert networks_of("redis") == ["internal"]


def test_referenced_files_exist() -> None:
    """Every build context, Dockerfile, mounted file and COPY source is in the repository."""
    dockerfiles: list[tuple[Path, Path]] = []
    for name, service in DEPLOYED.items():
        if "build" in service:
            context = (DOCKER / service["build"]["context"]).resolve()
            dockerfile = context / service["build"].get("dockerfile", "Dockerfile")
            assert dockerfile.is_file(), name
            dockerfiles.append((context, dockerfile))
        for target, source in mounts(name).items():
            if source.startswith("."):
                assert (DOCKER / source).exists(), f"{name}: {source} for {target}"
    assert {path.relative_to(ROOT).as_posix() for _, path in dockerfiles} == {
        "docker/Dockerfile",
        "docker/asterisk/Dockerfile",
    }
    for context, dockerfile in dockerfiles:
        for rest in instruction(dockerfile, "COPY"):
            *sources, _target = shlex.split(rest)
            for source in sources:
                assert (context / source).exists(), f"{dockerfile}: COPY {source}"
                if context == ROOT:
                    assert not dockerignored(source), f".dockerignore drops {source}"


def test_ports_equal_the_service_defaults() -> None:
    """FastAGI, the dashboard and AMI use the service's default ports everywhere they appear."""
    (exposed,) = instruction(DOCKER / "Dockerfile", "EXPOSE")
    assert {int(port) for port in exposed.split()} == {DEFAULTS.agi_port, WEB_PORT}
    assert {int(port) for port in DEPLOYED["ivr"]["expose"]} == {DEFAULTS.agi_port, WEB_PORT}
    env = environment("ivr")
    assert int(env["IVR_AGI_PORT"]) == DEFAULTS.agi_port
    assert int(env["IVR_AMI_PORT"]) == DEFAULTS.ami_port
    manager = asterisk_config("manager.conf").section("general")
    assert int(manager.value("port")) == DEFAULTS.ami_port
    globals_ = asterisk_config("extensions.conf").section("globals")
    assert globals_.value("IVR_AGI_URL") == f"agi://ivr:{DEFAULTS.agi_port}"
    # Only SIP and RTP leave the host, and the dashboard on the host's loopback:
    # no FastAGI, AMI or Redis port is published.
    for name, service in DEPLOYED.items():
        for spec in service.get("ports", []):
            published = spec.split(":")[-1].split("/")[0]
            assert published not in {str(DEFAULTS.agi_port), str(DEFAULTS.ami_port), "6379"}
            assert name in {"asterisk", "dashboard"}, f"{name} publishes {spec}"
    (dashboard,) = DEPLOYED["dashboard"]["ports"]
    assert dashboard.startswith("127.0.0.1:")
    assert dashboard.endswith(f":{WEB_PORT}")
    assert int(environment("dashboard")["IVR_WEB_PORT"]) == WEB_PORT


def test_sip_and_rtp_ports_match_the_asterisk_config() -> None:
    """The published SIP port is pjsip's; the RTP range is rtp.conf's on host and container."""
    ports = DEPLOYED["asterisk"]["ports"]
    (rtp_spec,) = [spec for spec in ports if "-" in spec.split(":")[-1]]
    (sip_spec,) = [spec for spec in ports if spec != rtp_spec]
    transport = asterisk_config("pjsip.conf").section("transport-udp", "transport")
    assert sip_spec.endswith(":" + transport.value("bind").rpartition(":")[2] + "/udp")
    rtp_conf = asterisk_config("rtp.conf").section("general")
    expected = f"{rtp_conf.value('rtpstart')}-{rtp_conf.value('rtpend')}"
    assert rtp_spec == f"{expected}:{expected}/udp"


def test_every_ivr_variable_is_a_setting_and_parses() -> None:
    """Each IVR_* name in compose.yaml is a setting; each environment of the image parses."""
    known = settings_names()
    named = set(re.findall(r"\bIVR_[A-Z0-9_]+\b", COMPOSE_TEXT))
    assert named - known == set()
    baked = image_env(DOCKER / "Dockerfile")
    assert {name for name in baked if name.startswith("IVR_")} <= known
    users = [name for name, service in DEPLOYED.items() if service.get("image") == IVR_IMAGE]
    assert set(users) == {"prompts", "ivr", "dashboard"}
    for name in users:
        # As the container sees it: the image's ENV, then the service's environment.
        load_settings({**baked, **environment(name)})
    settings = load_settings({**baked, **environment("ivr")})
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.agi_host == "0.0.0.0"  # noqa: S104
    assert settings.timezone.key == "America/Chicago"
    assert settings.ami_host == "asterisk"
    assert settings.ami_secret == DEPLOY_ENV["IVR_AMI_SECRET"]
    assert settings.recording_dir in mounts("asterisk")


def test_agi_allow_list_covers_the_asterisk_network() -> None:
    """The service listens only on networks Asterisk shares, whose subnets IVR_AGI_ALLOW covers."""
    allow = load_settings(environment("ivr")).agi_allow
    shared = set(networks_of("ivr")) & set(networks_of("asterisk"))
    assert shared == set(networks_of("ivr")) == {"internal"}
    for network in shared:
        addresses = subnet(network)
        assert any(
            addresses.network_address in net and addresses.broadcast_address in net for net in allow
        )
        assert COMPOSE["networks"][network]["internal"] is True
    assert environment("ivr")["IVR_AMI_HOST"] in DEPLOYED


def test_dockerfile_runs_non_root_with_a_healthcheck() -> None:
    """The image: python:3.11-slim, espeak-ng, sox, a non-root USER, a HEALTHCHECK, ivr serve."""
    dockerfile = DOCKER / "Dockerfile"
    assert instruction(dockerfile, "FROM") == ["python:3.11-slim"]
    (install,) = [run for run in instruction(dockerfile, "RUN") if "apt-get install" in run]
    assert {"espeak-ng", "sox"} <= set(install.split())
    assert any("pip install" in run and " ." in run for run in instruction(dockerfile, "RUN"))
    (user,) = instruction(dockerfile, "USER")
    assert user.split(":")[0] not in {"root", "0"}
    assert len(instruction(dockerfile, "HEALTHCHECK")) == 1
    assert json.loads(instruction(dockerfile, "CMD")[0]) == ["ivr", "serve"]
    # Set by compose with its allow-list; baked in, it would stop every other command.
    assert "IVR_AGI_HOST" not in image_env(dockerfile)


def test_healthcheck_passes_only_when_the_agi_port_accepts() -> None:
    """The HEALTHCHECK one-liner exits 0 against a listening port, non-zero on a free one."""
    (healthcheck,) = instruction(DOCKER / "Dockerfile", "HEALTHCHECK")
    argv = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert argv[:2] == ["python", "-c"]
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        env = {**os.environ, "IVR_AGI_PORT": str(port)}
        env.pop("IVR_AGI_HOST", None)
        result = subprocess.run(
            [sys.executable, "-c", argv[2]], env=env, capture_output=True, timeout=20, check=False
        )
        assert result.returncode == 0, result.stderr
    env["IVR_AGI_PORT"] = str(free_port())
    result = subprocess.run(
        [sys.executable, "-c", argv[2]], env=env, capture_output=True, timeout=20, check=False
    )
    assert result.returncode != 0


def test_dockerignore_leaves_out_local_state() -> None:
    """.venv, .git, caches and built prompts stay out of the build context; the sources go in."""
    for path in (
        ".venv/bin/python", ".git/HEAD", "ivr/__pycache__/app.cpython-311.pyc",
        ".mypy_cache/3.11/x.json", ".ruff_cache/x", ".pytest_cache/v", ".hypothesis/examples",
        "prompts/build/en/ivr/welcome.wav", ".env",
    ):  # fmt: skip
        assert dockerignored(path), path
    for path in ("pyproject.toml", "README.md", "ivr/app.py", "prompts/catalogue.toml"):
        assert not dockerignored(path), path


def test_prompts_are_built_where_asterisk_and_ivr_check_look() -> None:
    """The one-shot build writes the volume Asterisk plays from and `ivr check` reads."""
    command = DEPLOYED["prompts"]["command"]
    assert command[:3] == ["ivr", "prompts", "build"]
    out = command[command.index("--out") + 1]
    volume = mounts("prompts")[out]
    assert volume in COMPOSE["volumes"]
    assert mounts("asterisk")[f"/var/lib/asterisk/sounds/en/{DEFAULTS.sounds_prefix}"] == volume
    (workdir,) = instruction(DOCKER / "Dockerfile", "WORKDIR")
    check_default = Path(workdir) / default_out_dir().relative_to(ROOT)
    assert mounts("ivr")[check_default.as_posix()] == volume
    for service in ("ivr", "asterisk"):
        prompts_mount = next(
            spec for spec in DEPLOYED[service]["volumes"] if spec.startswith(volume)
        )
        assert prompts_mount.endswith(":ro"), service
    assert DEPLOYED["ivr"]["depends_on"]["prompts"]["condition"] == "service_completed_successfully"


def test_queue_names_equal_the_service_defaults() -> None:
    """queues.conf defines exactly the service's queues, without options Asterisk 22 dropped."""
    config = asterisk_config("queues.conf")
    defined = {s.name for s in config.sections if s.name != "general" and s.options != "!"}
    assert defined == set(dataclasses.astuple(Queues()))
    keys = {key for section in config.sections for key, _ in section.entries}
    assert not keys & {"eventwhencalled", "eventmemberstatus"}
    template = config.section("support-template")
    assert template.value("strategy") in {"ringall", "leastrecent", "fewestcalls", "random",
                                          "rrmemory", "rrordered", "linear", "wrandom"}  # fmt: skip
    assert int(template.value("timeout")) > 0


def test_extensions_include_the_dialplan_and_route_the_number() -> None:
    """extensions.conf includes the mounted dialplan and sends the DIDs to ivr-support-line."""
    config = asterisk_config("extensions.conf")
    (include,) = [
        d.split(None, 1)[1].strip('"') for d in config.directives if d.startswith("#include")
    ]
    mount_point = next(t for t, s in mounts("asterisk").items() if s == "../dialplan")
    folder = mount_point.removeprefix("/etc/asterisk/")
    assert include.startswith(folder + "/")
    assert (ROOT / "dialplan" / include.removeprefix(folder + "/")).is_file()
    assert config.section("globals").value("IVR_QUEUE_GENERAL") == Queues().general
    trunk = asterisk_config("pjsip.conf").section("trunk", "endpoint")
    inbound = config.section(trunk.value("context"))
    routed = {
        extension.split(",")[0]
        for extension in inbound.values("exten")
        if "Goto(ivr-support-line," in extension
    }
    assert routed == set(NUMBERS)


def test_extensions_conf_lints_clean(tmp_path: Path) -> None:
    """extensions.conf, with the dialplan where compose mounts it, is asterisklint-clean."""
    (tmp_path / "ivr-dialplan").mkdir()
    shutil.copy(ROOT / "dialplan/support-line.conf", tmp_path / "ivr-dialplan")
    shutil.copy(ASTERISK / "extensions.conf", tmp_path / "extensions.conf")
    result = run_lint("dialplan-check", tmp_path / "extensions.conf")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_manager_conf_is_least_privilege() -> None:
    """The AMI user: only from the internal subnet, reads queue and call events, only originates."""
    config = asterisk_config("manager.conf")
    general = config.section("general")
    assert general.value("enabled") == "yes"
    assert general.value("webenabled") == "no"
    user = config.section("ivr")
    net = subnet("internal")
    for inside in (net[10], net[20], net[-2]):
        assert acl_allows(user, str(inside)), inside
    # Outside: the Docker host's address on the network, other networks, any IPv6 peer.
    for address in (net[1], "10.0.0.5", "8.8.8.8", "172.17.0.2", "::1", "2001:db8::5"):
        assert not acl_allows(user, str(address)), address
    read = set(user.value("read").split(","))
    write = set(user.value("write").split(","))
    assert read <= {"agent", "call"}
    assert write == {"originate"}
    assert not (read | write) & {"all", "system", "command", "config", "dialplan", "reporting"}
    assert user.values("secret") == []
    assert "#tryinclude manager_secret.conf" in config.directives
    assert "5038" not in " ".join(DEPLOYED["asterisk"].get("ports", []))


def test_asterisk_entrypoint_writes_the_secret_and_refuses_unsafe_ones(tmp_path: Path) -> None:
    """The entrypoint writes manager_secret.conf (mode 600); a ';' in the secret stops it."""
    entrypoint = DEPLOYED["asterisk"]["entrypoint"]
    assert entrypoint[:2] == ["/bin/sh", "-c"]
    script = entrypoint[2]
    assert "/etc/asterisk/manager_secret.conf" in script
    assert 'exec /usr/local/bin/entrypoint.sh "$@"' in script  # the image's own entrypoint
    # Run it here: its files in tmp_path, without chown, and echo instead of Asterisk.
    local = (
        script.replace("/etc/asterisk/", f"{tmp_path}/")
        .replace("chown asterisk:asterisk", "true")
        .replace("exec /usr/local/bin/entrypoint.sh", "exec echo")
    )
    secret_file = tmp_path / "manager_secret.conf"

    def run(secret: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": os.environ["PATH"], "IVR_AMI_SECRET": secret}
        return subprocess.run(
            ["/bin/sh", "-c", local, "entrypoint", *DEPLOYED["asterisk"]["command"]],
            env=env, capture_output=True, text=True, timeout=20, check=False,
        )  # fmt: skip

    result = run("abc;def")
    assert result.returncode != 0
    assert "IVR_AMI_SECRET" in result.stderr
    assert not secret_file.exists()
    result = run(DEPLOY_ENV["IVR_AMI_SECRET"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == DEPLOYED["asterisk"]["command"]
    assert secret_file.read_text() == f"[ivr](+)\nsecret = {DEPLOY_ENV['IVR_AMI_SECRET']}\n"
    assert secret_file.stat().st_mode & 0o077 == 0


def test_asterisk_image_adds_sounds_and_a_writable_recording_folder() -> None:
    """The Asterisk image adds core sounds and music on hold, and owns the recording folder."""
    dockerfile = ASTERISK / "Dockerfile"
    (base,) = instruction(dockerfile, "FROM")
    assert base == "${ASTERISK_IMAGE}"
    assert any("andrius/asterisk:22" in arg for arg in instruction(dockerfile, "ARG"))
    args = " ".join(instruction(dockerfile, "ARG"))
    assert "asterisk-core-sounds-en-" in args
    assert "asterisk-moh-" in args
    (run,) = instruction(dockerfile, "RUN")
    assert "sha1sum -c" in run
    assert f"-o asterisk -g asterisk -m 0750 {DEFAULTS.recording_dir}" in run
    assert mounts("asterisk")[DEFAULTS.recording_dir] in COMPOSE["volumes"]
    modules = asterisk_config("modules.conf").section("modules")
    assert {"chan_pjsip.so", "res_agi.so", "app_queue.so"} <= set(modules.values("require"))
    assert "pbx_ael.so" in modules.values("noload")
