"""The prompt catalogue agrees with the code and the dialplan, and builds into Asterisk audio."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import wave
from pathlib import Path

import pytest

from ivr.audio.catalogue import (
    FORMATS,
    MANIFEST,
    CatalogueError,
    ProgressBar,
    PromptEntry,
    ToolMissing,
    build_prompts,
    default_catalogue_path,
    load_catalogue,
)
from ivr.flows.prompts import Prompt

DIALPLAN = Path(__file__).resolve().parents[2] / "dialplan" / "support-line.conf"
SOUND_COMMENT = re.compile(r"^;\s*sound:\s*ivr/(\S+)\s*$", re.MULTILINE)

SMALL = """
[[prompt]]
id = "hello"
text = "Hello, and thank you for calling."
flows = ["test"]

[[prompt]]
id = "press-one"
text = "-1 is not a key: press 1."
flows = ["test"]

[[prompt]]
id = "bye"
text = "Goodbye."
flows = ["test", "dialplan"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalogue.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _mtimes(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name != MANIFEST}


def _soxi(flag: str, path: Path) -> str:
    """One header field as soxi prints it (soxi takes one field option per run)."""
    run = subprocess.run(
        ["soxi", f"-{flag}", str(path)], check=True, capture_output=True, text=True
    )
    return run.stdout.strip()


def _check_audio(out: Path, pid: str) -> None:
    with wave.open(str(out / f"{pid}.wav"), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        frames = w.getnframes()
    assert frames / 8000 > 0.2, f"{pid}: only {frames} frames"
    sln = (out / f"{pid}.sln").stat().st_size
    ulaw = (out / f"{pid}.ulaw").stat().st_size
    assert sln % 2 == 0
    assert sln == 2 * frames
    assert abs(sln - 2 * ulaw) <= 2
    # soxi reads the header independently of Python's wave module.
    wav = out / f"{pid}.wav"
    assert [_soxi(flag, wav) for flag in "rcbes"] == [
        "8000",
        "1",
        "16",
        "Signed Integer PCM",
        str(frames),
    ]


def test_enum_and_catalogue_agree() -> None:
    """Every Prompt id is in the catalogue and every catalogue id is a Prompt."""
    ids = [e.id for e in load_catalogue(default_catalogue_path())]
    assert sorted(ids) == sorted(p.value for p in Prompt)


def test_dialplan_sounds_are_in_catalogue() -> None:
    """Every `; sound: ivr/<id>` the dialplan declares is a catalogue prompt."""
    sounds = SOUND_COMMENT.findall(DIALPLAN.read_text(encoding="utf-8"))
    assert sounds, "the dialplan declares no sounds"
    ids = {e.id for e in load_catalogue(default_catalogue_path())}
    assert set(sounds) <= ids


def test_load_catalogue_reads_entries(tmp_path: Path) -> None:
    """The small catalogue loads in order, flows as tuples."""
    entries = load_catalogue(_write(tmp_path, SMALL))
    assert [e.id for e in entries] == ["hello", "press-one", "bye"]
    assert entries[2] == PromptEntry("bye", "Goodbye.", ("test", "dialplan"))


def test_build_small_catalogue(tmp_path: Path) -> None:
    """Each prompt becomes an 8 kHz mono 16-bit .wav, an .sln and a .ulaw."""
    out = tmp_path / "out"
    seen: list[tuple[int, int, str]] = []
    report = build_prompts(
        load_catalogue(_write(tmp_path, SMALL)),
        out,
        progress=lambda d, t, n: seen.append((d, t, n)),
    )
    assert report.built == ("hello", "press-one", "bye")
    assert report.skipped == report.pruned == ()
    assert sorted(d for d, _, _ in seen) == [1, 2, 3]
    assert {n for _, _, n in seen} == set(report.built)
    for pid in report.built:
        _check_audio(out, pid)
    names = {p.name for p in out.iterdir()}
    assert names == {MANIFEST} | {f"{p}.{x}" for p in report.built for x in FORMATS}


def test_rebuild_is_incremental(tmp_path: Path) -> None:
    """A second build skips all; a changed text rebuilds only that prompt."""
    out = tmp_path / "out"
    entries = load_catalogue(_write(tmp_path, SMALL))
    build_prompts(entries, out)
    before = _mtimes(out)

    again = build_prompts(entries, out)
    assert again.built == ()
    assert again.skipped == ("hello", "press-one", "bye")
    assert _mtimes(out) == before

    old_wav = (out / "hello.wav").read_bytes()
    changed = [
        PromptEntry(e.id, "Hello there, partner.", e.flows) if e.id == "hello" else e
        for e in entries
    ]
    third = build_prompts(changed, out)
    assert third.built == ("hello",)
    assert third.skipped == ("press-one", "bye")
    after = _mtimes(out)
    assert {n for n in after if after[n] != before[n]} <= {f"hello.{x}" for x in FORMATS}
    assert (out / "hello.wav").read_bytes() != old_wav
    _check_audio(out, "hello")


def test_changed_voice_or_missing_file_rebuilds(tmp_path: Path) -> None:
    """A different voice rebuilds all; a deleted output rebuilds its prompt."""
    out = tmp_path / "out"
    entries = load_catalogue(_write(tmp_path, SMALL))
    build_prompts(entries, out)
    (out / "bye.ulaw").unlink()
    assert build_prompts(entries, out).built == ("bye",)
    assert build_prompts(entries, out, voice="en-gb").built == ("hello", "press-one", "bye")


def test_prune_removes_dropped_ids(tmp_path: Path) -> None:
    """A dropped id's files stay without prune and go with prune=True."""
    out = tmp_path / "out"
    entries = load_catalogue(_write(tmp_path, SMALL))
    build_prompts(entries, out)
    kept = [e for e in entries if e.id != "bye"]

    report = build_prompts(kept, out)
    assert report.pruned == ()
    assert (out / "bye.wav").exists()

    report = build_prompts(kept, out, prune=True)
    assert report.pruned == ("bye",)
    assert report.skipped == ("hello", "press-one")
    assert not any((out / f"bye.{x}").exists() for x in FORMATS)
    assert all((out / f"hello.{x}").exists() for x in FORMATS)
    assert "bye" not in (out / MANIFEST).read_text(encoding="utf-8")


def test_full_catalogue_builds(tmp_path: Path) -> None:
    """Every prompt of the real catalogue builds into playable audio."""
    entries = load_catalogue(default_catalogue_path())
    report = build_prompts(entries, tmp_path)
    assert report.built == tuple(e.id for e in entries)
    for pid in report.built:
        _check_audio(tmp_path, pid)


# The longest way Asterisk's SAY DATE speaks a date in English (weekday, month, day,
# year), in the same voice as the prompts: a stand-in for the date in the message.
LONGEST_DATE = "Wednesday, September thirtieth, two thousand twenty seven"
EXPIRED_MESSAGE_LIMIT_S = 20.0


def _seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def test_expired_contract_message_is_short_and_names_the_terms(tmp_path: Path) -> None:
    """The expired-contract message (the expiry, its date, the terms) lasts under 20 s as
    built, and names the upgrade, the renewal surcharge, the billable audit hours and the
    purchase order."""
    prompts = {e.id: e for e in load_catalogue(default_catalogue_path())}
    terms = prompts[Prompt.CONTRACT_EXPIRED_TERMS].text
    for needed in ("upgrade to the current release", "renewal", "surcharge", "billable hours",
                   "audit", "approved purchase order"):  # fmt: skip
        assert needed in terms
    message = [
        prompts[Prompt.CONTRACT_EXPIRED],
        PromptEntry("date", LONGEST_DATE, ("test",)),
        prompts[Prompt.CONTRACT_EXPIRED_TERMS],
    ]
    build_prompts(message, tmp_path)
    spoken = sum(_seconds(tmp_path / f"{entry.id}.wav") for entry in message)
    assert spoken < EXPIRED_MESSAGE_LIMIT_S, f"{spoken:.1f} s"


def test_main_menu_names_every_option() -> None:
    """The menu's words offer options 1 to 4 and star, as the flow takes them."""
    menu = {e.id: e.text for e in load_catalogue(default_catalogue_path())}[Prompt.MAIN_MENU]
    for key in ("press 1", "press 2", "press 3", "hardware warranty request or replacement, "
                "press 4", "press star"):  # fmt: skip
        assert key in menu


def test_missing_tools_is_tool_missing(tmp_path: Path) -> None:
    """Without espeak-ng and sox on the search path the build names the apt-get fix."""
    empty = tmp_path / "bin"
    empty.mkdir()
    entries = [PromptEntry("hello", "Hello.", ())]
    with pytest.raises(ToolMissing, match=r"espeak-ng and sox.*apt-get install espeak-ng sox"):
        build_prompts(entries, tmp_path / "out", tools_path=str(empty))
    assert not (tmp_path / "out").exists()


def test_missing_sox_alone_is_named(tmp_path: Path) -> None:
    """With only espeak-ng on the search path, ToolMissing names sox."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng is not installed: run ./scripts/setup.sh"
    (bin_dir / "espeak-ng").symlink_to(espeak)
    with pytest.raises(ToolMissing, match=r"^sox not found"):
        build_prompts(
            [PromptEntry("hello", "Hello.", ())], tmp_path / "out", tools_path=str(bin_dir)
        )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[[prompt]]\nid = "a"\ntext = "A."\n[[prompt]]\nid = "a"\ntext = "B."\n',
            r"prompt 2: duplicate id 'a'",
        ),
        ('[[prompt]]\nid = "Main_Menu"\ntext = "Hi."\n', r"prompt 1: id 'Main_Menu' must match"),
        ('[[prompt]]\nid = "-x"\ntext = "Hi."\n', r"prompt 1: id '-x' must match"),
        ('[[prompt]]\nid = "ok"\ntext = "Hi."\n[[prompt]]\ntext = "Hi."\n', r"prompt 2: id None"),
        ('[[prompt]]\nid = "ok"\ntext = "  "\n', r"prompt 1 \(ok\): text must be a non-empty"),
        ('[[prompt]]\nid = "ok"\ntxt = "Hi."\n', r"prompt 1: unknown keys \['txt'\]"),
        ('[[prompt]]\nid = "ok"\ntext = "Hi."\nflows = "x"\n', r"flows must be a list"),
        ("[[prompt]\n", r"not valid TOML"),
        ("# nothing\n", r"no \[\[prompt\]\] entries"),
    ],
)
def test_bad_catalogue_is_catalogue_error(tmp_path: Path, body: str, message: str) -> None:
    """Each broken rule is a CatalogueError naming the entry and the rule."""
    with pytest.raises(CatalogueError, match=message):
        load_catalogue(_write(tmp_path, body))


def test_missing_catalogue_is_catalogue_error(tmp_path: Path) -> None:
    """An unreadable catalogue path is a CatalogueError, not a traceback."""
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "nope.toml")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_plain_and_tty() -> None:
    """Plain lines when not a TTY; a bar redrawn in place, ended by a newline, on a TTY."""
    plain = io.StringIO()
    bar = ProgressBar(plain, width=10)
    bar(1, 2, "welcome")
    bar(2, 2, "goodbye")
    assert plain.getvalue() == "1/2 welcome\n2/2 goodbye\n"

    tty = _Tty()
    bar = ProgressBar(tty, width=10)
    bar(1, 2, "welcome")
    assert tty.getvalue() == "\r[#####.....] 1/2 welcome\x1b[K"
    bar(2, 2, "goodbye")
    assert tty.getvalue().endswith("\r[##########] 2/2 goodbye\x1b[K\n")
