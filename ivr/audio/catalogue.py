"""Build the catalogue's prompts into Asterisk sound files with espeak-ng and sox.

Each prompt becomes ``<id>.wav``, ``<id>.sln`` and ``<id>.ulaw`` (8 kHz, mono) in
one directory; copy it to Asterisk's ``sounds/en/ivr``. A manifest in that
directory makes rebuilds incremental: only prompts whose words, voice or
pipeline changed are spoken again.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
FORMATS = ("wav", "sln", "ulaw")
MANIFEST = ".manifest.json"
TOOLS = ("espeak-ng", "sox")
INSTALL_HINT = "apt-get install espeak-ng sox"
# Part of every prompt's hash: bump it when the commands in _sox_args or _speak
# change, so every prompt is rebuilt with the new pipeline.
PIPELINE_VERSION = 1
WORKERS = 2
TOOL_TIMEOUT_S = 120

Progress = Callable[[int, int, str], None]


class CatalogueError(ValueError):
    """The prompt catalogue cannot be read or breaks a rule."""


class ToolMissing(RuntimeError):
    """espeak-ng or sox is not installed."""


class PromptBuildError(RuntimeError):
    """espeak-ng or sox failed on one prompt."""


@dataclass(frozen=True)
class PromptEntry:
    """One catalogue prompt: its sound file name, its words, the flows that play it."""

    id: str
    text: str
    flows: tuple[str, ...]


@dataclass(frozen=True)
class BuildReport:
    """What one build did, by prompt id."""

    out_dir: Path
    built: tuple[str, ...]
    skipped: tuple[str, ...]
    pruned: tuple[str, ...]


def default_catalogue_path() -> Path:
    """The repository's ``prompts/catalogue.toml``."""
    return Path(__file__).resolve().parents[2] / "prompts" / "catalogue.toml"


def default_out_dir() -> Path:
    """The repository's ``prompts/build/en/ivr``, laid out as Asterisk's ``sounds/en/ivr``."""
    return Path(__file__).resolve().parents[2] / "prompts" / "build" / "en" / "ivr"


def load_catalogue(path: Path) -> list[PromptEntry]:
    """Read and validate the catalogue; raise CatalogueError naming the bad entry."""
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise CatalogueError(f"cannot read {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path}: not valid TOML: {exc}") from exc
    raw = data.get("prompt")
    if not isinstance(raw, list) or not raw:
        raise CatalogueError(f"{path}: no [[prompt]] entries")
    entries: list[PromptEntry] = []
    seen: set[str] = set()
    for number, item in enumerate(raw, start=1):
        where = f"{path}: prompt {number}"
        if not isinstance(item, dict):
            raise CatalogueError(f"{where}: not a table")
        # A misspelt key ("txt") would otherwise silently drop the words.
        unknown = set(item) - {"id", "text", "flows"}
        if unknown:
            raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}")
        pid, text, flows = item.get("id"), item.get("text"), item.get("flows", [])
        if not isinstance(pid, str) or not ID_RE.match(pid):
            raise CatalogueError(
                f"{where}: id {pid!r} must match {ID_RE.pattern} (it is a file name)"
            )
        if pid in seen:
            raise CatalogueError(f"{where}: duplicate id {pid!r}")
        if not isinstance(text, str) or not text.strip():
            raise CatalogueError(f"{where} ({pid}): text must be a non-empty string")
        if not isinstance(flows, list) or not all(isinstance(x, str) for x in flows):
            raise CatalogueError(f"{where} ({pid}): flows must be a list of strings")
        seen.add(pid)
        entries.append(PromptEntry(pid, text.strip(), tuple(flows)))
    return entries


def prompt_hash(text: str, voice: str) -> str:
    """The manifest hash of one prompt: its words, the voice and the pipeline version."""
    # JSON keeps the fields apart, so ("ab", "c") and ("a", "bc") differ.
    blob = json.dumps([text, voice, PIPELINE_VERSION]).encode()
    return hashlib.sha256(blob).hexdigest()


def find_tools(path: str | None = None) -> dict[str, str]:
    """Absolute paths of espeak-ng and sox, searched on ``path`` (default: $PATH)."""
    found = {tool: shutil.which(tool, path=path) for tool in TOOLS}
    missing = [tool for tool, where in found.items() if where is None]
    if missing:
        raise ToolMissing(f"{' and '.join(missing)} not found: run `{INSTALL_HINT}`")
    return {tool: where for tool, where in found.items() if where is not None}


def build_prompts(
    entries: Sequence[PromptEntry],
    out_dir: Path,
    *,
    voice: str = "en-us",
    progress: Progress | None = None,
    prune: bool = False,
    tools_path: str | None = None,
) -> BuildReport:
    """Speak each changed prompt into out_dir as .wav, .sln and .ulaw; skip the unchanged.

    ``prune`` removes the files of ids the manifest knows but ``entries`` no longer
    has. ``tools_path`` searches espeak-ng and sox there instead of on $PATH.
    """
    tools = find_tools(tools_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    old = _read_manifest(out_dir)
    wanted = {e.id: prompt_hash(e.text, voice) for e in entries}
    todo = [e for e in entries if not _up_to_date(out_dir, e.id, wanted[e.id], old)]
    todo_ids = {e.id for e in todo}
    skipped = tuple(e.id for e in entries if e.id not in todo_ids)

    # Ids dropped from the catalogue stay in the manifest until pruned, so a later
    # --prune still knows they are ours to delete.
    manifest = {k: v for k, v in old.items() if k not in wanted}
    pruned = _prune(out_dir, manifest) if prune else ()
    manifest.update({pid: wanted[pid] for pid in skipped})
    built: list[str] = []
    try:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            futures = {pool.submit(_build_one, tools, e, voice, out_dir): e for e in todo}
            try:
                for done, future in enumerate(as_completed(futures), start=1):
                    entry = futures[future]
                    future.result()
                    built.append(entry.id)
                    manifest[entry.id] = wanted[entry.id]
                    if progress is not None:
                        progress(done, len(todo), entry.id)
            except BaseException:
                pool.shutdown(cancel_futures=True)
                raise
    finally:
        # Record what did get built, so a failed run does not redo it.
        _write_manifest(out_dir, manifest)
    order = {e.id: i for i, e in enumerate(entries)}
    return BuildReport(out_dir, tuple(sorted(built, key=order.__getitem__)), skipped, pruned)


def _up_to_date(out_dir: Path, pid: str, digest: str, manifest: Mapping[str, str]) -> bool:
    if manifest.get(pid) != digest:
        return False
    return all((out_dir / f"{pid}.{ext}").is_file() for ext in FORMATS)


def _build_one(tools: Mapping[str, str], entry: PromptEntry, voice: str, out_dir: Path) -> None:
    # A scratch directory inside out_dir keeps every rename on one file system,
    # so each file appears whole or not at all.
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=f".build-{entry.id}-") as scratch:
        work = Path(scratch)
        spoken = work / "espeak.wav"
        # "--" ends espeak-ng's options: a text starting with "-" is still spoken.
        _run(entry.id, [tools["espeak-ng"], "-v", voice, "-w", str(spoken), "--", entry.text])
        for ext in FORMATS:
            _run(entry.id, [tools["sox"], *_sox_args(spoken, work / f"{entry.id}.{ext}", ext)])
        for ext in FORMATS:
            (work / f"{entry.id}.{ext}").replace(out_dir / f"{entry.id}.{ext}")


def _sox_args(src: Path, dst: Path, ext: str) -> list[str]:
    # -R seeds sox's dither with a fixed number, so a rebuild is byte-identical.
    common = ["-R", str(src), "-r", "8000", "-c", "1"]
    match ext:
        case "wav":
            return [*common, "-b", "16", "-e", "signed-integer", "-t", "wav", str(dst)]
        case "sln":
            return [*common, "-t", "raw", "-e", "signed-integer", "-b", "16", str(dst)]
        case "ulaw":
            return [*common, "-t", "raw", "-e", "mu-law", "-b", "8", str(dst)]
    raise ValueError(ext)  # pragma: no cover - FORMATS lists every case


def _run(pid: str, argv: list[str]) -> None:
    # argv only, never a shell: the prompt text is one argument whatever it holds.
    try:
        subprocess.run(  # noqa: S603
            argv, check=True, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S
        )
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.strip() or f"exit status {exc.returncode}"
        raise PromptBuildError(f"{pid}: {Path(argv[0]).name} failed: {detail}") from exc
    except subprocess.TimeoutExpired as exc:
        raise PromptBuildError(f"{pid}: {Path(argv[0]).name} timed out") from exc


def _read_manifest(out_dir: Path) -> dict[str, str]:
    try:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        # The manifest is only a cache: without it every prompt is rebuilt.
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def _write_manifest(out_dir: Path, manifest: Mapping[str, str]) -> None:
    tmp = out_dir / f"{MANIFEST}.tmp"
    tmp.write_text(json.dumps(dict(sorted(manifest.items())), indent=1) + "\n", encoding="utf-8")
    tmp.replace(out_dir / MANIFEST)


def _prune(out_dir: Path, dropped: dict[str, str]) -> tuple[str, ...]:
    """Delete the files of the ``dropped`` ids and empty the mapping."""
    # Only ids this tool recorded, and only valid ones: a hand-edited manifest
    # must not be able to point the deletion outside out_dir.
    pruned = sorted(pid for pid in dropped if ID_RE.match(pid))
    for pid in pruned:
        for ext in FORMATS:
            (out_dir / f"{pid}.{ext}").unlink(missing_ok=True)
    dropped.clear()
    return tuple(pruned)


class ProgressBar:
    """A progress callback: ``[#####.....] 12/33 welcome`` on a TTY, plain lines otherwise."""

    def __init__(self, stream: TextIO | None = None, width: int = 20) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.tty = self.stream.isatty()

    def __call__(self, done: int, total: int, name: str) -> None:
        """Show that ``done`` of ``total`` prompts are built, the last one being ``name``."""
        if not self.tty:
            self.stream.write(f"{done}/{total} {name}\n")
        else:
            filled = self.width * done // max(total, 1)
            bar = "#" * filled + "." * (self.width - filled)
            # \r and erase-to-end-of-line redraw the bar in place.
            end = "\n" if done >= total else ""
            self.stream.write(f"\r[{bar}] {done}/{total} {name}\x1b[K{end}")
        self.stream.flush()


def main_build(out: Path | None, prune: bool) -> int:
    """``ivr prompts build [--out DIR] [--prune]``: build the catalogue; return the exit status."""
    out_dir = out if out is not None else default_out_dir()
    started = time.monotonic()
    try:
        entries = load_catalogue(default_catalogue_path())
        report = build_prompts(entries, out_dir, progress=ProgressBar(), prune=prune)
    except (ToolMissing, CatalogueError, PromptBuildError) as exc:
        sys.stderr.write(f"ivr: {exc}\n")
        return 1
    except OSError as exc:
        sys.stderr.write(f"ivr: cannot write prompts to {out_dir}: {exc}\n")
        return 1
    elapsed = time.monotonic() - started
    sys.stdout.write(
        f"prompts: {len(report.built)} built, {len(report.skipped)} up to date, "
        f"{len(report.pruned)} pruned in {out_dir} ({elapsed:.1f} s)\n"
    )
    return 0


def prompt_words() -> dict[str, str]:
    """Prompt id -> words, from the catalogue (empty if it cannot be read): what
    ``ivr call`` and the call tester show beside each prompt played."""
    try:
        return {e.id: e.text for e in load_catalogue(default_catalogue_path())}
    except (OSError, CatalogueError):
        return {}
