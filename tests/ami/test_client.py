"""The one AMI client: against recorded Asterisk 22 traffic and the strict fake AMI over TCP."""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.ami.client import (
    AmiClient,
    AmiLinkError,
    AmiLoginRefused,
    AmiReply,
    AmiSettings,
    Backoff,
    Replies,
    probe,
)
from ivr.ami.wire import AmiMessage, AmiParser, NotAmiError
from tests.support.fake_ami import TRANSCRIPTS, FakeAmi, FakeMember, FakeQueue, recorded_stream
from tests.support.harness import free_port

SECRET = "s3cret-for-tests"
QUEUE = "support-premium"
# What a peer that is not AMI says first (a web server on the wrong port).
HTTP_REPLY = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"


def settings_for(port: int, secret: str = SECRET, timeout: float = 5.0) -> AmiSettings:
    """The client's settings for a local fake."""
    return AmiSettings("127.0.0.1", port, "ivr", secret, timeout)


@pytest.fixture
async def ami() -> AsyncIterator[FakeAmi]:
    """A listening fake Asterisk with one queue and one agent; no violation at the end."""
    fake = FakeAmi(secret=SECRET)
    fake.queues[QUEUE] = FakeQueue(members=[FakeMember("Dana", "PJSIP/dana")])
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
        assert fake.violations == []


def port_of(fake: FakeAmi) -> int:
    """The fake's listening port."""
    assert fake._server is not None
    return int(fake._server.sockets[0].getsockname()[1])


@pytest.fixture
async def peer() -> AsyncIterator[Callable[[bytes | None], Awaitable[int]]]:
    """Starts a TCP server that says the given bytes and closes (None: says nothing, ever)."""
    servers: list[asyncio.Server] = []
    writers: list[asyncio.StreamWriter] = []

    async def start(says: bytes | None) -> int:
        async def handle(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            if says is not None:
                writer.write(says)
                await writer.drain()
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    yield start
    for writer in writers:
        writer.transport.abort()
    for server in servers:
        server.close()
        await server.wait_closed()


def client_tasks() -> set[str]:
    """The names of the AMI clients' tasks still alive (they all start with "AMI")."""
    return {t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("AMI")}


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll a condition the client's background tasks make true."""
    async with asyncio.timeout(timeout):
        while not check():  # noqa: ASYNC110  (state changed by the client's own tasks)
            await asyncio.sleep(0.01)


# --- Back-off (pure) --------------------------------------------------------------


def test_backoff_doubles_from_first_to_most_and_jitter_only_shortens() -> None:
    """1 s doubling to 30 s; the jitter takes up to a fifth off, never adds."""
    backoff = Backoff()
    assert [backoff.delay(n, 0.0) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert [backoff.delay(n, 1.0) for n in range(1, 8)] == pytest.approx(
        [0.8, 1.6, 3.2, 6.4, 12.8, 24, 24]
    )
    # The jitter of the old reconnection, 30 s x uniform(0.8, 1.2), reached 36 s.
    assert max(backoff.delay(n, d) for n in range(1, 40) for d in (0.0, 0.5, 0.999)) == 30.0


@given(failures=st.integers(min_value=1, max_value=10**6), draw=st.floats(0.0, 1.0))
def test_backoff_never_exceeds_its_maximum(failures: int, draw: float) -> None:
    """Whatever the failures in a row and the random draw: within [0.8 x pause, most]."""
    backoff = Backoff(first=1.0, most=30.0, jitter=0.2)
    pause = min(30.0, 2.0 ** min(failures - 1, 10))
    assert 0.8 * pause - 1e-9 <= backoff.delay(failures, draw) <= 30.0


@pytest.mark.parametrize(
    ("first", "most", "jitter"),
    [(1.0, 30.0, -0.5), (1.0, 30.0, 1.5), (0.0, 30.0, 0.2), (60.0, 30.0, 0.2)],
)
def test_a_backoff_that_could_pass_its_maximum_is_refused(
    first: float, most: float, jitter: float
) -> None:
    """A negative jitter (pauses past ``most``), one over 1 (negative pauses), or a first
    pause that is zero or over ``most`` is refused when the back-off is built."""
    with pytest.raises(ValueError, match="back-off"):
        Backoff(first=first, most=most, jitter=jitter)


def test_many_random_draws_stay_within_the_maximum() -> None:
    """Ten thousand draws of the real random source over every step: never past ``most``."""
    backoff = Backoff(first=1.0, most=30.0, jitter=0.2)
    rng = random.Random(15)
    pauses = [backoff.delay(rng.randint(1, 64), rng.random()) for _ in range(10_000)]
    assert max(pauses) <= 30.0
    assert min(pauses) >= 0.8


# --- Matching answers to actions (recorded traffic, no socket) ----------------------


async def test_recorded_answers_are_matched_and_everything_else_is_an_event() -> None:
    """Every action of the recorded queue call gets its own answer and event list;
    FullyBooted, SuccessfulAuth, channel events and OriginateResponse (which carries the
    Originate's ActionID and a Response header) pass through as events."""
    sent = re.findall(r"^ActionID: (\S+)$", _sent_blocks("ami-queue-events.txt"), re.MULTILINE)
    assert len(sent) == 10
    messages = AmiParser().feed(recorded_stream("ami-queue-events.txt"))
    replies = Replies()
    futures = {action_id: replies.expect(action_id) for action_id in sent}
    events = [m for m in messages if not replies.take(m)]
    assert len(replies) == 0
    answers = {action_id: f.result() for action_id, f in futures.items()}
    for action_id, reply in answers.items():
        assert reply.response.action_id == action_id
        if action_id.startswith(("QueueStatus", "QueueSummary")):
            assert reply.response.get("EventList") == "start"
            last = reply.events[-1]
            assert last.event == f"{action_id.split('-')[0]}Complete"
            assert int(last.get("ListItems")) == len(reply.events) - 1
            assert all(m.action_id == action_id for m in reply.events)
        else:
            assert reply.events == []
    assert [e.event for e in answers["QueueStatus-2"].events] == [
        "QueueParams", "QueueMember", "QueueStatusComplete",
    ]  # fmt: skip
    assert answers["Originate-4"].ok
    assert answers["Logoff-10"].response.get("Response") == "Goodbye"
    assert all(e.event for e in events)
    assert {"FullyBooted", "SuccessfulAuth", "QueueCallerJoin", "OriginateResponse"} <= {
        e.event for e in events
    }
    answered = sum(1 + len(r.events) for r in answers.values())
    assert answered + len(events) == len(messages)


async def test_an_event_carrying_a_waiting_actions_id_is_not_its_answer() -> None:
    """An OriginateResponse ahead of the Originate's own answer stays an event."""
    replies = Replies()
    future = replies.expect("page-1")
    early = AmiMessage({"Event": "OriginateResponse", "ActionID": "page-1", "Response": "Success"})
    assert not replies.take(early)
    assert replies.take(AmiMessage({"Response": "Success", "ActionID": "page-1"}))
    assert future.result().ok


def _sent_blocks(name: str) -> str:
    """The blocks a recorded transcript shows the client sending."""
    text = (TRANSCRIPTS / name).read_text()
    return "\n".join(
        block.split("\n##", 1)[0] for block in re.split(r"\n## >>> sent at [0-9.]+\n", text)[1:]
    )


# --- One link over TCP --------------------------------------------------------------


async def test_login_then_actions_get_their_answers(
    ami: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    """Login with events off, then a Ping answered as Asterisk 22 answers it."""
    caplog.set_level(logging.DEBUG)
    client = AmiClient(settings_for(port_of(ami)))
    try:
        await client.connect()
        assert client.logged_in
        assert client.banner == "Asterisk Call Manager/11.0.0"
        reply = await client.action({"Action": "Ping"})
        assert reply.ok
        assert reply.response.get("Ping") == "Pong"
    finally:
        await client.close()
    login = ami.actions[0]
    assert (login["Action"], login["Username"], login["Events"]) == (["Login"], ["ivr"], ["off"])
    assert len({a["ActionID"][0] for a in ami.actions}) == len(ami.actions)  # unique ids
    assert SECRET not in caplog.text


async def test_refused_login_names_the_user_never_the_secret(
    ami: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    """A wrong secret: AmiLoginRefused naming the user; the secret is in no message or log."""
    wrong = "a-wrong-secret-42"
    settings = settings_for(port_of(ami), secret=wrong)
    client = AmiClient(settings)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AmiLoginRefused, match="refused the login of 'ivr'") as refused:
        await client.connect()
    await client.close()
    assert not client.logged_in
    assert ami.refused == 1
    assert wrong not in str(refused.value)
    assert wrong not in repr(settings)
    assert wrong not in caplog.text


async def test_answers_matched_among_interleaved_events(ami: FakeAmi) -> None:
    """Two actions at once, an event list with events in its middle: each action gets
    its own answer, the events go to the handler in order, once per chunk a batch ends."""
    ami.inside_lists = [
        "Event: Newchannel\nChannel: PJSIP/trunk-1\nUniqueid: 1.1",
        f"Event: QueueCallerJoin\nQueue: {QUEUE}\nUniqueid: 1.1\nPosition: 1\nCount: 1",
    ]
    seen: list[AmiMessage] = []
    batches: list[int] = []
    client = AmiClient(
        settings_for(port_of(ami)),
        events=True,
        on_event=seen.append,
        after_batch=lambda: batches.append(len(seen)),
    )
    try:
        await client.connect()
        status, ping = await asyncio.gather(
            client.action({"Action": "QueueStatus"}), client.action({"Action": "Ping"})
        )
    finally:
        await client.close()
    assert [m.event for m in status.events] == [
        "QueueParams", "QueueMember", "QueueStatusComplete",
    ]  # fmt: skip
    assert status.response.get("EventList") == "start"
    assert ping.response.get("Ping") == "Pong"
    assert [m.event for m in seen] == ["Newchannel", "QueueCallerJoin"]
    assert batches
    assert batches[-1] == len(seen)


async def test_a_handler_that_fails_on_one_event_keeps_the_link(
    ami: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    """An event the handler cannot take is logged; the following ones still arrive."""
    seen: list[str] = []

    def handle(message: AmiMessage) -> None:
        if message.event == "Bad":
            raise KeyError("Queue")
        seen.append(message.event)

    client = AmiClient(settings_for(port_of(ami)), events=True, on_event=handle)
    try:
        await client.connect()
        await ami.emit("Event: Bad", "Event: Good")
        await until(lambda: seen == ["Good"])
        assert (await client.action({"Action": "Ping"})).ok
    finally:
        await client.close()
    assert "a Bad event was not handled" in caplog.text


async def test_an_unanswered_action_times_out_and_the_link_stays_usable(ami: FakeAmi) -> None:
    """No answer within the timeout is a TimeoutError naming the action; the link lives on."""
    client = AmiClient(settings_for(port_of(ami)))
    try:
        await client.connect()
        ami.mute_ping = True
        with pytest.raises(TimeoutError, match=r"Ping not answered within 0\.2 s"):
            await client.action({"Action": "Ping"}, timeout=0.2)
        ami.mute_ping = False
        assert (await client.action({"Action": "Ping"})).ok
    finally:
        await client.close()


async def test_action_without_a_link_fails_at_once(ami: FakeAmi) -> None:
    """Not connected: AmiLinkError (a ConnectionError) without waiting."""
    client = AmiClient(settings_for(port_of(ami)))
    with pytest.raises(AmiLinkError, match="not connected"):
        await client.action({"Action": "Ping"})
    assert issubclass(AmiLinkError, ConnectionError)


def test_a_line_break_in_the_secret_is_refused_before_connecting() -> None:
    """It would end the Login header early: refused, without showing the secret."""
    with pytest.raises(ValueError, match="line break") as refused:
        AmiClient(settings_for(5038, secret="abc\r\nAction: Originate"))
    assert "Originate" not in str(refused.value)


# --- Supervised ---------------------------------------------------------------------


class Hooks:
    """Records what a supervised client reports."""

    def __init__(self) -> None:
        self.logins: list[float] = []
        self.lost: list[tuple[float, str]] = []

    async def on_login(self) -> None:
        """A link is logged in."""
        self.logins.append(time.monotonic())

    async def on_disconnect(self, reason: str) -> None:
        """A logged-in link ended."""
        self.lost.append((time.monotonic(), reason))


async def test_dropped_link_reconnects_after_a_back_off_and_logs_in_again(ami: FakeAmi) -> None:
    """A drop: on_disconnect, the first pause of the back-off, a new login, on_login again."""
    hooks = Hooks()
    client = AmiClient(
        settings_for(port_of(ami)),
        events=True,
        on_login=hooks.on_login,
        on_disconnect=hooks.on_disconnect,
        backoff=Backoff(first=0.3, most=1.0),
        draw=lambda: 0.0,
    )
    client.start()
    try:
        await until(lambda: len(hooks.logins) == 1)
        ami.drop()
        await until(lambda: len(hooks.logins) == 2)
        assert client.logged_in
        assert (await client.action({"Action": "Ping"})).ok
    finally:
        await client.close()
    assert [reason for _at, reason in hooks.lost] == ["closed by Asterisk"]
    assert hooks.logins[1] - hooks.lost[0][0] >= 0.3 - 0.01
    assert ami.logins == 2


async def test_refused_logins_back_off_each_logged_with_the_user_never_the_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each refusal is one ERROR line naming the user; the pauses double up to the most."""
    fake = FakeAmi(secret="the-right-one")
    port = await fake.start()
    wrong = "the-wrong-one-77"
    client = AmiClient(
        settings_for(port, secret=wrong), backoff=Backoff(first=0.05, most=0.2), draw=lambda: 0.0
    )
    caplog.set_level(logging.DEBUG)

    def refusals() -> list[logging.LogRecord]:
        return [r for r in caplog.records if "refused the login of 'ivr'" in r.getMessage()]

    client.start()
    try:
        await until(lambda: len(refusals()) >= 5)
    finally:
        await client.close()
        await fake.close()
    logged = len(refusals())
    assert logged <= fake.refused <= logged + 1  # one may be refused as close() began
    assert all(r.levelno == logging.ERROR for r in refusals())
    gaps = [b - a for a, b in zip(fake.connected_at, fake.connected_at[1:], strict=False)]
    assert all(gap >= want - 0.01 for gap, want in zip(gaps, [0.05, 0.1, 0.2, 0.2], strict=False))
    assert wrong not in caplog.text
    assert fake.violations == []


async def test_unanswered_ping_drops_the_link_and_reconnects(ami: FakeAmi) -> None:
    """A half-open link (Ping never answered) is dropped and replaced by a new login."""
    hooks = Hooks()
    client = AmiClient(
        settings_for(port_of(ami)),
        on_login=hooks.on_login,
        on_disconnect=hooks.on_disconnect,
        ping_interval=0.1,
        ping_timeout=0.2,
        backoff=Backoff(first=0.05, most=0.1),
    )
    client.start()
    try:
        await until(lambda: len(hooks.logins) == 1)
        ami.mute_ping = True
        await until(lambda: len(hooks.lost) == 1)
        ami.mute_ping = False
        await until(lambda: len(hooks.logins) == 2)
    finally:
        await client.close()
    assert hooks.lost[0][1] == "Ping not answered"
    assert ami.accepted == 2


async def test_on_login_failing_drops_the_link_and_retries(ami: FakeAmi) -> None:
    """A login hook that raises (say, Redis down) costs the link; the next login retries it."""
    calls: list[int] = []

    async def on_login() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("Redis is down")

    client = AmiClient(
        settings_for(port_of(ami)), on_login=on_login, backoff=Backoff(first=0.05, most=0.1)
    )
    client.start()
    try:
        await until(lambda: len(calls) == 2)
    finally:
        await client.close()
    assert ami.accepted == 2


async def test_close_is_bounded_and_leaves_no_task(
    ami: FakeAmi, peer: Callable[[bytes | None], Awaitable[int]]
) -> None:
    """Closing while waiting for a banner that never comes, or with a login hook that
    never returns: prompt, and every task of the client has ended."""
    silent = AmiClient(settings_for(await peer(None), timeout=30.0))
    silent.start()
    await asyncio.sleep(0.1)
    stuck_hook_running = asyncio.Event()

    async def stuck() -> None:
        stuck_hook_running.set()
        await asyncio.Event().wait()

    busy = AmiClient(settings_for(port_of(ami)), on_login=stuck)
    busy.start()
    async with asyncio.timeout(5):
        await stuck_hook_running.wait()
    started = time.monotonic()
    await asyncio.gather(silent.close(), busy.close())
    assert time.monotonic() - started < 1.0
    assert client_tasks() == set()


# --- One-shot -----------------------------------------------------------------------


async def test_probe_logs_in_lists_the_actions_and_logs_off(ami: FakeAmi) -> None:
    """Login (events off), ListCommands, Logoff, and nothing else."""
    found = await probe(settings_for(port_of(ami)), timeout=3.0)
    assert found.banner == "Asterisk Call Manager/11.0.0"
    assert {"Originate", "Ping", "QueueStatus"} <= found.actions
    assert "Response" not in found.actions
    assert [a["Action"][0] for a in ami.actions] == ["Login", "ListCommands", "Logoff"]
    assert ami.actions[0]["Events"] == ["off"]
    ami.may_originate = False
    assert "Originate" not in (await probe(settings_for(port_of(ami)), timeout=3.0)).actions


async def test_probe_names_what_a_peer_that_is_not_ami_said(
    peer: Callable[[bytes | None], Awaitable[int]],
) -> None:
    """A web server on the AMI port: NotAmiError naming where and what it said."""
    port = await peer(HTTP_REPLY)
    with pytest.raises(NotAmiError) as not_ami:
        await probe(settings_for(port), timeout=3.0)
    assert str(not_ami.value).startswith(
        f"127.0.0.1:{port} is not an Asterisk Manager Interface: it said b'HTTP/1.1 400"
    )
    assert not_ami.value.said.startswith(b"HTTP/1.1 400 Bad Request")
    closed = await peer(b"")
    with pytest.raises(NotAmiError, match="it said b''"):
        await probe(settings_for(closed), timeout=3.0)


async def test_probe_gives_up_within_its_timeout(
    peer: Callable[[bytes | None], Awaitable[int]],
) -> None:
    """A peer that accepts and says nothing: TimeoutError once the timeout is spent."""
    port = await peer(None)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await probe(settings_for(port, timeout=30.0), timeout=0.3)
    assert time.monotonic() - started < 2.0
    assert client_tasks() == set()


async def test_probe_of_a_closed_port_is_an_os_error() -> None:
    """Nobody listening: the connection error itself (the check calls it unreachable)."""
    with pytest.raises(OSError, match=r"Connect call failed|refused"):
        await probe(settings_for(free_port()), timeout=3.0)


def test_reply_ok_means_success() -> None:
    """Only ``Response: Success`` is ok (Error and Goodbye are not)."""
    assert AmiReply(AmiMessage({"Response": "Success"})).ok
    assert not AmiReply(AmiMessage({"Response": "Error"})).ok
    assert not AmiReply(AmiMessage({"Response": "Goodbye"})).ok
