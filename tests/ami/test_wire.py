"""The AMI wire code: tables of real lines, and the recorded streams replayed in chunks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.ami.wire import (
    MAX_MESSAGE_BYTES,
    AmiParser,
    AmiProtocolError,
    _parse_lines,
    format_action,
    parse_block,
    parse_text,
)
from tests.support.fake_ami import recorded_stream

RECORDINGS = [
    "ami-basic.txt",
    "ami-events.txt",
    "ami-events-close-variant.txt",
    "ami-events-missing-beep.txt",
    "ami-queue-events.txt",
    "ami-queue-events-slow.txt",
]


@pytest.mark.parametrize(
    ("raw", "key", "value"),
    [
        (b"Event: QueueCallerJoin", "Event", "QueueCallerJoin"),
        (b"PausedReason: ", "PausedReason", ""),  # Asterisk sends an empty value so
        (b"EventTV: 2026-11-25T01:42:08.366+0000", "EventTV", "2026-11-25T01:42:08.366+0000"),
        (b"AppData: (Outgoing Line)", "AppData", "(Outgoing Line)"),
        (b"RemoteAddress: IPV4/TCP/127.0.0.1/52798", "RemoteAddress", "IPV4/TCP/127.0.0.1/52798"),
        (b"Value:has:colons", "Value", "has:colons"),
    ],
)
def test_header_lines(raw: bytes, key: str, value: str) -> None:
    """A header keeps everything after the first colon and one space."""
    assert parse_block(raw).headers == {key: value}


def test_channel_variables_are_collected() -> None:
    """Repeated ChanVariable headers (manager.conf channelvars) become a mapping."""
    message = parse_block(
        b"Event: QueueCallerJoin\r\nChanVariable: IVR_TIER=premium\r\n"
        b"ChanVariable: IVR_SLA_DUE=2026-11-25T15:00:00+00:00\r\nUniqueid: 1.2"
    )
    assert message.event == "QueueCallerJoin"
    assert message.variables == {"IVR_TIER": "premium", "IVR_SLA_DUE": "2026-11-25T15:00:00+00:00"}
    assert message.get("Uniqueid") == "1.2"


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    """A byte that is not UTF-8 (a caller name, say) cannot stop the stream."""
    message = parse_block(b"Event: Newchannel\r\nCallerIDName: Jos\xe9")
    assert message.get("CallerIDName") == "Jos\ufffd"


@pytest.mark.parametrize("name", RECORDINGS)
@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 1500, 1 << 20])
def test_recorded_streams_parse_the_same_in_any_chunking(name: str, chunk: int) -> None:
    """Every recorded stream gives the same messages however TCP cuts it."""
    data = recorded_stream(name)
    whole = AmiParser().feed(data)
    parser = AmiParser()
    pieces = []
    for start in range(0, len(data), chunk):
        pieces += parser.feed(data[start : start + chunk])
    assert [m.headers for m in pieces] == [m.headers for m in whole]
    assert parser.banner == "Asterisk Call Manager/11.0.0"
    assert len(whole) == data.count(b"\r\n\r\n")
    assert all("Event" in m.headers or "Response" in m.headers for m in whole)


def test_recorded_queue_events_carry_the_fields_the_board_reads() -> None:
    """The field names the queue board uses are the ones Asterisk 22 sent."""
    messages = AmiParser().feed(recorded_stream("ami-queue-events-slow.txt"))
    by_event = {m.event: m.headers for m in messages if m.event}
    assert {"Queue", "Uniqueid", "Linkedid", "Position", "Count", "CallerIDNum"} <= set(
        by_event["QueueCallerJoin"]
    )
    assert {"Queue", "Uniqueid", "Interface", "MemberName", "HoldTime"} <= set(
        by_event["AgentConnect"]
    )
    assert {"Queue", "Uniqueid", "Position", "Wait", "CallerIDNum"} <= set(by_event["QueueEntry"])
    assert {"Queue", "Interface", "Status", "Paused", "CallsTaken"} <= set(
        by_event["QueueMemberStatus"]
    )


def test_not_a_banner_is_refused() -> None:
    """A peer that is not Asterisk's manager is refused at once."""
    with pytest.raises(AmiProtocolError, match="not an AMI banner"):
        AmiParser().feed(b"SSH-2.0-OpenSSH\r\n")


def test_endless_message_is_refused() -> None:
    """A message that never ends cannot grow the buffer without bound."""
    parser = AmiParser(expect_banner=False)
    parser.feed(b"Event: X\r\n")
    with pytest.raises(AmiProtocolError, match="longer than"):
        for _ in range(MAX_MESSAGE_BYTES // 65536 + 2):
            parser.feed(b"A: " + b"x" * 65536 + b"\r\n")


def test_format_action_with_repeated_headers() -> None:
    """A list value becomes repeated headers, ended by a blank line."""
    data = format_action({"Action": "Originate", "Variable": ["A=1", "B=2"]})
    assert data == b"Action: Originate\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n"


@pytest.mark.parametrize("value", ["x\r\nAction: Logoff", "x\nEvents: off", "x\r"])
def test_format_action_refuses_line_breaks(value: str) -> None:
    """No value can smuggle a second header or action."""
    with pytest.raises(ValueError, match="unsafe"):
        format_action({"Action": "Ping", "ActionID": value})


@given(
    st.lists(
        st.tuples(
            st.text(alphabet="AbC:x \r\n=", max_size=8),
            st.sampled_from([": ", ":", "", ": : "]),
            st.text(alphabet="vW1:= \r\n", max_size=8),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_fast_path_reads_a_block_as_the_line_loop_does(
    lines: list[tuple[str, str, str]],
) -> None:
    """The C-split fast path of ``parse_text`` agrees with the line-by-line reading."""
    text = "\r\n".join(key + sep + value for key, sep, value in lines)
    fast, slow = parse_text(text), _parse_lines(text)
    assert (fast.headers, fast.variables) == (slow.headers, slow.variables)


def test_chan_variables_and_odd_lines_still_read_line_by_line() -> None:
    """A block with ``ChanVariable`` or a line without a colon keeps its full reading."""
    message = parse_text("Event: VarSet\r\nChanVariable: A=1\r\nfree text")
    assert message.variables == {"A": "1"}
    assert message.headers == {"Event": "VarSet", "Output": "free text"}
