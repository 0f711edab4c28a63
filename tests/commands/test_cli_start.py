"""The command line starts at shell speed: ``ivr --help`` loads nothing of the
application, and a quick command never the web app, AMI or the FastAGI server.

Each check runs in a fresh interpreter, as a user's shell would start it, and
reads what it imported from ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# What only ``ivr serve``/``ivr web`` (and ``ivr check``'s AMI probe) need.
SERVICE_ONLY = ("aiohttp", "ivr.web", "ivr.ami", "ivr.app", "panoramisk")
# What ``ivr --help`` needs none of: no Redis client, no settings, no store.
APPLICATION = (*SERVICE_ONLY, "redis", "argon2", "holidays", "ivr.config", "ivr.store")

SCRIPT = """
import json, sys
from ivr.cli import main
try:
    status = main(json.loads(sys.argv[1]))
except SystemExit as exc:
    status = exc.code
print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""


def imported(argv: list[str] | None, env: dict[str, str] | None = None) -> list[str]:
    """The modules a fresh interpreter holds after ``import ivr.cli`` (and ``main(argv)``)."""
    code = "import json, sys, ivr.cli; print(json.dumps({'modules': sorted(sys.modules)}))"
    words = ["-c", code] if argv is None else ["-c", SCRIPT, json.dumps(argv)]
    out = subprocess.run(
        [sys.executable, *words], capture_output=True, text=True, timeout=60, env=env, check=True
    )
    result = json.loads(out.stdout.splitlines()[-1])
    if argv is not None:
        assert result["status"] == 0, out.stderr
    modules: list[str] = result["modules"]
    return modules


def loaded(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    """Those of ``modules`` that are ``packages`` or inside them."""
    return [m for m in modules if m.startswith(tuple(f"{p}." for p in packages)) or m in packages]


def test_importing_the_cli_loads_no_web_stack() -> None:
    """``import ivr.cli`` pulls in neither aiohttp nor anything of the application."""
    assert loaded(imported(None), APPLICATION) == []


def test_help_loads_nothing_of_the_application() -> None:
    """``ivr --help`` lists every command without importing Redis, settings or stores."""
    assert loaded(imported(["--help"]), APPLICATION) == []


@pytest.mark.usefixtures("redis")
def test_route_loads_no_web_app_ami_or_fastagi_server(redis_url: str) -> None:
    """``ivr route`` answers from Redis without loading aiohttp, the web app or AMI."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    env["IVR_REDIS_URL"] = redis_url
    argv = ["route", "--tier", "premium", "--at", "2026-11-25T10:00:00-06:00"]
    assert loaded(imported(argv, env), SERVICE_ONLY) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--data-dir", "/srv/ivr"],
        ["--data-dir", "/srv/ivr", "serve"],
        ["serve", "--demo", "--data-dir=/srv/ivr"],
    ],
)
def test_global_options_before_or_after_the_command(argv: list[str]) -> None:
    """``ivr serve --data-dir X`` (as the README writes it) and ``ivr --data-dir X serve``."""
    from ivr.cli import parse  # noqa: PLC0415

    assert str(parse(argv).data_dir) == "/srv/ivr"
    assert parse(["serve"]).data_dir is None
