"""A private, real Asterisk 22 for the tests: found, configured, booted and stopped.

Where it comes from, in this order:

1. ``IVR_TEST_ASTERISK``: the path of an ``asterisk`` binary of the operator's own
   install (its modules are looked for beside it, or in ``IVR_TEST_ASTERISK_MODULES``);
2. the shared bundle: Asterisk 22.10.1 built for this machine kind, as a tarball in
   ``../shared/asterisk/dist/`` beside the repository, unpacked per test session.

With neither, ``find_asterisk`` says so in one line and the tests are skipped.

Every directory of the instance is under one temporary directory (its own
``asterisk.conf``), AMI listens on a free loopback port, the project's dialplan
files are included unchanged, the prompts are those ``ivr prompts build`` makes,
and Asterisk's own sounds are Debian's ``asterisk-core-sounds-en-wav`` (installed
by ``make test``). Callers, engineers and queue agents are Local channels:
``[ivr-test-caller]`` is the caller's phone (``[ivr-test-keys]`` its own keypad),
``[ivr-test-engineers]`` picks up at once and ``[ivr-test-absent]`` never does,
``[ivr-test-agents]`` rings and never answers, so a caller waits in its queue for
as long as a test needs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.harness import free_port

ROOT = Path(__file__).resolve().parents[2]
BUNDLE_DIR = ROOT.parent / "shared" / "asterisk" / "dist"
# Debian's asterisk-core-sounds-en-wav (digits, dates, beep), as Asterisk's sounds/en.
CORE_SOUNDS = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
HOW_TO_ENABLE = (
    "no Asterisk for the real-Asterisk tests: set IVR_TEST_ASTERISK=/path/to/asterisk "
    "(e.g. IVR_TEST_ASTERISK=/usr/sbin/asterisk make test), or provide the bundle "
    "in ../shared/asterisk/dist"
)
AMI_USER = "ivr-test"
AMI_SECRET = "s3cret-for-tests"
# The service's own AMI user has exactly the classes of the deployment's manager.conf.
SERVICE_AMI_USER = "ivr"
SERVICE_AMI_SECRET = "service-s3cret-for-tests"
# Only what the support line uses: boots in about a second, logs little.
MODULES = (
    "res_speech.so", "res_agi.so", "app_queue.so", "app_dial.so", "app_stack.so",
    "app_playback.so", "app_verbose.so", "pbx_config.so", "func_global.so",
    "func_strings.so", "func_logic.so", "func_channel.so", "func_callerid.so",
    "format_wav.so", "format_sln.so", "format_pcm.so", "codec_ulaw.so", "codec_alaw.so",
    "codec_resample.so", "res_musiconhold.so", "bridge_simple.so", "bridge_holding.so",
    "bridge_builtin_features.so", "res_timing_timerfd.so",
    "app_senddtmf.so",  # the AMI action PlayDTMF that the tests' callers press keys with
)  # fmt: skip
QUEUES = (
    "support-standard", "support-premium", "support-premium-plus", "support-renewals",
    "support-warranty",
)  # fmt: skip
GENERAL_QUEUE = "support-general"
# Where a caller's phone presses its own keys (the switchboard's phone_keys).
KEYS_CONTEXT = "ivr-test-keys"
KEYS_VARIABLE = "TEST_KEYS"
CHANNEL_VARS = "IVR_RESELLER,IVR_HOST_ID,IVR_TIER,IVR_TICKET,IVR_EMERGENCY,IVR_SLA_DUE"
BOOT_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Install:
    """An Asterisk binary, its modules and what it needs to run."""

    binary: Path
    modules: Path
    data: Path | None  # its astdatadir (documentation and the like), if found
    environ: Mapping[str, str]
    origin: str


def why_no_asterisk() -> str | None:
    """One line on why no Asterisk can be found (None: one can); a cheap look, no unpacking."""
    own = os.environ.get("IVR_TEST_ASTERISK", "").strip()
    if own:
        path = Path(own)
        return (
            None
            if path.is_file() and os.access(path, os.X_OK)
            else (f"IVR_TEST_ASTERISK={own} is not an executable file")
        )
    if BUNDLE_DIR.is_dir() and any(BUNDLE_DIR.glob("asterisk-*.tar.xz")):
        return None
    return HOW_TO_ENABLE


def find_asterisk(workdir: Path) -> Install | str:
    """The Asterisk to test against, or one line saying why there is none and how to add one."""
    own = os.environ.get("IVR_TEST_ASTERISK", "").strip()
    if own:
        binary = Path(own)
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            return f"IVR_TEST_ASTERISK={own} is not an executable file"
        modules = _own_modules(binary)
        if modules is None:
            return (
                f"no modules directory found for {own}: set IVR_TEST_ASTERISK_MODULES to the "
                "folder that holds res_agi.so"
            )
        data = next(
            (d for d in (Path("/var/lib/asterisk"), Path("/usr/share/asterisk"))
             if (d / "documentation").is_dir()),
            None,
        )  # fmt: skip
        return Install(binary, modules, data, {}, f"IVR_TEST_ASTERISK={own}")
    bundles = sorted(BUNDLE_DIR.glob("asterisk-*.tar.xz")) if BUNDLE_DIR.is_dir() else []
    if not bundles:
        return HOW_TO_ENABLE
    root = workdir / "bundle"
    with tarfile.open(bundles[-1]) as archive:
        archive.extractall(root, filter="tar")
    prefix = root / "opt" / "asterisk"
    library = str(prefix / "lib")
    path = os.environ.get("LD_LIBRARY_PATH", "")
    environ = {"LD_LIBRARY_PATH": f"{library}{os.pathsep}{path}" if path else library}
    modules = prefix / "lib" / "asterisk" / "modules"
    data = prefix / "var" / "lib" / "asterisk"
    origin = f"the bundle {bundles[-1].name}"
    return Install(prefix / "sbin" / "asterisk", modules, data, environ, origin)


def _own_modules(binary: Path) -> Path | None:
    named = os.environ.get("IVR_TEST_ASTERISK_MODULES", "").strip()
    candidates = [Path(named)] if named else []
    candidates += [
        binary.resolve().parent.parent / "lib" / "asterisk" / "modules",
        Path("/usr/lib/asterisk/modules"),
        Path("/usr/lib/x86_64-linux-gnu/asterisk/modules"),
        Path("/usr/lib64/asterisk/modules"),
    ]
    return next((c for c in candidates if (c / "res_agi.so").is_file()), None)


@dataclass(slots=True)
class Asterisk:
    """One running private Asterisk."""

    install: Install
    home: Path
    ami_port: int
    process: subprocess.Popen[bytes] | None = None
    environ: dict[str, str] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        """Its ``asterisk.conf``."""
        return self.home / "etc" / "asterisk.conf"

    @property
    def log(self) -> Path:
        """Its verbose log (``messages.log``)."""
        return self.home / "log" / "messages.log"

    def cli(self, command: str, timeout: float = 30.0) -> str:
        """Run one CLI command on it (``asterisk -C ... -rx``) and return the output."""
        done = subprocess.run(
            [str(self.install.binary), "-C", str(self.config), "-rx", command],
            env=self.environ, capture_output=True, timeout=timeout, check=False,
        )  # fmt: skip
        return done.stdout.decode(errors="replace")

    def tail(self, lines: int = 60) -> str:
        """The end of its log, for a failure message."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def configure(
    install: Install,
    home: Path,
    *,
    agi_port: int,
    sounds: Path,
    globals_: Mapping[str, str] | None = None,
) -> Asterisk:
    """Write a complete private configuration under ``home``; nothing is started."""
    for sub in ("etc", "data/sounds", "data/agi-bin", "run", "log", "spool", "lib", "db",
                "keys", "cache"):  # fmt: skip
        (home / sub).mkdir(parents=True, exist_ok=True)
    if not CORE_SOUNDS.is_dir():
        raise RuntimeError(
            f"Asterisk's core sounds are missing ({CORE_SOUNDS}): "
            "apt-get install asterisk-core-sounds-en-wav (make test installs it)"
        )
    if install.data is not None:
        # Its XML documentation above all: without it Asterisk refuses to start.
        for entry in install.data.iterdir():
            if entry.name not in {"sounds", "agi-bin"}:
                (home / "data" / entry.name).symlink_to(entry)
    (home / "data/sounds/en").symlink_to(CORE_SOUNDS)
    (home / "data/sounds/ivr").symlink_to(sounds)
    for script in (ROOT / "agi_scripts").glob("*.py"):
        (home / "data/agi-bin" / script.name).symlink_to(script)
    etc = home / "etc"
    directories = {
        "astetcdir": etc, "astmoddir": install.modules, "astvarlibdir": home / "lib",
        "astdbdir": home / "db", "astkeydir": home / "keys", "astdatadir": home / "data",
        "astagidir": home / "data/agi-bin", "astspooldir": home / "spool",
        "astrundir": home / "run", "astlogdir": home / "log", "astcachedir": home / "cache",
        "astsbindir": install.binary.parent,
    }  # fmt: skip
    ami_port = free_port()
    settings = {"IVR_AGI_URL": f"agi://127.0.0.1:{agi_port}", **(globals_ or {})}
    files = {
        "asterisk.conf": "[directories]\n"
        + "".join(f"{key} => {value}\n" for key, value in directories.items())
        + "[options]\nverbose = 3\ntransmit_silence = yes\n",
        "modules.conf": "[modules]\nautoload = no\n" + "".join(f"load = {m}\n" for m in MODULES),
        "logger.conf": "[general]\n[logfiles]\nmessages.log => notice,warning,error,verbose\n",
        "manager.conf": _manager(ami_port),
        "queues.conf": _queues(),
        "musiconhold.conf": "[default]\nmode = files\ndirectory = moh\n",
        "extensions.conf": _extensions(settings),
    }
    for name, text in files.items():
        (etc / name).write_text(text, encoding="utf-8")
    return Asterisk(install, home, ami_port)


def _manager(port: int) -> str:
    # The service's user gets what docker/asterisk/manager.conf gives it and no more.
    return f"""[general]
enabled = yes
webenabled = no
port = {port}
bindaddr = 127.0.0.1
displayconnects = no
timestampevents = yes
channelvars = {CHANNEL_VARS}

[{AMI_USER}]
secret = {AMI_SECRET}
read = all
write = all

[{SERVICE_AMI_USER}]
secret = {SERVICE_AMI_SECRET}
read = agent,call
write = originate
"""


def _queues() -> str:
    agents = "".join(
        f"\n[{queue}]\nmember => Local/9{n:02d}@ivr-test-agents/n,0,Agent {n}\n"
        for n, queue in enumerate(QUEUES, start=1)
    )
    return f"""[general]
persistentmembers = no
autofill = yes

{agents}
[{GENERAL_QUEUE}]
joinempty = yes
leavewhenempty = no
member => Local/999@ivr-test-agents/n,0,Agent general
"""


def _extensions(settings: Mapping[str, str]) -> str:
    globals_ = "".join(f"{key}={value}\n" for key, value in settings.items())
    return f"""[general]
static = yes
writeprotect = yes
clearglobalvars = yes

[globals]
{globals_}
; The caller's phone: the other half of a Local channel whose first half runs the
; support line. Its keys are pressed with AMI PlayDTMF, or by the phone itself
; in [ivr-test-keys] below.
[ivr-test-caller]
exten => s,1,Answer()
same => n,Wait(900)

; The caller's phone pressing an answer itself: the switchboard sets the keys and
; redirects the phone here; SendDTMF plays them (150 ms apart, 120 ms each, as the
; switchboard's PlayDTMF does), then the phone waits again.
[{KEYS_CONTEXT}]
exten => s,1,SendDTMF(${{{KEYS_VARIABLE}}},150,120)
same => n,Goto(ivr-test-caller,s,2)

; Engineers pick up at once; what they press is played with PlayDTMF.
[ivr-test-engineers]
exten => _8XX,1,Answer()
same => n,Wait(600)

; Engineers who never pick up: their phones ring until Dial gives up.
[ivr-test-absent]
exten => _8XX,1,Wait(600)

; Queue agents ring and never answer: a caller waits in the queue.
[ivr-test-agents]
exten => _9XX,1,Wait(600)

#include {ROOT / "dialplan" / "support-line.conf"}
#include {ROOT / "dialplan" / "support-line-agi.conf"}
"""


def start(asterisk: Asterisk, environ: Mapping[str, str] | None = None) -> None:
    """Boot it in the foreground of its own process; return once fully booted.

    ``environ`` is what AGI scripts it starts will see (their ``IVR_*`` settings).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(asterisk.install.environ)
    env.update(environ or {})
    asterisk.environ = env
    out = (asterisk.home / "log" / "console.log").open("wb")
    asterisk.process = subprocess.Popen(
        [str(asterisk.install.binary), "-C", str(asterisk.config), "-f"],
        env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    out.close()
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        if asterisk.process.poll() is not None:
            raise RuntimeError(f"Asterisk exited at start:\n{asterisk.tail()}")
        if "fully booted" in asterisk.cli("core waitfullybooted", timeout=10):
            return
        time.sleep(0.2)
    raise RuntimeError(f"Asterisk did not boot in {BOOT_TIMEOUT:g} s:\n{asterisk.tail()}")


def stop(asterisk: Asterisk) -> None:
    """Stop it now (bounded), killing it if it will not go."""
    process = asterisk.process
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(subprocess.TimeoutExpired, OSError):
        asterisk.cli("core stop now", timeout=10)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


@contextlib.contextmanager
def running(
    install: Install,
    home: Path,
    *,
    agi_port: int,
    sounds: Path,
    globals_: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Iterator[Asterisk]:
    """A configured, booted Asterisk for the length of the block."""
    asterisk = configure(install, home, agi_port=agi_port, sounds=sounds, globals_=globals_)
    start(asterisk, environ)
    try:
        yield asterisk
    finally:
        stop(asterisk)


def copy_log(asterisk: Asterisk, to: Path) -> None:
    """Keep its log as a test artefact."""
    with contextlib.suppress(OSError):
        shutil.copy(asterisk.log, to)
