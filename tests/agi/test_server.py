"""The FastAGI server under misbehaving peers, over real loopback sockets."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator, Mapping

import pytest

from ivr.agi.protocol import MAX_LINE_BYTES
from ivr.agi.server import FastAgiServer, ServerLimits, peer_allowed
from ivr.domain.variables import Var
from ivr.flows.channel import CallHungUp, Channel, ChannelFailure
from tests.support.harness import Line, wait_for

ENV = (
    "agi_network: yes\n"
    "agi_network_script: probe?lang=en&x=1\n"
    "agi_uniqueid: 1795570859.5\n"
    "agi_callerid: 5551234\n"
    "agi_calleridname: AMI Test\n"
    "\n"
)


class Probe:
    """A test route: answers, plays one prompt, sets a variable; records what happened."""

    def __init__(self) -> None:
        self.queries: list[dict[str, str]] = []
        self.outcomes: list[str] = []

    async def __call__(self, channel: Channel, query: Mapping[str, str]) -> None:
        self.queries.append(dict(query))
        try:
            await channel.answer()
            await channel.play("hello")
            await channel.set_variable(Var.ROUTE, "queue")
            self.outcomes.append("done")
        except CallHungUp:
            self.outcomes.append("hangup")
        except ChannelFailure as exc:
            self.outcomes.append(f"failure: {exc}")


@pytest.fixture
async def probe_server() -> AsyncIterator[tuple[FastAgiServer, Probe, int]]:
    """A server with the probe route and short limits."""
    probe = Probe()
    server = FastAgiServer(
        {"probe": probe},
        sounds_prefix="ivr",
        recording_dir="/tmp/rec",  # noqa: S108  (only a name sent to the fake Asterisk)
        limits=ServerLimits(header_timeout=0.5, command_timeout=1.0, max_connections=5),
    )
    _, port = await server.start("127.0.0.1", 0)
    try:
        yield server, probe, port
    finally:
        await server.close()


async def converse(port: int, payload: bytes, replies: dict[str, list[str]]) -> list[str]:
    """Send ``payload``, answer each command by its verb from ``replies``; return commands."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    commands: list[str] = []
    try:
        async with asyncio.timeout(5):
            while line := await reader.readline():
                command = line.decode().strip()
                commands.append(command)
                verb = next((v for v in replies if command.startswith(v)), None)
                assert verb is not None, f"unexpected command {command}"
                answer = replies[verb].pop(0) if len(replies[verb]) > 1 else replies[verb][0]
                writer.write(answer.encode())
                await writer.drain()
    finally:
        writer.close()
    return commands


async def closed_by_server(port: int, payload: bytes, *, keep_open: bool = True) -> bytes:
    """Send ``payload`` and return what the server wrote before closing on us."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    if not keep_open:
        writer.write_eof()
    try:
        async with asyncio.timeout(5):
            return await reader.read()
    except ConnectionResetError:
        return b""  # closed before reading what we sent: the kernel answers with a reset
    finally:
        writer.close()


HAPPY = {
    "ANSWER": ["200 result=0\n"],
    "STREAM FILE": ["200 result=0 endpos=1000\n"],
    "SET VARIABLE": ["200 result=1\n"],
}


async def test_query_string_reaches_route(probe_server: tuple[FastAgiServer, Probe, int]) -> None:
    """The route is the script path; the query string is handed to it."""
    _, probe, port = probe_server
    commands = await converse(port, ENV.encode(), dict(HAPPY))
    assert commands == ["ANSWER", 'STREAM FILE "ivr/hello" ""', 'SET VARIABLE "IVR_ROUTE" "queue"']
    assert probe.queries == [{"lang": "en", "x": "1"}]
    assert probe.outcomes == ["done"]


async def test_trying_line_then_answer(probe_server: tuple[FastAgiServer, Probe, int]) -> None:
    """A 100 Trying line before the real answer is skipped."""
    _, probe, port = probe_server
    replies = dict(HAPPY, ANSWER=["100 result=0 Trying...\n200 result=0\n"])
    await converse(port, ENV.encode(), replies)
    assert probe.outcomes == ["done"]


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        ("510 Invalid or unknown command\n", "failure"),
        ("520-Invalid command syntax.\n Usage: x\n520 End of proper usage.\n",
         "failure"),
        ("HANGUP\n511 Command Not Permitted on a dead channel or intercept routine\n", "hangup"),
        ("200 result=-1 endpos=0\nHANGUP\n", "hangup"),
    ],
)  # fmt: skip
async def test_error_answers_reach_route(
    probe_server: tuple[FastAgiServer, Probe, int], reply: str, outcome: str
) -> None:
    """510 and 520 are failures; 511 and -1 followed by HANGUP are a hang-up."""
    _, probe, port = probe_server
    replies = dict(
        HAPPY,
        **{"STREAM FILE": [reply]},
        **{"CHANNEL STATUS": ["511 Command Not Permitted on a dead channel\n"]},
    )
    await converse(port, ENV.encode(), replies)
    assert probe.outcomes[0].startswith(outcome)


async def test_missing_sound_on_live_channel_is_failure(
    probe_server: tuple[FastAgiServer, Probe, int],
) -> None:
    """-1 with the channel still up (CHANNEL STATUS answers) is a missing sound, not a hang-up."""
    _, probe, port = probe_server
    replies = dict(
        HAPPY, **{"STREAM FILE": ["200 result=-1 endpos=0\n"], "CHANNEL STATUS": ["200 result=6\n"]}
    )
    await converse(port, ENV.encode(), replies)
    assert probe.outcomes[0].startswith("failure")


@pytest.mark.parametrize(
    "payload",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x00\x01\x02garbage\n\n",
        b"agi_network: yes\nagi_network: yes\n\n",
        b"agi_network: yes\n\n",  # no script
        b"agi_network_script: nosuchroute\n\n",
        b"agi_network_script: probe\nagi_x: " + b"A" * (MAX_LINE_BYTES + 10) + b"\n\n",
        b"".join(b"agi_k%d: v\n" % i for i in range(500)) + b"\n",
    ],
)
async def test_bad_peers_are_closed_without_commands(
    probe_server: tuple[FastAgiServer, Probe, int], payload: bytes
) -> None:
    """Garbage, duplicates, oversize blocks and unknown routes: closed, no command sent."""
    server, probe, port = probe_server
    assert await closed_by_server(port, payload) == b""
    assert probe.outcomes == []
    await wait_for(lambda: server.active_calls == 0)


async def test_disconnect_mid_header(probe_server: tuple[FastAgiServer, Probe, int]) -> None:
    """A peer closing before the blank line frees its connection at once."""
    server, _, port = probe_server
    assert await closed_by_server(port, b"agi_network: yes\nagi_netw", keep_open=False) == b""
    await wait_for(lambda: server.active_calls == 0)


async def test_silent_peer_times_out(probe_server: tuple[FastAgiServer, Probe, int]) -> None:
    """A peer that never finishes its environment is dropped after the header timeout."""
    server, _, port = probe_server
    assert await closed_by_server(port, b"agi_network: yes\n") == b""
    assert server.active_calls == 0


async def test_disconnect_mid_command(probe_server: tuple[FastAgiServer, Probe, int]) -> None:
    """A peer closing while a command waits is a hang-up for the route."""
    server, probe, port = probe_server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(ENV.encode())
    assert await reader.readline() == b"ANSWER\n"
    writer.close()
    await wait_for(lambda: probe.outcomes == ["hangup"])
    await wait_for(lambda: server.active_calls == 0)


async def test_garbage_does_not_stop_other_calls(
    probe_server: tuple[FastAgiServer, Probe, int],
) -> None:
    """While one peer sends garbage and another stalls mid-header, a real call completes."""
    _, probe, port = probe_server
    stalled_reader, stalled = await asyncio.open_connection("127.0.0.1", port)
    stalled.write(b"agi_network: yes\n")
    garbage = asyncio.create_task(closed_by_server(port, b"\xff\xfe garbage\n" * 100))
    commands = await converse(port, ENV.encode(), dict(HAPPY))
    assert len(commands) == 3
    assert probe.outcomes == ["done"]
    assert await garbage == b""
    stalled.close()
    del stalled_reader


async def test_connection_cap(probe_server: tuple[FastAgiServer, Probe, int]) -> None:
    """Past the connection cap, new connections are closed at once."""
    server, _, port = probe_server
    held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(5)]
    await wait_for(lambda: server.active_calls == 5)
    assert await closed_by_server(port, ENV.encode()) == b""
    for _, writer in held:
        writer.close()
    await wait_for(lambda: server.active_calls == 0)


async def test_invalid_utf8_in_environment(probe_server: tuple[FastAgiServer, Probe, int]) -> None:
    """Invalid UTF-8 in a caller-ID name does not stop the call."""
    _, probe, port = probe_server
    payload = ENV.replace("AMI Test", "Caf\udcff").encode("utf-8", "surrogateescape")
    await converse(port, payload, dict(HAPPY))
    assert probe.outcomes == ["done"]


@pytest.mark.parametrize(
    ("peer", "allowed"),
    [
        (("127.0.0.1", 1), True),
        (("::1", 1, 0, 0), True),
        (("10.0.0.5", 1), True),
        (("10.0.1.9", 1), False),
        (("192.0.2.1", 1), False),
        (("not-an-ip", 1), False),
    ],
)
def test_allow_list(peer: tuple[object, ...], allowed: bool) -> None:
    """Loopback is always allowed; other peers only from the allow-list."""
    allow = (ipaddress.ip_network("10.0.0.0/24"),)
    assert peer_allowed(peer, allow) is allowed


async def test_support_line_closes_socket_after_route(line: Line) -> None:
    """The service closes the socket when the flow returns: Asterisk holds the channel till then."""
    result = await line.call("", caller="")
    assert result.closed_by_service
    assert result.variables["IVR_ROUTE"] == "queue"
