"""``ivr check``: is this deployment ready to answer the support line?

Each check gives one finding in plain words, with what to do when it fails.
Nothing is started or changed: the managed Redis is only looked at.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ivr.app import redis_client
from ivr.config import Settings
from ivr.prompts import Prompt
from ivr.redis_server import socket_url
from ivr.store import keys

SOUND_FORMATS = ("wav", "sln", "ulaw")
TIMEOUT = 3.0


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's result."""

    ok: bool
    what: str
    advice: str = ""


async def check_deployment(
    settings: Settings, *, dialplan_dir: Path, sounds_dir: Path
) -> list[Finding]:
    """Every check, in the order an operator would fix them."""
    findings = [await _redis(settings)]
    if findings[0].ok:
        findings.append(await _data(settings))
    findings.append(_prompts(sounds_dir))
    findings.append(_dialplan(dialplan_dir))
    findings.append(await _fastagi(settings))
    findings.append(await _ami(settings))
    return findings


def _url(settings: Settings) -> str:
    return settings.redis_url or socket_url(settings.data_dir)


async def _redis(settings: Settings) -> Finding:
    where = "IVR_REDIS_URL" if settings.redis_url else f"managed Redis in {settings.data_dir}"
    client = redis_client(_url(settings))
    try:
        async with asyncio.timeout(TIMEOUT):
            await client.ping()
    except (RedisError, OSError, TimeoutError) as exc:
        advice = (
            "check the address and that Redis runs"
            if settings.redis_url
            else "start the service (ivr serve) or set IVR_REDIS_URL"
        )
        return Finding(False, f"Redis ({where}) does not answer: {exc or 'timeout'}", advice)
    finally:
        await client.aclose()
    return Finding(True, f"Redis ({where}) answers")


async def _data(settings: Settings) -> Finding:
    client: Redis = redis_client(_url(settings))
    try:
        async with client.pipeline(transaction=False) as pipe:
            pipe.scard(keys.RESELLERS)
            pipe.scard(keys.SYSTEMS)
            resellers, systems = await pipe.execute()
    finally:
        await client.aclose()
    if not resellers or not systems:
        return Finding(
            False,
            f"{resellers} resellers and {systems} systems loaded",
            "load them: ivr import resellers FILE, ivr import systems FILE (or ivr demo)",
        )
    return Finding(True, f"{resellers} resellers and {systems} systems loaded")


def _prompts(sounds_dir: Path) -> Finding:
    missing = [
        f"{p.value}.{ext}"
        for p in Prompt
        for ext in SOUND_FORMATS
        if not (sounds_dir / f"{p.value}.{ext}").is_file()
    ]
    if missing:
        shown = ", ".join(missing[:4]) + (
            f" and {len(missing) - 4} more" if len(missing) > 4 else ""
        )
        return Finding(
            False,
            f"prompts missing in {sounds_dir}: {shown}",
            f"build them: ivr prompts build --out {sounds_dir}",
        )
    return Finding(True, f"all {len(Prompt)} prompts built in {sounds_dir}")


def _dialplan(dialplan_dir: Path) -> Finding:
    path = dialplan_dir / "support-line.conf"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return Finding(
            False,
            f"no dialplan at {path}",
            "copy dialplan/support-line.conf there and #include it from extensions.conf",
        )
    if "/support-line)" not in text or "[ivr-support-line]" not in text:
        return Finding(
            False, f"{path} does not run the support-line route", "use the project's file"
        )
    return Finding(True, f"dialplan {path} runs the support-line route")


async def _fastagi(settings: Settings) -> Finding:
    host = "127.0.0.1" if settings.agi_host in {"0.0.0.0", "::"} else settings.agi_host  # noqa: S104
    try:
        async with asyncio.timeout(TIMEOUT):
            _, writer = await asyncio.open_connection(host, settings.agi_port)
    except (OSError, TimeoutError):
        return Finding(
            False,
            f"nothing answers FastAGI at {host}:{settings.agi_port}",
            "start the service: ivr serve",
        )
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return Finding(True, f"FastAGI answers at {host}:{settings.agi_port}")


async def _ami(settings: Settings) -> Finding:
    if not settings.ami_host:
        return Finding(True, "AMI not configured: unaccepted on-call tickets are not re-paged")
    where = f"{settings.ami_host}:{settings.ami_port}"
    try:
        async with asyncio.timeout(TIMEOUT):
            reader, writer = await asyncio.open_connection(settings.ami_host, settings.ami_port)
            try:
                await reader.readline()  # the banner
                writer.write(
                    (
                        f"Action: Login\r\nActionID: ivr-check\r\nUsername: {settings.ami_username}"
                        f"\r\nSecret: {settings.ami_secret}\r\nEvents: off\r\n\r\n"
                    ).encode()
                )
                reply = (await reader.readuntil(b"\r\n\r\n")).decode(errors="replace")
            finally:
                writer.close()
    except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
        return Finding(
            False, f"AMI at {where} does not answer: {exc or 'timeout'}", "check IVR_AMI_HOST"
        )
    if "Response: Success" not in reply:
        return Finding(
            False,
            f"AMI at {where} refused the login of {settings.ami_username!r}",
            "check IVR_AMI_USERNAME and IVR_AMI_SECRET against manager.conf",
        )
    return Finding(True, f"AMI login to {where} works")


def print_findings(findings: list[Finding], out: TextIO) -> int:
    """Print one line per finding (and advice for failures); 0 when all passed."""
    for finding in findings:
        mark = "ok  " if finding.ok else "FAIL"
        out.write(f"{mark}  {finding.what}\n")
        if not finding.ok and finding.advice:
            out.write(f"      -> {finding.advice}\n")
    failed = sum(1 for f in findings if not f.ok)
    out.write("ready\n" if not failed else f"{failed} problem(s) to fix\n")
    return 0 if not failed else 1
