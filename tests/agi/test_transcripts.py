"""Replays of FastAGI sessions recorded from a real Asterisk 22 (tests/transcripts/)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr.agi.protocol import EnvironmentParser, ResponseParser, Status
from ivr.agi.server import FastAgiServer
from ivr.agi.simulator import CallResult as SimResult
from ivr.agi.simulator import SimulatedCall, _Session, split_args
from ivr.flows.channel import CallHungUp, Channel, KeyInput

HERE = Path(__file__).resolve().parents[1] / "transcripts"
FAGI = ["fagi-transcript.txt", "fagi-transcript-missing-beep.txt", "fagi-transcript-close.txt"]


@dataclass
class Recorded:
    """A recorded FastAGI session: environment lines and (command, reply lines) pairs."""

    environment: list[str]
    exchanges: list[tuple[str, list[str]]]
    trailing: list[str]


def load(name: str) -> Recorded:
    """Parse a transcript file into environment, exchanges and trailing lines."""
    env: list[str] = []
    exchanges: list[tuple[str, list[str]]] = []
    in_env = True
    for raw in (HERE / name).read_text().splitlines():
        _, _, rest = raw.partition(" ")
        if rest.startswith("##"):
            continue
        direction, _, text = rest.partition(" ")
        if direction == "<<" and in_env:
            env.append(text)
            in_env = text != ""
        elif direction == ">>":
            exchanges.append((text, []))
        elif direction == "<<":
            exchanges[-1][1].append(text)
    trailing: list[str] = []
    last_cmd, last_replies = exchanges[-1]
    if len(last_replies) > 1:
        trailing = last_replies[1:]
        exchanges[-1] = (last_cmd, last_replies[:1])
    return Recorded(env, exchanges, trailing)


@pytest.mark.parametrize("name", FAGI)
def test_recorded_environment_parses(name: str) -> None:
    """The real environment block parses; the query string is split off the route."""
    parser = EnvironmentParser()
    env = None
    for line in load(name).environment:
        env = parser.feed(line)
    assert env is not None
    assert (env.route, env.query) == ("test", {"foo": "bar"})
    assert env.caller_id == "5551234"


@pytest.mark.parametrize("name", FAGI)
def test_recorded_replies_parse(name: str) -> None:
    """Every reply a real Asterisk sent parses to an OK response."""
    for _, replies in load(name).exchanges:
        parser = ResponseParser()
        response = None
        for line in replies:
            response = parser.feed(line)
        assert response is not None
        assert response.status is Status.OK


def test_recorded_trailing_hangup() -> None:
    """After the service's HANGUP, Asterisk sends a bare HANGUP line (recorded)."""
    assert load("fagi-transcript.txt").trailing == ["HANGUP"]
    assert load("fagi-transcript-missing-beep.txt").trailing == ["HANGUP"]


@pytest.mark.parametrize(
    ("name", "beep_exists", "answers"),
    [
        ("fagi-transcript.txt", True, ["1234"]),
        ("fagi-transcript-missing-beep.txt", False, []),
    ],
)
def test_fake_asterisk_answers_as_recorded(
    name: str, beep_exists: bool, answers: list[str | None]
) -> None:
    """The fake Asterisk gives the recorded replies to the recorded commands."""
    call = SimulatedCall(
        caller_id="5551234", answers=answers, sound_exists=lambda _n: beep_exists, strict=False
    )
    session = _Session(call, SimResult(route="test"))
    for command, replies in load(name).exchanges:
        assert session.answer(command) == replies


def recorded_route(keys_seen: list[KeyInput | str]) -> object:
    """A route issuing the recorded commands through the Channel interface."""

    async def route(channel: Channel, query: Mapping[str, str]) -> None:
        assert query == {"foo": "bar"}
        await channel.answer()
        try:
            keys_seen.append(await channel.read_keys("beep", 4, 3.0))
        except CallHungUp:
            keys_seen.append("hangup")
        await channel.hangup()

    return route


async def test_server_replays_recorded_session() -> None:
    """Asterisk's recorded bytes drive the server; it sends the same commands and closes."""
    recorded = load("fagi-transcript.txt")
    seen: list[KeyInput | str] = []
    server = FastAgiServer(
        {"test": recorded_route(seen)},  # type: ignore[dict-item]
        sounds_prefix="",
        recording_dir="/x",
    )
    _, port = await server.start("127.0.0.1", 0)
    replies = {split_args(c)[0]: r for c, r in recorded.exchanges}
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(("\n".join(recorded.environment) + "\n").encode())
        sent: list[list[str]] = []
        async with asyncio.timeout(5):
            while line := await reader.readline():
                words = split_args(line.decode().rstrip("\n"))
                sent.append(words)
                answer = replies[words[0]]
                if words[0] == "HANGUP":
                    answer = answer + recorded.trailing
                writer.write("".join(a + "\n" for a in answer).encode())
        writer.close()
    finally:
        await server.close()
    recorded_words = [split_args(c) for c, _ in recorded.exchanges]
    assert sent == [w for w in recorded_words if w[0] != "SET"]
    assert seen == [KeyInput("1234", timed_out=False)]
