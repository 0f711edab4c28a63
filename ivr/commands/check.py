"""``ivr check``: is this deployment ready to answer the support line?

Each check gives one finding in plain words and, when something is wrong, what
to do about it. The checks only look: nothing is started, written or changed.
In particular the service's own Redis (no ``IVR_REDIS_URL``) is only pinged on
its socket, never started, so a check leaves no redis-server behind and does not
take the data directory's lock from a running ``ivr serve``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TextIO

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ivr.agi.server import CHECK_ROUTE
from ivr.ami.client import AmiLoginRefused, probe
from ivr.ami.wire import AmiProtocolError, NotAmiError
from ivr.audio.catalogue import FORMATS, default_out_dir
from ivr.commands.common import shown_url
from ivr.config import Settings
from ivr.flows.prompts import Prompt
from ivr.runtime.redis_server import socket_path, socket_url
from ivr.services import ami_settings, redis_client
from ivr.store import keys

# Every network step of a check gives up after this long: a check must answer
# even when a host silently drops packets.
TIMEOUT_S = 3.0
DIALPLAN_FILE = "support-line.conf"
SUPPORT_LINE_CONTEXT = "[ivr-support-line]"
# The AGI() call that hands a caller to the service's support-line route.
_SUPPORT_LINE_AGI = re.compile(r"AGI\([^)\n]*/support-line\)")
# The route the FastAGI probe asks for: the IVR service hangs up on it at once
# without a word (and logs nothing), which is how the check recognises it.
PROBE_ROUTE = CHECK_ROUTE


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's result: whether it passed, what was found, and what to do.

    A ``skipped`` check (a part not configured) is no failure, but no pass either.
    """

    ok: bool
    what: str
    advice: str = ""
    skipped: bool = False


def default_dialplan_dir() -> Path:
    """The project's ``dialplan/`` folder, beside the package."""
    return Path(__file__).resolve().parents[2] / "dialplan"


async def check_deployment(
    settings: Settings, *, dialplan_dir: Path | None = None, sounds_dir: Path | None = None
) -> list[Finding]:
    """Every check, in the order an operator would fix them.

    ``dialplan_dir`` holds ``support-line.conf`` (default: the project's
    ``dialplan/``); ``sounds_dir`` holds the built prompts (default:
    ``prompts/build/en/ivr``; on the Asterisk host, ``sounds/en/ivr``).
    """
    findings = await _redis_and_data(settings)
    findings.append(await asyncio.to_thread(_prompts, sounds_dir or default_out_dir()))
    findings.append(await asyncio.to_thread(_dialplan, dialplan_dir or default_dialplan_dir()))
    findings.append(await _fastagi(settings))
    findings.append(await _ami(settings))
    return findings


def print_findings(findings: Sequence[Finding], out: TextIO | None = None) -> int:
    """Print one line per finding, with its advice; return 0 if all passed, else 1."""
    stream = sys.stdout if out is None else out
    good, bad, skip, arrow = _marks(stream)
    for finding in findings:
        mark = skip if finding.skipped else good if finding.ok else bad
        stream.write(f"{mark} {finding.what}\n")
        if finding.advice:
            stream.write(f"  {arrow} {finding.advice}\n")
    failed = sum(1 for finding in findings if not finding.ok)
    if failed == 0:
        stream.write("Ready to answer the support line.\n")
        return 0
    stream.write(f"{failed} {'thing' if failed == 1 else 'things'} to fix.\n")
    return 1


def _marks(stream: TextIO) -> tuple[str, str, str, str]:
    # A terminal or log that cannot show the ticks still gets plain words.
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        "✔✘○→".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return "ok  ", "FAIL", "skip", "->"
    return "✔", "✘", "○", "→"


# --- Redis and data -------------------------------------------------------------


async def _redis_and_data(settings: Settings) -> list[Finding]:
    if settings.redis_url:
        url = settings.redis_url
        where = f"Redis at {shown_url(url)}"
        advice = "check IVR_REDIS_URL and that Redis runs there"
    else:
        url = socket_url(settings.data_dir)
        where = f"the service's own Redis ({socket_path(settings.data_dir)})"
        advice = (
            "start the service (ivr serve starts its Redis), or set IVR_REDIS_URL "
            "to the Redis it uses"
        )
    client = redis_client(url)
    try:
        try:
            async with asyncio.timeout(TIMEOUT_S):
                await client.ping()
        except (RedisError, OSError, TimeoutError) as exc:
            return [Finding(False, f"{where} cannot be reached: {_reason(exc)}", advice)]
        return [Finding(True, f"{where} answers"), await _data(client)]
    finally:
        await client.aclose()


def _demo_accounts() -> list[str]:
    text = resources.files("ivr.demo").joinpath("resellers.csv").read_text("utf-8")
    return [row["account"] for row in csv.DictReader(text.splitlines())]


async def _data(client: Redis) -> Finding:
    demo = _demo_accounts()
    try:
        async with asyncio.timeout(TIMEOUT_S):
            async with client.pipeline(transaction=False) as pipe:
                pipe.scard(keys.RESELLERS)
                pipe.scard(keys.SYSTEMS)
                pipe.smismember(keys.RESELLERS, demo)
                resellers, systems, demo_present = await pipe.execute()
    except (RedisError, OSError, TimeoutError) as exc:
        return Finding(
            False,
            f"cannot count the resellers and systems: {_reason(exc)}",
            "see Redis's log, then run the check again",
        )
    counted = f"{resellers} resellers and {systems} systems loaded"
    if not resellers or not systems:
        return Finding(
            False,
            counted,
            "load them: ivr import resellers FILE and ivr import systems FILE "
            "(or ivr demo, to try the line with the demo data)",
        )
    if all(demo_present):
        # Still ready (a demo is a deployment too), but the demo PINs are public.
        return Finding(
            True,
            f"{counted}, including the demo resellers {', '.join(demo)}",
            "their PINs are printed in the README: put real data in a Redis "
            "without them before the line goes live",
        )
    return Finding(True, counted)


# --- Prompts and dialplan ---------------------------------------------------------


def _is_sound(path: Path) -> bool:
    # An empty file (an interrupted copy) plays nothing, like a missing one.
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return False


def _prompts(sounds_dir: Path) -> Finding:
    build = f"build them: ivr prompts build --out {sounds_dir}"
    if not sounds_dir.is_dir():
        return Finding(False, f"no prompts: {sounds_dir} does not exist", build)
    # Asterisk plays whichever format of a prompt it finds, so one is enough.
    missing = [
        prompt.value
        for prompt in Prompt
        if not any(_is_sound(sounds_dir / f"{prompt.value}.{ext}") for ext in FORMATS)
    ]
    if missing:
        shown = ", ".join(missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        return Finding(
            False,
            f"{len(missing)} of {len(Prompt)} prompts missing in {sounds_dir}: {shown}{more}",
            f"{build} (Asterisk answers a missing prompt with silence)",
        )
    return Finding(True, f"all {len(Prompt)} prompts built in {sounds_dir}")


def _dialplan(dialplan_dir: Path) -> Finding:
    path = dialplan_dir / DIALPLAN_FILE
    shipped = default_dialplan_dir() / DIALPLAN_FILE
    try:
        raw = path.read_bytes()
    except OSError:
        return Finding(
            False,
            f"no dialplan at {path}",
            f"copy the project's {shipped} there and #include it from extensions.conf",
        )
    # Asterisk comments start with ";": a commented-out AGI() line routes nobody.
    code = "\n".join(
        line.split(";", 1)[0] for line in raw.decode("utf-8", errors="replace").splitlines()
    )
    if SUPPORT_LINE_CONTEXT not in code or not _SUPPORT_LINE_AGI.search(code):
        return Finding(
            False,
            f"{path} does not send callers to the service's support-line route",
            f"replace it with the project's {shipped}",
        )
    with contextlib.suppress(OSError):
        if path.resolve() != shipped.resolve() and shipped.read_bytes() != raw:
            return Finding(
                True,
                f"dialplan {path} sends callers to the support-line route",
                f"it differs from the project's {shipped}: copy that one over it "
                "after an upgrade (settings belong in [globals], not in this file)",
            )
    return Finding(True, f"dialplan {path} sends callers to the support-line route")


# --- FastAGI ----------------------------------------------------------------------


def _probe_host(agi_host: str) -> str:
    # A wildcard listener is reached through loopback, which it always allows.
    return "127.0.0.1" if agi_host in {"0.0.0.0", "::", ""} else agi_host  # noqa: S104


async def _fastagi(settings: Settings) -> Finding:
    host = _probe_host(settings.agi_host)
    where = f"{host}:{settings.agi_port}"
    try:
        async with asyncio.timeout(TIMEOUT_S):
            reader, writer = await asyncio.open_connection(host, settings.agi_port)
    except (OSError, TimeoutError):
        return Finding(
            False,
            f"no FastAGI service at {where}: nothing listens there",
            "start the service: ivr serve (until then Asterisk sends every caller "
            "to the general queue)",
        )
    # Ask for a route that does not exist, as Asterisk would: the IVR service
    # hangs up without a word; anything else speaks first or keeps waiting.
    probe = (
        "agi_network: yes\n"
        f"agi_network_script: {PROBE_ROUTE}\n"
        f"agi_request: agi://{host}:{settings.agi_port}/{PROBE_ROUTE}\n"
        f"agi_uniqueid: {PROBE_ROUTE}\n"
        "\n"
    )
    reply: bytes | None
    try:
        async with asyncio.timeout(TIMEOUT_S):
            writer.write(probe.encode())
            await writer.drain()
            reply = await reader.read(200)
    except TimeoutError:
        reply = None
    except OSError:
        reply = b""  # reset by the peer: a hang-up too
    finally:
        writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(TIMEOUT_S):
                await writer.wait_closed()
    if reply == b"":
        return Finding(True, f"the IVR service answers FastAGI at {where}")
    said = f"answered {reply[:40]!r}" if reply else f"said nothing for {TIMEOUT_S:g} s"
    return Finding(
        False,
        f"another program holds the FastAGI port {where} (it {said}; the IVR service "
        "hangs up on an unknown route)",
        "stop that program, or give the service a free port with IVR_AGI_PORT and "
        "the same port in IVR_AGI_URL of Asterisk's [globals]",
    )


# --- AMI --------------------------------------------------------------------------


async def _ami(settings: Settings) -> Finding:
    if not settings.ami_host:
        return Finding(
            True,
            "AMI not checked: not configured (IVR_AMI_HOST is not set), so unaccepted "
            "on-call tickets are not paged again",
            "set IVR_AMI_HOST, IVR_AMI_USERNAME and IVR_AMI_SECRET to have them re-paged",
            skipped=True,
        )
    where = f"{settings.ami_host}:{settings.ami_port}"
    user = settings.ami_username
    # A line break would end the AMI header and let the secret add headers.
    if any(char in settings.ami_secret for char in "\r\n"):
        return Finding(False, "IVR_AMI_SECRET contains a line break", "set it without one")
    try:
        found = await probe(ami_settings(settings), TIMEOUT_S)
    except NotAmiError as exc:
        return Finding(
            False,
            f"{where} is not an Asterisk Manager Interface (it said {exc.said[:40]!r})",
            "check IVR_AMI_HOST and IVR_AMI_PORT",
        )
    except AmiLoginRefused:
        return Finding(
            False,
            f"AMI at {where} refused the login of {user!r}",
            "check IVR_AMI_USERNAME and IVR_AMI_SECRET against manager.conf, "
            "and that the user's permit= covers this host",
        )
    except (OSError, TimeoutError, AmiProtocolError) as exc:
        return Finding(
            False,
            f"AMI at {where} cannot be reached: {_reason(exc)}",
            "check IVR_AMI_HOST and IVR_AMI_PORT, and that manager.conf has enabled=yes",
        )
    # ListCommands lists only the actions this user may run.
    if "Originate" not in found.actions:
        return Finding(
            False,
            f"AMI user {user!r} at {where} may not originate calls, so unaccepted "
            "on-call tickets are not paged again",
            "give the user write=originate in manager.conf",
        )
    return Finding(True, f"AMI login to {where} as {user!r} works and may originate calls")


def _reason(exc: BaseException) -> str:
    """An exception in a few plain words (a bare timeout has no message)."""
    if isinstance(exc, TimeoutError):
        return f"no answer within {TIMEOUT_S:g} s"
    text = str(exc).strip()
    return text or type(exc).__name__


async def run(args: argparse.Namespace, settings: Settings, _stdin: TextIO) -> int:
    """``ivr check``: every finding on stdout; 0 when ready, 1 otherwise."""
    if args.agi_host is not None:
        settings = settings.with_overrides(agi_host=args.agi_host)
    if args.agi_port is not None:
        settings = settings.with_overrides(agi_port=args.agi_port)
    findings = await check_deployment(
        settings,
        dialplan_dir=args.dialplan_dir or default_dialplan_dir(),
        sounds_dir=args.sounds_dir or default_out_dir(),
    )
    return print_findings(findings, sys.stdout)
